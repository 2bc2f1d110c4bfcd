/**
 * PostgreSQL for tests. With DATABASE_URL set, its server is used. Otherwise one private cluster is started
 * for the whole mocha run, on first use: Debian's PostgreSQL binaries (`/usr/lib/postgresql/<n>/bin`), `initdb`
 * into a temporary folder, a free port on 127.0.0.1 and a socket folder of its own, run by an unprivileged user
 * when the tests run as root (PostgreSQL refuses root). The root hook below stops it at the end of the run.
 * Every caller gets databases of its own (`createDatabase`). A test that cannot reach PostgreSQL fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/dev/processes';

interface Cluster {
  /** postgres://… of the server, without a database name. */
  baseUrl: string;
  stop(): void;
}

let cluster: Promise<Cluster> | null = null;
let running: Cluster | null = null;
let counter = 0;

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL is not installed (no ${root}/*/bin/initdb): apt-get install -y postgresql, or set DATABASE_URL`,
    );
  }
  return join(root, versions[0], 'bin');
}

/** The user that runs the server: ourselves, or when we are root, `postgres` (Debian's) or else `nobody`. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0)
      return { name, uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('Running as root and found no unprivileged user (postgres or nobody) to run PostgreSQL');
}

async function startCluster(): Promise<Cluster> {
  const bin = binDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'guest-invite-pg-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'socket');
  const port = await freePort();
  const run = (tool: string, args: string[]): void => {
    const command = user ? 'runuser' : join(bin, tool);
    const argv = user ? ['-u', user.name, '--', join(bin, tool), ...args] : args;
    execFileSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  if (user) chownSync(dir, user.uid, user.gid);
  execFileSync('mkdir', ['-p', socket]);
  if (user) chownSync(socket, user.uid, user.gid);
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync']);
  const settings = `-p ${port} -k ${socket} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  run('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    baseUrl: `postgres://postgres@127.0.0.1:${port}`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The server's URL without a database (DATABASE_URL's server, or the private cluster, started on first use). */
export async function postgresServerUrl(): Promise<string> {
  const given = process.env.DATABASE_URL?.trim();
  if (given) {
    const url = new URL(given);
    url.pathname = '/';
    return url.toString().replace(/\/$/, '');
  }
  cluster ??= startCluster().then((c) => (running = c));
  return (await cluster).baseUrl;
}

let sharedDatabase: Promise<string> | null = null;

/**
 * A fresh, empty place for a store of the caller's own; returns its URL. It is a schema of its own in one
 * database made for this run (creating a schema takes milliseconds, a database a third of a second): the URL
 * sets the connection's `search_path` to it, so the store's tables, and its migrations, live there.
 */
export async function createDatabase(label = 'test'): Promise<string> {
  const base = await postgresServerUrl();
  sharedDatabase ??= (async () => {
    const name = `gi_test_${process.pid}`;
    await withPgClient(`${base}/postgres`, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${name}`).then(() => client.query(`CREATE DATABASE ${name}`)),
    );
    return `${base}/${name}`;
  })();
  const database = await sharedDatabase;
  const schema = `s${++counter}_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63);
  await withPgClient(database, (client) => client.query(`CREATE SCHEMA ${schema}`));
  return `${database}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Drops what createDatabase made (its schema and everything in it). */
export async function dropDatabase(url: string): Promise<void> {
  const schema = /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(new URL(url).search))?.[1];
  if (schema) await withPgClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/** Runs `use` on a plain client connected to `url` (no store, no migrations) and closes it. */
export async function withPgClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Stops the private cluster (root hook, and at exit in case the run ends otherwise). */
export function stopPostgres(): void {
  running?.stop();
  running = null;
}

process.once('exit', stopPostgres);

/** Mocha root hooks (loaded through .mocharc.json `require`). */
export const mochaHooks = {
  afterAll(): void {
    stopPostgres();
  },
};
