import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_FLAGS } from '../src/runtime';
import { projectRoot } from '../src/projectRoot';

describe('how Node runs the bot', () => {
  const read = (file: string): string => readFileSync(path.join(projectRoot(), file), 'utf8');

  it('App Service and `npm run bot` start it with the same Node flags as the tests and the benchmark', () => {
    const expected = `node ${NODE_FLAGS.join(' ')} dist/src/index.js`;
    assert.ok((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.bot.endsWith(expected));
    assert.match(
      read('infra/azure.bicep'),
      new RegExp(`appCommandLine: '${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`),
    );
  });

  it('starts without deprecation warnings (restify loads spdy, which reads process.binding: DEP0111)', () => {
    const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', "require('restify')"], {
      cwd: projectRoot(),
      encoding: 'utf8',
    });
    assert.equal(run.status, 0);
    assert.doesNotMatch(run.stderr, /DeprecationWarning/);
  });
});
