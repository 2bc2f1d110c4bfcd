/** SQL helpers of the PostgreSQL stores (node-postgres). */
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { ColumnValue, PatchColumns } from '../values';

/** A pool (each query on any connection, autocommit) or one client inside a transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

export type Values = unknown[];

/** SQLSTATE 23505 unique_violation, optionally on one constraint (index) only. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.code === '23505' &&
    (constraint === undefined || e.constraint === constraint)
  );
}

/**
 * Compiles SQL written with named parameters (`@name`, as the SQLite statements are) into PostgreSQL's
 * numbered ones; the same name is the same number. Returns a function from an object of values to a query.
 */
export function named(sql: string): (params: object) => { text: string; values: Values } {
  const names: string[] = [];
  const text = sql.replace(/@([a-z_][a-z0-9_]*)/g, (_, name: string) => {
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return (params) => {
    const record = params as Record<string, unknown>;
    return { text, values: names.map((name) => record[name]) };
  };
}

export async function queryRows<R extends QueryResultRow>(
  db: Queryable,
  text: string,
  values: Values = [],
): Promise<R[]> {
  return (await db.query<R>(text, values)).rows;
}

export async function queryRow<R extends QueryResultRow>(
  db: Queryable,
  text: string,
  values: Values = [],
): Promise<R | undefined> {
  return (await db.query<R>(text, values)).rows[0];
}

/**
 * `UPDATE table SET <patch columns>, version = version + 1, updated_at = $n WHERE <key> AND version = $m
 * RETURNING *`: only the columns the patch changes are set.
 */
export function patchUpdate(
  table: string,
  patch: PatchColumns<string>,
  key: Record<string, string>,
  expectedVersion: number,
  now: string,
): { text: string; values: Values } {
  const values: Values = [];
  const param = (value: ColumnValue | number): string => `$${values.push(value)}`;
  const set = patch.map(([column, value]) => `${column} = ${param(value)}`);
  set.push('version = version + 1', `updated_at = ${param(now)}`);
  const where = Object.entries(key).map(([column, value]) => `${column} = ${param(value)}`);
  where.push(`version = ${param(expectedVersion)}`);
  return { text: `UPDATE ${table} SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING *`, values };
}

/** Runs `body` in one transaction on one pooled connection: committed when it returns, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
