/**
 * SQLite stores for tests: a new temporary folder for every test, the stores opened on files in it (several on
 * one file, as several bot processes would), worker threads that open their own store on such a file, a random
 * pause that lets concurrent calls interleave, and files at an older schema version. Everything opened is
 * closed, and the folder removed, after each test.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { applyMigrations, migrations } from '../../src/store/sqlite/migrations';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite';
import { ConflictError, type Store } from '../../src/store/store';

export interface SqliteFiles {
  /** The current test's folder. */
  readonly dir: string;
  /** The path of `file` in that folder. */
  path(file: string): string;
  /** Opens a store on `file` in that folder (another one each call); closed after the test. */
  open(file?: string, options?: SqliteStoreOptions): Store;
  /** Two stores on the same `file`, as two processes sharing it would have. */
  openTwo(file?: string): [Store, Store];
  /** Closes `store` after the test as well (for stores opened elsewhere); returns it. */
  track(store: Store): Store;
}

/**
 * Registers beforeEach/afterEach hooks in the current `describe` that give every test an empty folder
 * (os.tmpdir()/<prefix>*), with `defaultFile` as the file open() uses by default.
 */
export function useSqliteFiles(prefix: string, defaultFile = 'store.db'): SqliteFiles {
  let dir: string | undefined;
  const opened: Store[] = [];

  const files: SqliteFiles = {
    get dir() {
      if (dir === undefined) throw new Error('no test folder outside a test');
      return dir;
    },
    path: (file) => join(files.dir, file),
    open: (file = defaultFile, options) => files.track(openSqliteStore(files.path(file), options)),
    openTwo: (file = defaultFile) => [files.open(file), files.open(file)],
    track(store) {
      opened.push(store);
      return store;
    },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) {
      await store.close();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  return files;
}

/** Waits a random moment (next turn of the event loop, or up to 3 ms), so that concurrent calls interleave. */
export const racePause = (): Promise<void> =>
  new Promise((resolve) => (Math.random() < 0.5 ? setImmediate(resolve) : setTimeout(resolve, Math.random() * 3)));

const SQLITE_MODULE = require.resolve('../../src/store/sqlite');

/**
 * Runs `body` in a worker thread: the statements of an async function in which `store` is a store opened on
 * `file` and `workerData` holds `data`. What it returns is the result; the store is closed after it. A throw
 * in the body, or a worker that exits otherwise, rejects.
 */
export function runStoreWorker<T>(file: string, body: string, data: Record<string, unknown> = {}): Promise<T> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { openSqliteStore } = require(workerData.modulePath);
    (async () => {
      const store = openSqliteStore(workerData.file);
      const result = await (async () => {
        ${body}
      })();
      await store.close();
      parentPort.postMessage(result);
    })().catch((err) => { throw err; });
  `;
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { ...data, modulePath: SQLITE_MODULE, file } });
    worker.once('message', (message: T) => resolve(message));
    worker.once('error', reject);
    worker.once('exit', (exitCode) => (exitCode === 0 ? undefined : reject(new Error(`worker exited ${exitCode}`))));
  });
}

/** Asserts that `p` rejects with a ConflictError. */
export async function rejectsConflict(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ConflictError);
}

/** Runs `use` on a plain better-sqlite3 connection to `file` (no store, no migrations) and closes it. */
export function withDatabase<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/**
 * Writes `file` as the store was before the migration named `name`: the schema of the earlier migrations
 * only, with one state item ('k' = {"kept": true}) that must survive the upgrade.
 */
export function fileBeforeMigration(file: string, name: string, now: Date): void {
  withDatabase(file, (db) => {
    const migration = migrations.find((m) => m.name === name);
    assert.ok(migration, `a migration named '${name}'`);
    const previous = migrations.filter((m) => m.id < migration.id);
    assert.deepEqual(applyMigrations(db, previous), { from: 0, to: migration.id - 1 });
    db.prepare(
      "INSERT INTO state_items (key, value, version, updated_at) VALUES ('k', '{\"kept\":true}', 'v1', ?)",
    ).run(now.toISOString());
  });
}
