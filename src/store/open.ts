/** Opens the store the settings name: PostgreSQL when DATABASE_URL is set, otherwise the SQLite file at STORE_PATH. */
import type { Store } from './store';

export interface StoreLocation {
  storePath: string;
  databaseUrl: string | null;
  /** Most PostgreSQL connections this process opens (DATABASE_POOL_MAX). */
  databasePoolMax?: number;
}

export async function openStore(
  location: StoreLocation,
  options: { onPoolError?: (err: Error) => void } = {},
): Promise<Store> {
  // Only the engine in use is loaded (pg, or better-sqlite3).
  if (location.databaseUrl) {
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore(location.databaseUrl, {
      onPoolError: options.onPoolError,
      poolSize: location.databasePoolMax,
    });
  }
  const { openSqliteStore } = await import('./sqlite/index.js');
  return openSqliteStore(location.storePath);
}

/** Where the store is, for logs: the SQLite path, or the PostgreSQL server and database without credentials. */
export function describeStore(location: StoreLocation): { engine: 'sqlite' | 'postgres'; where: string } {
  if (!location.databaseUrl) return { engine: 'sqlite', where: location.storePath };
  const url = new URL(location.databaseUrl);
  return { engine: 'postgres', where: `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}` };
}
