/**
 * Bulk invitation bench (issue "Invite many guests at once"): 100 new guests into one group, through the job
 * service, the real Graph client and the simulator (in this process; the figures are Graph round trips and wall
 * time, not the bot's CPU).
 * - Round trips: top-level HTTP requests, and sequential waves of them (requests in flight together count once).
 * - Wall time with 50 ms of simulated latency per request (a `$batch` is one request).
 * - 30% throttling (Retry-After 1 s on batch items, PATCHes and reads): wall time ÷ the Retry-After waits that could
 *   not be avoided (one per wave that had a throttled request).
 * Run alone: `node dist/test/bench/bulk.js`; `npm run bench` runs it after the turn benchmarks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGraphClient } from '../../src/graph/client';
import { GraphDirectory } from '../../src/graph/graphDirectory';
import { GraphHttp } from '../../src/graph/graphHttp';
import { BulkInviteService } from '../../src/domain/bulk/bulkJob';
import { counts } from '../../src/domain/bulk/model';
import { openSqliteStore } from '../../src/store/sqlite';
import { createLogger } from '../../src/logging';
import { loadDemoSeed, startSimulator, type RequestLogEntry } from '../../src/simulator';
import type { FaultPlan } from '../../src/simulator/faultPlan';
import { SERVICE_SETTINGS } from '../support/settings';

const OWNER = '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01';
const EXPENSES_APP = '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01';
const EXPENSES_GROUP = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01';
const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';

export interface BulkBenchRun {
  label: string;
  wallMs: number;
  requests: number;
  waves: number;
  throttledWaves: number;
  retryAfterMs: number;
  done: number;
}

/** Groups top-level requests into waves: a request that started before the wave's last one ended joins it. */
function waves(requests: readonly RequestLogEntry[]): RequestLogEntry[][] {
  const sorted = requests.filter((r) => !r.batchId).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const out: RequestLogEntry[][] = [];
  let end = -Infinity;
  for (const r of sorted) {
    const start = Date.parse(r.time);
    if (out.length > 0 && start < end) {
      out[out.length - 1].push(r);
      end = Math.max(end, start + r.durationMs);
    } else {
      out.push([r]);
      end = start + r.durationMs;
    }
  }
  return out;
}

async function run(label: string, faults: FaultPlan, count = 100): Promise<BulkBenchRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-bench-'));
  const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, faults });
  const store = openSqliteStore(path.join(dir, 'bench.sqlite'));
  try {
    const logger = createLogger({ level: 'error', write: () => undefined });
    const client = createGraphClient({ baseUrl: sim.graphBaseUrl, auth: { kind: 'static', token: 'bench' }, logger });
    const directory = new GraphDirectory(new GraphHttp(client));
    const service = new BulkInviteService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      tenantDomains: async () => ({ domains: ['contoso.com'], name: 'Contoso' }),
      transientRetries: 10,
    });
    const addresses = Array.from({ length: count }, (_, i) => `bench.bulk.${i}@adatum.com`);
    const started = Date.now();
    const outcome = await service.run({
      operationId: `bulk:bench:${label}`,
      actor: { tenantId: TENANT, userId: OWNER, displayName: 'Megan Bowen' },
      appId: EXPENSES_APP,
      groupId: EXPENSES_GROUP,
      addresses,
      message: null,
    });
    const wallMs = Date.now() - started;
    if (outcome.kind !== 'bulk') throw new Error(`bench job did not finish: ${outcome.kind}`);
    const log = sim.requests();
    const all = waves(log);
    const throttled = all.filter(
      (w) =>
        w.some((r) => r.status === 429 || r.fault === '429') ||
        log.some((r) => r.batchId && w.some((b) => b.id === r.batchId) && r.status === 429),
    );
    const sent = sim.invitationCounts();
    if (addresses.some((a) => sent[a] !== 1)) throw new Error('bench: an address was not invited exactly once');
    return {
      label,
      wallMs,
      requests: log.filter((r) => !r.batchId).length,
      waves: all.length,
      throttledWaves: throttled.length,
      retryAfterMs: throttled.length * 1000,
      done: counts(outcome.entries).done,
    };
  } finally {
    await sim.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const latency: FaultPlan['rules'] = [
  { path: '/$batch', latencyMs: 50 },
  { path: '*', latencyMs: 50, topLevelOnly: true },
];

export async function bulkBench(): Promise<{
  runs: BulkBenchRun[];
  targets: Record<string, { target: number; value: number; met: boolean }>;
}> {
  const plain = await run('no faults, 50 ms latency', { seed: 1, rules: latency });
  const throttled = await run('30% throttling, 50 ms latency', {
    seed: 3,
    rules: [
      { path: '/$batch', latencyMs: 50 },
      { method: 'POST', path: '/invitations', rate429: 0.3, retryAfterSeconds: 1, inBatchOnly: true },
      { path: '*', rate429: 0.3, retryAfterSeconds: 1, inBatchOnly: true },
      { path: '*', latencyMs: 50, rate429: 0.3, retryAfterSeconds: 1, topLevelOnly: true },
    ],
  });
  const ratio = throttled.wallMs / Math.max(1, throttled.retryAfterMs);
  return {
    runs: [plain, throttled],
    targets: {
      sequentialRoundTrips: { target: 16, value: plain.waves, met: plain.waves <= 16 },
      throttledWallVsRetryAfter: { target: 1.3, value: ratio, met: ratio <= 1.3 },
    },
  };
}

export function printBulkBench(result: Awaited<ReturnType<typeof bulkBench>>): void {
  console.log('\nBulk invitation: 100 new guests into one group (job service, Graph client, simulator)');
  for (const r of result.runs) {
    console.log(
      `  ${r.label.padEnd(30)} wall ${String(r.wallMs).padStart(6)} ms, ${r.requests} requests in ${r.waves} sequential round trips, ` +
        `${r.throttledWaves} throttled (${r.retryAfterMs} ms of Retry-After), ${r.done} added`,
    );
  }
  const t = result.targets;
  console.log(
    `  sequential round trips ${t.sequentialRoundTrips.value} (target ≤ 16: ${t.sequentialRoundTrips.met ? 'met' : 'NOT met'}); wall ÷ Retry-After under throttling ${t.throttledWallVsRetryAfter.value.toFixed(2)}× (target ≤ 1.3: ${t.throttledWallVsRetryAfter.met ? 'met' : 'NOT met'})`,
  );
}

if (require.main === module) {
  bulkBench().then(
    (result) => {
      printBulkBench(result);
      console.log(JSON.stringify({ bench: 'bulk-invite', ...result }));
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
