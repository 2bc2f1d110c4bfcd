/**
 * One store contract, two engines: `describeEachEngine` runs the same tests against SQLite (a new temporary
 * folder per test) and PostgreSQL (a new schema per test name, on the private test cluster or DATABASE_URL's
 * server; see ./postgres.ts). `open(name)` twice with the same name gives two stores on the same data, as two
 * processes sharing it would have. Everything opened is closed after each test.
 */
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { createDatabase, dropDatabase } from './postgres';
import { useSqliteFiles, type SqliteFiles } from './sqliteStores';

export type Engine = 'SQLite' | 'PostgreSQL';
export const ENGINES: readonly Engine[] = ['SQLite', 'PostgreSQL'];

export interface StoreOptions {
  clock?: () => Date;
}

export interface TestStores {
  readonly engine: Engine;
  /** Opens a store on `name` (a file, or a database of this test); another store each call. */
  open(name?: string, options?: StoreOptions): Promise<Store>;
  /** Two stores on the same `name`, as two processes sharing it would have. */
  openTwo(name?: string): Promise<[Store, Store]>;
  /** Where `name` is: a file path (SQLite) or a database URL (PostgreSQL), created if needed. */
  location(name?: string): Promise<string>;
  /** Closes `store` after the test as well; returns it. */
  track(store: Store): Store;
  /** SQLite's files, for tests of the file itself (throws on PostgreSQL). */
  readonly files: SqliteFiles;
  /** `it` on that engine only (tests of one engine's own machinery); registers nothing on the other. */
  itOn(engine: Engine): Mocha.TestFunction | ((title: string, fn: Mocha.Func) => void);
}

function usePostgresStores(defaultName: string): TestStores {
  const opened: Store[] = [];
  let databases = new Map<string, Promise<string>>();
  const stores: TestStores = {
    engine: 'PostgreSQL',
    get files(): SqliteFiles {
      throw new Error('SQLite files on the PostgreSQL engine');
    },
    itOn: (engine) => (engine === 'PostgreSQL' ? it : () => undefined),
    location: (name = defaultName) => {
      let url = databases.get(name);
      if (!url) {
        url = createDatabase(name);
        databases.set(name, url);
      }
      return url;
    },
    open: async (name = defaultName, options = {}) =>
      stores.track(await openPostgresStore(await stores.location(name), { clock: options.clock, poolSize: 4 })),
    openTwo: async (name = defaultName) => [await stores.open(name), await stores.open(name)],
    track(store) {
      opened.push(store);
      return store;
    },
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) {
      await store.close();
    }
    const urls = [...databases.values()];
    databases = new Map();
    for (const url of urls) {
      await dropDatabase(await url);
    }
  });
  return stores;
}

function useSqliteStores(prefix: string, defaultName: string): TestStores {
  const files = useSqliteFiles(prefix, defaultName);
  return {
    engine: 'SQLite',
    files,
    itOn: (engine) => (engine === 'SQLite' ? it : () => undefined),
    location: async (name = defaultName) => files.path(name),
    open: async (name = defaultName, options) => files.open(name, options),
    openTwo: async (name = defaultName) => files.openTwo(name),
    track: (store) => files.track(store),
  };
}

/** Registers, in the current `describe`, hooks that give each test fresh stores of `engine`. */
export function useStores(engine: Engine, prefix: string, defaultName = 'store.db'): TestStores {
  return engine === 'SQLite' ? useSqliteStores(prefix, defaultName) : usePostgresStores(defaultName);
}

/** `describe(`${engine} ${title}`)` once per engine, with that engine's stores. */
export function describeEachEngine(
  title: string,
  prefix: string,
  body: (stores: TestStores) => void,
  defaultName?: string,
): void {
  for (const engine of ENGINES) {
    describe(`${engine} ${title}`, () => {
      body(useStores(engine, prefix, defaultName));
    });
  }
}
