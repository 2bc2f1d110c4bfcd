/** SQL helpers of the SQLite stores. */
import Database from 'better-sqlite3';
import type { ColumnValue, PatchColumns } from '../values';

export type SqliteValue = string | number | null;

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** better-sqlite3 binds no booleans: they are stored as 0 or 1. */
export function sqliteValue(value: ColumnValue): SqliteValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/**
 * `SET` assignments for a patch in one prepared statement: `column = CASE WHEN @set_column THEN @column ELSE
 * column END` for every column a patch may change, bound by patchParams.
 */
export function patchAssignments(columns: readonly string[]): string {
  return columns.map((c) => `${c} = CASE WHEN @set_${c} THEN @${c} ELSE ${c} END,`).join('\n         ');
}

/** `set_<column>` is 1 when the patch changes the column (to null included), 0 to keep the stored value. */
export function patchParams(columns: readonly string[], patch: PatchColumns<string>): Record<string, SqliteValue> {
  const params: Record<string, SqliteValue> = {};
  for (const column of columns) {
    params[`set_${column}`] = 0;
    params[column] = null;
  }
  for (const [column, value] of patch) {
    params[`set_${column}`] = 1;
    params[column] = sqliteValue(value);
  }
  return params;
}
