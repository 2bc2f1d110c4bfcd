/**
 * Store operations per second, through the store port, for each engine: SQLite always; PostgreSQL at the URL the
 * bench gives (DATABASE_URL, or a private cluster it started), unless none could be had.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../../src/store/sqlite';
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';

export interface StoreOpsResult {
  engine: string;
  /** Operations per second, by kind; or why the engine was not measured. */
  opsPerSecond: Record<string, number> | null;
  note?: string;
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
  const reference = {
    bot: { id: '28:bench' },
    conversation: { id: 'a:1bench' },
    serviceUrl: 'https://smba.test/',
    channelId: 'msteams',
    user: { id: '29:bench' },
  };
  return {
    'state write': await rate(ms, (i) => store.state.write(`bench/${run}/${i % 64}`, { n: i, text: 'x'.repeat(200) })),
    'state read': await rate(ms, (i) => store.state.read([`bench/${run}/${i % 64}`])),
    'marker insert': await rate(ms, (i) =>
      store.state.write(`activity/bench/${run}/${i}`, { at: now.toISOString() }, null),
    ),
    'reference upsert (same)': await rate(ms, () =>
      store.conversations.upsert('bench', `user-${run}`, reference, new Date()),
    ),
    'audit append': await rate(ms, (i) =>
      store.audit.append({
        time: now.toISOString(),
        tenantId: 'bench',
        actorId: `user-${run}`,
        action: 'bench',
        outcome: 'ok',
        detail: String(i),
      }),
    ),
  };
}

export async function storeOps(
  dir: string,
  ms: number,
  postgres: { url: string | null; why: string },
): Promise<StoreOpsResult[]> {
  const results: StoreOpsResult[] = [];
  const sqlite = openSqliteStore(path.join(dir, 'store-ops.sqlite'));
  try {
    results.push({ engine: 'SQLite', opsPerSecond: await measure(sqlite, ms) });
  } finally {
    await sqlite.close();
  }
  if (!postgres.url) results.push({ engine: 'PostgreSQL', opsPerSecond: null, note: `not measured: ${postgres.why}` });
  else {
    const pg = await openPostgresStore(postgres.url);
    try {
      results.push({ engine: 'PostgreSQL', opsPerSecond: await measure(pg, ms) });
    } finally {
      await pg.close();
    }
  }
  return results;
}
