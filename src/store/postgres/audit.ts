/** PostgreSQL: the append-only audit log. */
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  AUDIT_COLUMNS,
  AUDIT_SPEC,
  auditParams,
  auditQuery,
  toAuditEntry,
  type AuditEntry,
  type AuditLog,
  type AuditQuery,
  type AuditRow,
} from '../records/audit';
import { checkDate, checkLimit, type Guard } from '../values';
import { queryRow, queryRows, withTransaction } from './sql';
import { eraseTable, pruneRows } from './erase';
import type { Pool, PoolClient } from 'pg';

const INSERT = `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')})
  VALUES (${AUDIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING seq`;

export class PostgresAuditLog implements AuditLog, RecordModule {
  constructor(
    private readonly db: Pool,
    private readonly guard: Guard,
  ) {}

  async append(entry: AuditEntry): Promise<number> {
    this.guard();
    const params = auditParams(entry);
    const row = await queryRow<{ seq: string }>(
      this.db,
      INSERT,
      AUDIT_COLUMNS.map((c) => params[c]),
    );
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

  readonly tables = ['audit_log'];

  /** Pseudonymises the entries that name the person (the log keeps what happened, not to whom). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { audit_log: await this.maintenance((client) => eraseTable(client, AUDIT_SPEC, subject)) };
  }

  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.audit).toISOString();
    const prune = (client: PoolClient): Promise<number> =>
      pruneRows(client, 'audit_log', 'time COLLATE "C" < $1', [before], checkLimit(limit));
    return { audit_log: await this.maintenance(prune) };
  }

  /** The log refuses changes (trigger) except in a transaction that sets guest_invite.audit_maintenance. */
  private maintenance(body: (client: PoolClient) => Promise<number>): Promise<number> {
    return withTransaction(this.db, async (client) => {
      await client.query("SELECT set_config('guest_invite.audit_maintenance', 'on', true)");
      return body(client);
    });
  }
}
