/** PostgreSQL: erasure of one table by its spec, and bounded retention deletes (see ../erasure.ts). */
import {
  likePattern,
  needles,
  planRow,
  searchedColumns,
  type ErasureSubject,
  type RowValue,
  type TableSpec,
} from '../erasure';
import type { Queryable, Values } from './sql';

/** Deletes or pseudonymises every row of `spec.table` that mentions the subject; returns how many rows changed. */
export async function eraseTable(db: Queryable, spec: TableSpec, subject: ErasureSubject): Promise<number> {
  const list = needles(subject);
  if (list.length === 0) return 0;
  const values: Values = [];
  const param = (v: unknown): string => `$${values.push(v)}`;
  const tenant = spec.tenantColumn ? `${spec.tenantColumn} = ${param(subject.tenantId)} AND ` : '';
  const patterns = list.map((n) => param(likePattern(n)));
  const conditions = searchedColumns(spec).flatMap((c) => patterns.map((p) => `${c}::text ILIKE ${p} ESCAPE '\\'`));
  const search = `SELECT * FROM ${spec.table} WHERE ${tenant}(${conditions.join(' OR ')})`;
  const { rows } = await db.query<Record<string, RowValue>>(search, values);
  let changed = 0;
  for (const row of rows) {
    const keyValues = spec.key.map((k) => row[k]);
    const plan = planRow(spec, row, subject);
    if (plan.kind === 'none') continue;
    const set = plan.kind === 'update' ? plan.set : [];
    const where = spec.key.map((k, i) => `${k} = $${set.length + i + 1}`).join(' AND ');
    const assignments = [...set.map(([c], i) => `${c} = $${i + 1}`), ...newVersion(spec)].join(', ');
    const text =
      plan.kind === 'delete'
        ? `DELETE FROM ${spec.table} WHERE ${where}`
        : `UPDATE ${spec.table} SET ${assignments} WHERE ${where}`;
    const result = await db.query(text, [...set.map(([, v]) => v), ...keyValues]);
    changed += result.rowCount ?? 0;
  }
  return changed;
}

function newVersion(spec: TableSpec): string[] {
  if (spec.version === 'counter') return ['version = version + 1'];
  if (spec.version === 'token') return ['version = md5(random()::text || clock_timestamp()::text)'];
  return [];
}

/** Deletes at most `limit` rows of `table` matching `condition` ($1… are `params`); returns how many. */
export async function pruneRows(
  db: Queryable,
  table: string,
  condition: string,
  params: Values,
  limit: number,
): Promise<number> {
  const result = await db.query(
    `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${condition} LIMIT $${params.length + 1})`,
    [...params, limit],
  );
  return result.rowCount ?? 0;
}
