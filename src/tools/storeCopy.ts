/**
 * Moves an existing SQLite deployment's data to PostgreSQL: every table, every row, as it is.
 *
 * Usage: npm run store:copy -- --from sqlite:PATH --to postgres://user:password@host:5432/database?sslmode=require
 *
 * Both stores are first brought to their latest schema (as the bot does at start-up). The target must be empty:
 * a database that already holds records is refused, so a copy is never merged into live data nor run twice.
 * The rows go in one transaction: either all of them are copied or none. Timer job leases are not copied
 * (they belong to the processes of the old deployment). Stop the bot on the SQLite file before copying.
 */
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { openPostgresStore } from '../store/postgres';
import { openSqliteStore } from '../store/sqlite';

/** The tables copied, parents before children; the columns are read from the SQLite table. */
export const COPIED_TABLES = [
  'state_items',
  'operations',
  'audit_log',
  'conversation_refs',
  'access_requests',
  'access_request_owners',
  'alerts',
] as const;

/** Columns whose SQLite 0/1 is a PostgreSQL boolean. */
const BOOLEAN_COLUMNS = new Set(['alerts.pending_delivery']);
/** Rows per INSERT statement. */
const BATCH_ROWS = 200;

export class StoreCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCopyError';
  }
}

export interface CopyArguments {
  from: string;
  to: string;
}

export function parseArguments(argv: readonly string[]): CopyArguments {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const from = value('--from');
  const to = value('--to');
  const usage = 'usage: npm run store:copy -- --from sqlite:PATH --to postgres://user:password@host:5432/database';
  if (!from || !from.startsWith('sqlite:') || from.length <= 'sqlite:'.length)
    throw new StoreCopyError(`--from must be sqlite:PATH (${usage})`);
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new StoreCopyError(`--to must be a postgres:// URL (${usage})`);
  return { from: from.slice('sqlite:'.length), to };
}

/**
 * Copies every table of the SQLite store at `sqlitePath` into the empty PostgreSQL database at `url`; returns rows per
 * table.
 */
export async function copySqliteToPostgres(sqlitePath: string, url: string): Promise<Record<string, number>> {
  // Bring both to their latest schema, as the bot does at start-up.
  await openSqliteStore(sqlitePath).close();
  await (await openPostgresStore(url, { poolSize: 1 })).close();

  const source = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const target = new Client({ connectionString: url });
  await target.connect();
  try {
    const held: string[] = [];
    for (const table of COPIED_TABLES) {
      const { rows } = await target.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      if (Number(rows[0].n) > 0) held.push(`${table} (${rows[0].n} rows)`);
    }
    if (held.length > 0) {
      throw new StoreCopyError(
        `The target database is not empty: ${held.join(', ')}. Copy into a new, empty database; nothing was changed.`,
      );
    }
    const copied: Record<string, number> = {};
    await target.query('BEGIN');
    try {
      for (const table of COPIED_TABLES) {
        copied[table] = await copyTable(source, target, table);
      }
      // Later audit entries continue after the copied ones.
      await target.query(
        `SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), GREATEST((SELECT max(seq) FROM audit_log), 1), (SELECT count(*) > 0 FROM audit_log))`,
      );
      await target.query('COMMIT');
    } catch (err) {
      await target.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return copied;
  } finally {
    source.close();
    await target.end();
  }
}

async function copyTable(source: Database.Database, target: Client, table: string): Promise<number> {
  const columns = (source.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
  const hasRowid = table !== 'access_request_owners'; // WITHOUT ROWID
  // Insertion order is kept (ties in listings are broken by it).
  const rows = source
    .prepare(`SELECT ${columns.join(', ')} FROM ${table} ${hasRowid ? 'ORDER BY rowid' : ''}`)
    .raw()
    .all() as unknown[][];
  const convert = columns.map((c) =>
    BOOLEAN_COLUMNS.has(`${table}.${c}`) ? (v: unknown) => (v === null ? null : v === 1) : (v: unknown) => v,
  );
  for (let start = 0; start < rows.length; start += BATCH_ROWS) {
    const batch = rows.slice(start, start + BATCH_ROWS);
    const values: unknown[] = [];
    const tuples = batch.map((row) => `(${row.map((v, i) => `$${values.push(convert[i](v))}`).join(', ')})`);
    await target.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
  }
  return rows.length;
}

async function main(): Promise<void> {
  try {
    const args = parseArguments(process.argv.slice(2));
    const copied = await copySqliteToPostgres(args.from, args.to);
    process.stdout.write(`${JSON.stringify({ copied })}\n`);
  } catch (err) {
    process.stderr.write(`store:copy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  void main();
}
