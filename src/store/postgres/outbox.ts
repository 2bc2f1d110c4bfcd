/** PostgreSQL: the outbox of proactive messages and their leases. */
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
  type OutboxRecord,
  type OutboxRow,
  type OutboxStore,
} from '../records/outbox';
import { versionConflict } from '../store';
import { checkDate, checkLimit, checkString, type BigIntColumn, type Guard } from '../values';
import { eraseTable, pruneRows } from './erase';
import { named, queryRow, queryRows, type Queryable } from './sql';

const insert = named(`${OUTBOX_INSERT_SQL} RETURNING *`);
const get = named(OUTBOX_GET_SQL);
const lease = named(OUTBOX_LEASE_SQL);
const update = named(OUTBOX_UPDATE_SQL);
const due = named(OUTBOX_DUE_SQL);

export class PostgresOutboxStore implements OutboxStore, RecordModule {
  constructor(
    private readonly db: Queryable,
    private readonly guard: Guard,
  ) {}

  async enqueue(message: NewOutboxMessage, now: Date): Promise<{ created: boolean; record: OutboxRecord }> {
    this.guard();
    const params = outboxInsertParams(message, now);
    const query = insert(params);
    const inserted = await queryRow<OutboxRow>(this.db, query.text, query.values);
    if (inserted) return { created: true, record: toOutboxRecord(inserted) };
    const existing = await this.get(params.id);
    if (!existing) throw new Error(`Outbox record '${params.id}' vanished while being created`);
    return { created: false, record: existing };
  }

  async get(id: string): Promise<OutboxRecord | undefined> {
    this.guard();
    const query = get({ id: checkString(id, 'Outbox id') });
    const row = await queryRow<OutboxRow>(this.db, query.text, query.values);
    return row ? toOutboxRecord(row) : undefined;
  }

  async acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OutboxRecord | undefined> {
    this.guard();
    const query = lease(outboxLeaseParams(id, owner, ttlMs, now));
    const row = await queryRow<OutboxRow>(this.db, query.text, query.values);
    return row ? toOutboxRecord(row) : undefined;
  }

  async update(id: string, expectedVersion: number, attempt: OutboxAttempt, now: Date): Promise<OutboxRecord> {
    this.guard();
    const query = update(outboxUpdateParams(id, expectedVersion, attempt, now));
    const row = await queryRow<OutboxRow>(this.db, query.text, query.values);
    if (!row) {
      const current = await this.get(id);
      throw versionConflict(id, `Outbox record '${id}'`, current, expectedVersion);
    }
    return toOutboxRecord(row);
  }

  async listDue(now: Date, limit: number): Promise<OutboxRecord[]> {
    this.guard();
    const query = due(outboxDueParams(now, limit));
    return (await queryRows<OutboxRow>(this.db, query.text, query.values)).map(toOutboxRecord);
  }

  async nextDue(): Promise<Date | undefined> {
    this.guard();
    const row = await queryRow<{ next_ms: BigIntColumn | null }>(this.db, OUTBOX_NEXT_SQL);
    return row?.next_ms === null || row?.next_ms === undefined ? undefined : new Date(Number(row.next_ms));
  }

  readonly tables = ['outbox'];

  /** Deletes the messages to the person and scrubs them from the others (cards that name them). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { outbox: await eraseTable(this.db, OUTBOX_SPEC, subject) };
  }

  /** Sent and given-up messages go with closed requests (a late card update may still look one up until then). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.closedRequests).toISOString();
    const condition = "status IN ('sent', 'failed') AND updated_at < $1";
    return { outbox: await pruneRows(this.db, 'outbox', condition, [before], checkLimit(limit)) };
  }
}
