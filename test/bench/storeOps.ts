/**
 * Store operations per second, through the store port, for each engine available: SQLite always; PostgreSQL when
 * DATABASE_URL is set and this build has a PostgreSQL adapter (src/store/postgres*.ts exporting
 * `openPostgresStore(url)`, the hook below).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';

export interface StoreOpsResult {
  engine: string;
  /** Operations per second, by kind; or why the engine was not measured. */
  opsPerSecond: Record<string, number> | null;
  note?: string;
}

type Opener = (url: string) => Promise<Store> | Store;

/** The PostgreSQL adapter's opener, when this build has one. */
function postgresOpener(): Opener | undefined {
  for (const file of ['postgres.js', 'postgres/index.js']) {
    const candidate = path.join(__dirname, '..', '..', 'src', 'store', file);
    if (!existsSync(candidate)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(candidate) as { openPostgresStore?: Opener };
    if (typeof module.openPostgresStore === 'function') return module.openPostgresStore;
  }
  return undefined;
}

/** True when this build has a PostgreSQL store adapter (then DATABASE_URL is also given to the bot processes). */
export function postgresAvailable(): boolean {
  return postgresOpener() !== undefined;
}

async function rate(ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let i = 0;
  const started = performance.now();
  while (performance.now() - started < ms) await op(i++);
  return (i * 1000) / (performance.now() - started);
}

async function measure(store: Store, ms: number): Promise<Record<string, number>> {
  const run = `${process.pid}-${Date.now()}`;
  const now = new Date();
  const reference = { bot: { id: '28:bench' }, conversation: { id: 'a:1bench' }, serviceUrl: 'https://smba.test/', channelId: 'msteams', user: { id: '29:bench' } };
  return {
    'state write': await rate(ms, (i) => store.state.write(`bench/${run}/${i % 64}`, { n: i, text: 'x'.repeat(200) })),
    'state read': await rate(ms, (i) => store.state.read([`bench/${run}/${i % 64}`])),
    'marker insert': await rate(ms, (i) => store.state.write(`activity/bench/${run}/${i}`, { at: now.toISOString() }, null)),
    'reference upsert (same)': await rate(ms, () => store.conversations.upsert('bench', `user-${run}`, reference, new Date())),
    'audit append': await rate(ms, (i) => store.audit.append({ time: now.toISOString(), tenantId: 'bench', actorId: `user-${run}`, action: 'bench', outcome: 'ok', detail: String(i) })),
  };
}

export async function storeOps(dir: string, ms: number): Promise<StoreOpsResult[]> {
  const results: StoreOpsResult[] = [];
  const sqlite = openSqliteStore(path.join(dir, 'store-ops.sqlite'));
  try {
    results.push({ engine: 'SQLite', opsPerSecond: await measure(sqlite, ms) });
  } finally {
    await sqlite.close();
  }
  const url = process.env.DATABASE_URL;
  const openPostgres = postgresOpener();
  if (!url) results.push({ engine: 'PostgreSQL', opsPerSecond: null, note: 'not measured: DATABASE_URL is not set' });
  else if (!openPostgres) results.push({ engine: 'PostgreSQL', opsPerSecond: null, note: 'not measured: this build has no PostgreSQL store adapter' });
  else {
    const pg = await openPostgres(url);
    try {
      results.push({ engine: 'PostgreSQL', opsPerSecond: await measure(pg, ms) });
    } finally {
      await pg.close();
    }
  }
  return results;
}
