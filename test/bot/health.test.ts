/**
 * Health: /health/live answers without probing anything; /health/ready (and /healthz, App Service's health check)
 * probe the store and a Graph token at most once per few seconds, call no Graph API, and answer ok true/false
 * per check with no error text (the reason is logged).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBot, type RunningBot } from '../../src/index';
import { loadSettings } from '../../src/config';
import { createLogger, silentLogger } from '../../src/logging';
import { createReadiness } from '../../src/bot/health';
import { createServer, listen } from '../../src/bot/server';
import { loadDemoSeed, startSimulator, type RunningSimulator } from '../../src/simulator';
import type { CloudAdapter, ActivityHandler } from 'botbuilder';

describe('health endpoints', () => {
  let dir: string;
  let bot: RunningBot | undefined;
  let sim: RunningSimulator | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'health-'));
  });
  afterEach(async () => {
    await bot?.stop(1_000);
    await sim?.close();
    bot = undefined;
    sim = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('/healthz and /health/ready call no Graph API however often they are asked; /health/live probes nothing', async () => {
    sim = await startSimulator({ seed: loadDemoSeed(), port: 0, token: 'health-token' });
    const settings = loadSettings({
      PORT: '0',
      STORE_PATH: path.join(dir, 'bot.sqlite'),
      GRAPH_BASE_URL: sim.graphBaseUrl,
      GRAPH_STATIC_TOKEN: 'health-token',
    });
    const lines: string[] = [];
    bot = await startBot(
      { ...settings, alerts: { ...settings.alerts, scanIntervalMs: 3_600_000 } },
      createLogger({ write: (l) => lines.push(l) }),
    );
    // The start-up setup scan calls Graph once, two seconds in: wait for it to end before counting.
    while (!lines.some((l) => /"event":"(setup\.scanned|setup\.scan\.failed)"/.test(l)))
      await new Promise((resolve) => setTimeout(resolve, 50));
    sim.clearRequests();
    for (const route of ['/healthz', '/health/ready', '/healthz', '/health/ready', '/healthz']) {
      const response = await fetch(`${bot.url}${route}`);
      assert.equal(response.status, 200, route);
      assert.deepEqual(await response.json(), { status: 'ok', checks: { store: { ok: true }, graph: { ok: true } } });
    }
    const live = await fetch(`${bot.url}/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(
      sim.requests().map((r) => `${r.method} ${r.url}`),
      [],
      'no Graph request from health checks',
    );
  });

  it('a failing check answers 503 with ok:false and no error text; the reason goes to the log only', async () => {
    const logs: string[] = [];
    const logger = createLogger({ write: (line) => logs.push(line) });
    const secretish = 'password authentication failed for user "guestinvite" at gi-pg.postgres.database.azure.com';
    const health = createReadiness({
      logger,
      probes: {
        store: () => Promise.reject(new Error(secretish)),
        graph: () => Promise.reject(new Error('AADSTS7000215: Invalid client secret')),
      },
    });
    const adapter = { process: async () => undefined } as unknown as CloudAdapter;
    const host = createServer({ adapter, bot: {} as ActivityHandler, logger, health });
    const url = await listen(host.server, 0, '127.0.0.1');
    try {
      for (const route of ['/healthz', '/health/ready']) {
        const response = await fetch(`${url}${route}`);
        assert.equal(response.status, 503);
        const text = await response.text();
        assert.deepEqual(JSON.parse(text), {
          status: 'unavailable',
          checks: { store: { ok: false }, graph: { ok: false } },
        });
        assert.doesNotMatch(text, /password|postgres|AADSTS|secret/i);
      }
      assert.equal((await fetch(`${url}/health/live`)).status, 200, 'the process answers');
      assert.ok(
        logs.some((l) => l.includes('health.check.failed') && l.includes('AADSTS7000215')),
        'the reason is logged',
      );
    } finally {
      await new Promise<void>((resolve) => host.server.close(() => resolve()));
    }
  });

  it('probes at most once per ttl; callers in between share the answer', async () => {
    let now = 0;
    let probes = 0;
    const health = createReadiness({
      logger: silentLogger,
      ttlMs: 5_000,
      now: () => now,
      probes: { store: async () => void probes++ },
    });
    await Promise.all([health(), health(), health()]);
    now = 4_999;
    await health();
    assert.equal(probes, 1);
    now = 5_000;
    await health();
    assert.equal(probes, 2);
  });
});
