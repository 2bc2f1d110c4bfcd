/** SQLite: the outbox of proactive messages and their leases. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  OUTBOX_DUE_SQL,
  OUTBOX_GET_SQL,
  OUTBOX_INSERT_SQL,
  OUTBOX_LEASE_SQL,
  OUTBOX_NEXT_SQL,
  OUTBOX_SPEC,
  OUTBOX_UPDATE_SQL,
  outboxDueParams,
  outboxInsertParams,
  outboxLeaseParams,
  outboxUpdateParams,
  toOutboxRecord,
  type NewOutboxMessage,
  type OutboxAttempt,
  type OutboxInsertParams,
  type OutboxLeaseParams,
  type OutboxRecord,
  type OutboxRow,
  type OutboxStore,
  type OutboxUpdateParams,
} from '../records/outbox';
import { versionConflict } from '../store';
import { checkDate, checkLimit, checkString, type BigIntColumn, type Guard } from '../values';
import { eraseTable, pruneRows } from './erase';

export class SqliteOutboxStore implements OutboxStore, RecordModule {
  private readonly insertStmt: Database.Statement<[OutboxInsertParams]>;
  private readonly getStmt: Database.Statement<[{ id: string }], OutboxRow>;
  private readonly leaseStmt: Database.Statement<[OutboxLeaseParams], OutboxRow>;
  private readonly updateStmt: Database.Statement<[OutboxUpdateParams], OutboxRow>;
  private readonly dueStmt: Database.Statement<[{ now_ms: number; limit: number }], OutboxRow>;
  private readonly nextStmt: Database.Statement<[], { next_ms: BigIntColumn | null }>;

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(OUTBOX_INSERT_SQL);
    this.getStmt = db.prepare(OUTBOX_GET_SQL);
    this.leaseStmt = db.prepare(OUTBOX_LEASE_SQL);
    this.updateStmt = db.prepare(OUTBOX_UPDATE_SQL);
    this.dueStmt = db.prepare(OUTBOX_DUE_SQL);
    this.nextStmt = db.prepare(OUTBOX_NEXT_SQL);
  }

  async enqueue(message: NewOutboxMessage, now: Date): Promise<{ created: boolean; record: OutboxRecord }> {
    this.guard();
    const params = outboxInsertParams(message, now);
    const created = this.insertStmt.run(params).changes === 1;
    const row = this.getStmt.get({ id: params.id });
    if (!row) throw new Error(`Outbox record '${params.id}' vanished while being created`);
    return { created, record: toOutboxRecord(row) };
  }

  async get(id: string): Promise<OutboxRecord | undefined> {
    this.guard();
    const row = this.getStmt.get({ id: checkString(id, 'Outbox id') });
    return row ? toOutboxRecord(row) : undefined;
  }

  async acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OutboxRecord | undefined> {
    this.guard();
    const row = this.leaseStmt.get(outboxLeaseParams(id, owner, ttlMs, now));
    return row ? toOutboxRecord(row) : undefined;
  }

  async update(id: string, expectedVersion: number, attempt: OutboxAttempt, now: Date): Promise<OutboxRecord> {
    this.guard();
    const row = this.updateStmt.get(outboxUpdateParams(id, expectedVersion, attempt, now));
    if (!row) {
      const current = this.getStmt.get({ id });
      throw versionConflict(id, `Outbox record '${id}'`, current, expectedVersion);
    }
    return toOutboxRecord(row);
  }

  async listDue(now: Date, limit: number): Promise<OutboxRecord[]> {
    this.guard();
    return this.dueStmt.all(outboxDueParams(now, limit)).map(toOutboxRecord);
  }

  async nextDue(): Promise<Date | undefined> {
    this.guard();
    const next = this.nextStmt.get()?.next_ms;
    return next === null || next === undefined ? undefined : new Date(Number(next));
  }

  readonly tables = ['outbox'];

  /** Deletes the messages to the person and scrubs them from the others (cards that name them). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    const erase = this.db.transaction(() => eraseTable(this.db, OUTBOX_SPEC, subject));
    return { outbox: erase.immediate() };
  }

  /** Sent and given-up messages go with closed requests (a late card update may still look one up until then). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.closedRequests).toISOString();
    const condition = "status IN ('sent', 'failed') AND updated_at < ?";
    return { outbox: pruneRows(this.db, 'outbox', condition, [before], checkLimit(limit)) };
  }
}
