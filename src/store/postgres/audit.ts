/** PostgreSQL: the append-only audit log. */
import type { AuditEntry, AuditLog, AuditQuery } from '../store';
import { AUDIT_COLUMNS, auditParams, auditQuery } from '../params';
import { toAuditEntry, type AuditRow } from '../rows';
import type { Guard } from '../values';
import { queryRow, queryRows, type Queryable } from './sql';

const INSERT = `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')})
  VALUES (${AUDIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING seq`;

export class PostgresAuditLog implements AuditLog {
  constructor(
    private readonly db: Queryable,
    private readonly guard: Guard,
  ) {}

  async append(entry: AuditEntry): Promise<number> {
    this.guard();
    const params = auditParams(entry);
    const row = await queryRow<{ seq: string }>(this.db, INSERT, AUDIT_COLUMNS.map((c) => params[c]));
    return Number(row?.seq);
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    this.guard();
    const { filters, limit } = auditQuery(query);
    const where = filters.map(([column], i) => `${column} = $${i + 1}`);
    const rows = await queryRows<AuditRow>(
      this.db,
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${filters.length + 1}`,
      [...filters.map(([, value]) => value), limit],
    );
    return rows.map(toAuditEntry);
  }
}
