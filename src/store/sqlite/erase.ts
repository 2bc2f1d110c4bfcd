/** SQLite: erasure of one table by its spec, and bounded retention deletes (see ../erasure.ts). */
import type Database from 'better-sqlite3';
import {
  likePattern,
  needles,
  planRow,
  searchedColumns,
  type ErasureSubject,
  type RowValue,
  type TableSpec,
} from '../erasure';
import type { SqliteValue } from './sql';

/**
 * Deletes or pseudonymises every row of `spec.table` that mentions the subject; returns how many rows changed.
 * Runs synchronously: call it inside the caller's transaction.
 */
export function eraseTable(db: Database.Database, spec: TableSpec, subject: ErasureSubject): number {
  const list = needles(subject);
  if (list.length === 0) return 0;
  const columns = searchedColumns(spec);
  const conditions = columns.flatMap((c) => list.map(() => `CAST(${c} AS TEXT) LIKE ? ESCAPE '\\'`));
  const params: SqliteValue[] = columns.flatMap(() => list.map(likePattern));
  const tenant = spec.tenantColumn ? `${spec.tenantColumn} = ? AND ` : '';
  if (spec.tenantColumn) params.unshift(subject.tenantId);
  const search = `SELECT * FROM ${spec.table} WHERE ${tenant}(${conditions.join(' OR ')})`;
  const rows = db.prepare<SqliteValue[], Record<string, RowValue>>(search).all(...params);
  const where = spec.key.map((k) => `${k} = ?`).join(' AND ');
  let changed = 0;
  for (const row of rows) {
    const keyValues = spec.key.map((k) => row[k] as SqliteValue);
    const plan = planRow(spec, row, subject);
    if (plan.kind === 'delete') {
      changed += db.prepare(`DELETE FROM ${spec.table} WHERE ${where}`).run(...keyValues).changes;
    } else if (plan.kind === 'update') {
      const set = [...plan.set.map(([c]) => `${c} = ?`), ...newVersion(spec)].join(', ');
      const values = [...plan.set.map(([, v]) => v), ...keyValues];
      changed += db.prepare(`UPDATE ${spec.table} SET ${set} WHERE ${where}`).run(...values).changes;
    }
  }
  return changed;
}

function newVersion(spec: TableSpec): string[] {
  if (spec.version === 'counter') return ['version = version + 1'];
  if (spec.version === 'token') return ['version = lower(hex(randomblob(16)))'];
  return [];
}

/** Deletes at most `limit` rows of `table` matching `condition` (oldest rowids first); returns how many. */
export function pruneRows(
  db: Database.Database,
  table: string,
  condition: string,
  params: SqliteValue[],
  limit: number,
): number {
  const oldest = `SELECT rowid FROM ${table} WHERE ${condition} ORDER BY rowid LIMIT ?`;
  return db.prepare(`DELETE FROM ${table} WHERE rowid IN (${oldest})`).run(...params, limit).changes;
}
