/** Where durable records go: the SQLite file (STORE_PATH) or PostgreSQL (DATABASE_URL) and its pool. */
import path from 'node:path';
import { ConfigError, positiveInteger, read, type Env } from './parse';

export interface StoreSettings {
  /** SQLite file (STORE_PATH), used when `databaseUrl` is null. */
  storePath: string;
  /** PostgreSQL (DATABASE_URL, postgres://…): every durable record goes there and nothing to local files. */
  databaseUrl: string | null;
  /**
   * Most PostgreSQL connections per instance (DATABASE_POOL_MAX, default 10): instances × this, plus the overlap of
   * a restart, must stay under the server's limit (Burstable B1ms: 35 user connections).
   */
  databasePoolMax: number;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/** DATABASE_URL: a postgres:// (or postgresql://) URL naming a host and a database, or unset. */
function databaseUrl(env: Env): string | null {
  const raw = read(env, 'DATABASE_URL');
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      'must be a URL like postgres://user:password@host:5432/database?sslmode=require',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got '${url.protocol}//…'`);
  }
  if (!url.hostname)
    throw new ConfigError(
      'DATABASE_URL',
      'must name the database server (postgres://user:password@host:5432/database)',
    );
  if (url.pathname.length <= 1)
    throw new ConfigError(
      'DATABASE_URL',
      'must name the database after the host (postgres://user:password@host:5432/database)',
    );
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    throw new ConfigError('DATABASE_URL', `has an unknown sslmode '${sslmode}'`);
  }
  return raw;
}

export function storeSettings(env: Env): StoreSettings {
  return {
    storePath: path.resolve(read(env, 'STORE_PATH') ?? './.data/bot.sqlite'),
    databaseUrl: databaseUrl(env),
    databasePoolMax: positiveInteger(env, 'DATABASE_POOL_MAX', 10),
  };
}
