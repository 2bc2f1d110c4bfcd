/**
 * `npm start`: runs the bot (dist/src/index.js) and the Microsoft 365 Agents Playground in front of it,
 * so that you can chat with Guest Invite in a browser as the demo tenant's Megan Bowen.
 *
 * The npm script builds first; this file builds nothing. The process helpers are in ./processes.ts and the
 * Playground in ./playground.ts (the end-to-end tests reuse both). It must not import anything from src/bot or
 * src/domain.
 */
import fs from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../projectRoot';
import { NODE_FLAGS } from '../runtime';
import { playgroundLogFile, startPlayground, type RunningPlayground } from './playground';
import { describeExit, isPortFree, startProcess, waitForHttp, type ManagedProcess } from './processes';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a port number, got '${raw}'`);
  return value;
}

function forward(prefix: string) {
  return (line: string, stream: 'stdout' | 'stderr') => {
    (stream === 'stderr' ? process.stderr : process.stdout).write(`${prefix} ${line}\n`);
  };
}

/** Why `npm start` cannot start now (the bot is not built, a port is busy), or null. */
async function cannotStart(botEntry: string, botPort: number, playgroundPort: number): Promise<string | null> {
  if (!fs.existsSync(botEntry))
    return `${path.relative(projectRoot(), botEntry)} is missing: run \`npm run build\` first (npm start does).`;
  if (!(await isPortFree(botPort))) return `port ${botPort} is busy: stop what uses it, or set PORT to another port.`;
  if (!(await isPortFree(playgroundPort)))
    return `port ${playgroundPort} is busy (another Playground?): stop it, or set PLAYGROUND_PORT to another port.`;
  return null;
}

/** The bot and the Playground, stopped together (on a signal, or when either exits). */
class Started {
  playground: RunningPlayground | undefined;
  stopping = false;

  constructor(readonly bot: ManagedProcess) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.log(`[start] ${signal}: stopping the bot and the Playground`);
        void this.stopAll().then(() => process.exit(0));
      });
    }
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.playground?.stop(), this.bot.stop()]);
  }
}

async function main(): Promise<number> {
  const root = projectRoot();
  const botPort = portFromEnv('PORT', 3978);
  const playgroundPort = portFromEnv('PLAYGROUND_PORT', 56150);
  const botEntry = path.join(root, 'dist', 'src', 'index.js');
  const problem = await cannotStart(botEntry, botPort, playgroundPort);
  if (problem) {
    console.error(`[start] ${problem}`);
    return 1;
  }

  console.log(`[start] starting the bot on port ${botPort}`);
  const started = new Started(
    startProcess('bot', process.execPath, [...NODE_FLAGS, botEntry], {
      cwd: root,
      env: { LOG_FORMAT: 'pretty', ...process.env, PORT: String(botPort) },
      onLine: forward('[bot]'),
    }),
  );
  const { bot } = started;
  let playground: RunningPlayground;
  try {
    await waitForHttp(`http://127.0.0.1:${botPort}/healthz`, { timeoutMs: 60_000, process: bot });
    console.log(`[start] the bot is up; starting the Playground on port ${playgroundPort}`);
    playground = started.playground = await startPlayground({
      botEndpoint: `http://127.0.0.1:${botPort}/api/messages`,
      port: playgroundPort,
      configPath: path.join(root, '.m365agentsplayground.yml'),
      onLine: forward('[playground]'),
    });
  } catch (error) {
    if (started.stopping) return 0;
    console.error(`[start] ${(error as Error).message}`);
    await started.stopAll();
    return 1;
  }

  console.log(`[start] the Playground writes its log (each activity, each error) to ${playgroundLogFile({})}`);
  console.log(`Open ${playground.url} to chat with Guest Invite as Megan Bowen (demo tenant)`);
  const first = await Promise.race([
    bot.exited.then((exit) => ({ proc: bot, exit })),
    playground.process.exited.then((exit) => ({ proc: playground.process, exit })),
  ]);
  if (started.stopping) return 0;
  console.error(`[start] ${first.proc.name} ${describeExit(first.exit)}; stopping everything`);
  await started.stopAll();
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`[start] ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
