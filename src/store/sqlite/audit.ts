/** SQLite: the append-only audit log. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  AUDIT_COLUMNS,
  AUDIT_SPEC,
  auditParams,
  auditQuery,
  toAuditEntry,
  type AuditEntry,
  type AuditLog,
  type AuditParams,
  type AuditQuery,
  type AuditRow,
} from '../records/audit';
import { checkDate, checkLimit, type Guard } from '../values';
import { eraseTable, pruneRows } from './erase';

export class SqliteAuditLog implements AuditLog, RecordModule {
  private readonly insertStmt: Database.Statement<[AuditParams]>;
  private readonly listStmts = new Map<string, Database.Statement<unknown[], AuditRow>>();

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
  }

  async append(entry: AuditEntry): Promise<number> {
    this.guard();
    return Number(this.insertStmt.run(auditParams(entry)).lastInsertRowid);
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    this.guard();
    const { filters, limit } = auditQuery(query);
    const stmt = this.listStatement(filters.map(([column]) => column));
    return stmt.all(...filters.map(([, value]) => value), limit).map(toAuditEntry);
  }

  /** One prepared statement per filter combination, so each can use its index. */
  private listStatement(columns: readonly string[]): Database.Statement<unknown[], AuditRow> {
    const id = columns.join(',');
    let stmt = this.listStmts.get(id);
    if (!stmt) {
      const where = columns.map((column) => `${column} = ?`);
      stmt = this.db.prepare<unknown[], AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`,
      );
      this.listStmts.set(id, stmt);
    }
    return stmt;
  }

  readonly tables = ['audit_log'];

  /** Pseudonymises the entries that name the person (the log keeps what happened, not to whom). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { audit_log: this.maintenance(() => eraseTable(this.db, AUDIT_SPEC, subject)) };
  }

  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.audit).toISOString();
    return {
      audit_log: this.maintenance(() => pruneRows(this.db, 'audit_log', 'time < ?', [before], checkLimit(limit))),
    };
  }

  /** The log refuses changes (triggers) except inside a transaction that holds the audit_maintenance row. */
  private maintenance(body: () => number): number {
    return this.db
      .transaction(() => {
        this.db.prepare('INSERT INTO audit_maintenance (id) VALUES (1)').run();
        const changed = body();
        this.db.prepare('DELETE FROM audit_maintenance').run();
        return changed;
      })
      .immediate();
  }
}
