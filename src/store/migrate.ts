/**
 * The one migration shape every engine uses. Each engine has its own list of versioned migrations
 * (`sqlite/migrations.ts`, `postgres/migrations.ts`) and applies them at start-up the same way:
 * - ids are strictly increasing integers starting at 1; the id of the last one applied is the schema version;
 * - only migrations above the stored version run, all in one transaction that no other process can run at the
 *   same time (SQLite: an immediate transaction; PostgreSQL: under an advisory lock);
 * - a database written by a newer version of the application (a version above every id known) is refused.
 *
 * Never edit a migration that has shipped: append a new one.
 */

export interface Migration {
  /** Strictly increasing, starting at 1. */
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** Thrown at open when the database was written by a newer version of the application. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `Store schema version ${found} is newer than this application supports (${known}); ` +
        'run a newer version of the application or use another database',
    );
    this.name = 'SchemaTooNewError';
  }
}

export function latestVersion(list: readonly Migration[]): number {
  return list.length === 0 ? 0 : list[list.length - 1].id;
}

export function checkMigrations(list: readonly Migration[]): void {
  let previous = 0;
  for (const m of list) {
    if (!Number.isInteger(m.id) || m.id <= previous) {
      throw new Error(`Migration ids must be strictly increasing positive integers (found ${m.id} after ${previous})`);
    }
    previous = m.id;
  }
}

/** The migrations to apply on a database at schema version `from`; throws when `from` is newer than `list`. */
export function pendingMigrations(list: readonly Migration[], from: number): Migration[] {
  checkMigrations(list);
  const known = latestVersion(list);
  if (from > known) {
    throw new SchemaTooNewError(from, known);
  }
  return list.filter((m) => m.id > from);
}
