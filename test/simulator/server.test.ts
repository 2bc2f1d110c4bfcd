import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { loadDemoSeed, startSimulator } from '../../src/simulator';
import { Client, ids, start } from './helpers';

describe('simulator server', () => {
  it('keeps a request log, with bodies only when asked to', async () => {
    const c = await start();
    const before = Date.now();
    await c.get(`/groups/${ids.group(1)}?$select=id`);
    await c.post(`/groups/${ids.group(3)}/members/$ref`, {
      '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.sam}`,
    });
    const log = c.sim.requests();
    assert.equal(log.length, 2);
    assert.equal(log[0].method, 'GET');
    assert.equal(log[0].url, `/v1.0/groups/${ids.group(1)}?$select=id`);
    assert.equal(log[0].status, 200);
    assert.ok(Date.parse(log[0].time) >= before - 1000);
    assert.ok(log[0].durationMs >= 0);
    assert.match(log[0].requestId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(log[0].responseBody, {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#groups(id)/$entity`,
      id: ids.group(1),
    });
    assert.deepEqual(log[1].requestBody, {
      '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.sam}`,
    });
    assert.equal(log[1].status, 204);
    assert.equal(log[1].responseBody, undefined);
    c.sim.clearRequests();
    assert.deepEqual(c.sim.requests(), []);
    await c.sim.close();

    const quiet = await startSimulator({ seed: loadDemoSeed(), port: 0 });
    await new Client(quiet).get('/organization');
    assert.equal(quiet.requests()[0].responseBody, undefined);
    await quiet.close();
  });

  it('serves /_simulator/requests and /_simulator/health outside /v1.0, unlogged and without a token', async () => {
    const c = await start();
    await c.get('/organization?$select=id');
    const health = await fetch(`${c.sim.url}/_simulator/health`);
    assert.equal(health.status, 200);
    const listed = (await (await fetch(`${c.sim.url}/_simulator/requests`)).json()) as {
      requests: Array<{ url: string }>;
    };
    assert.deepEqual(
      listed.requests.map((r) => r.url),
      ['/v1.0/organization?$select=id'],
    );
    const cleared = await fetch(`${c.sim.url}/_simulator/requests`, { method: 'DELETE' });
    assert.equal(cleared.status, 204);
    assert.deepEqual(c.sim.requests(), []);
    await c.sim.close();
  });

  it('answers malformed JSON bodies with 400 BadRequest', async () => {
    const c = await start();
    const r = await c.call('POST', '/invitations', {
      raw: '{"invitedUserEmailAddress":',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'BadRequest');
    await c.sim.close();
  });

  it('listens on the given host and a free port, and reports its URLs', async () => {
    const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, host: '127.0.0.1' });
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(sim.graphBaseUrl, `${sim.url}/v1.0`);
    await sim.close();
  });

  it('CLI prints one ready line and stops on SIGTERM', async function () {
    this.timeout(15000);
    const main = path.resolve(__dirname, '../../src/simulator/main.js');
    const child = spawn(process.execPath, [main, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited early with ${String(code)}`)));
    });
    const m = /^Graph tenant simulator listening on (http:\/\/127\.0\.0\.1:\d+\/v1\.0) \(tenant: Contoso\)$/.exec(
      first,
    );
    assert.ok(m, first);
    const r = await fetch(`${m[1]}/organization?$select=displayName`, { headers: { Authorization: 'Bearer x' } });
    assert.equal(((await r.json()) as { value: Array<{ displayName: string }> }).value[0].displayName, 'Contoso');
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });

  it('CLI fails with a clear message for a bad tenant file', async () => {
    const main = path.resolve(__dirname, '../../src/simulator/main.js');
    const child = spawn(process.execPath, [main, '--tenant', '/nonexistent/tenant.json', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /Tenant seed \/nonexistent\/tenant\.json: cannot read file/);
  });
});
