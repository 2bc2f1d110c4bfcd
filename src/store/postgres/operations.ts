/** PostgreSQL: operation records and their leases. */
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  OPERATION_SPEC,
  checkMaxAttempts,
  operationCreateParams,
  operationPatchColumns,
  toRecord,
  type NewOperation,
  type OperationPatch,
  type OperationRecord,
  type OperationRow,
  type OperationStore,
} from '../records/operations';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, leaseParams, type Guard } from '../values';
import { named, patchUpdate, queryRow, queryRows, type Queryable } from './sql';
import { eraseTable, pruneRows } from './erase';

const insert = named(
  `INSERT INTO operations (id, kind, tenant_id, actor_id, status, input, steps, result, reply_to, attempts,
     version, lease_owner, lease_expires_ms, created_at, updated_at)
   VALUES (@id, @kind, @tenant_id, @actor_id, 'pending', @input, '{}', NULL, @reply_to, 0,
     1, NULL, NULL, @now, @now)
   ON CONFLICT (id) DO NOTHING
   RETURNING *`,
);

const lease = named(
  `UPDATE operations SET
     lease_owner = @owner,
     lease_expires_ms = @expires_ms,
     version = version + 1,
     updated_at = @now
   WHERE id = @id
     AND status IN ('pending', 'running')
     AND (lease_owner IS NULL OR lease_owner = @owner OR lease_expires_ms IS NULL OR lease_expires_ms <= @now_ms)
   RETURNING *`,
);

export class PostgresOperationStore implements OperationStore, RecordModule {
  constructor(
    private readonly db: Queryable,
    private readonly clock: () => Date,
    private readonly guard: Guard,
  ) {}

  async create(op: NewOperation, now: Date): Promise<{ created: boolean; record: OperationRecord }> {
    this.guard();
    const params = operationCreateParams(op, now);
    const query = insert(params);
    const inserted = await queryRow<OperationRow>(this.db, query.text, query.values);
    if (inserted) {
      return { created: true, record: toRecord(inserted) };
    }
    // Records are never deleted: the one that made the insert do nothing is there.
    const row = await this.getRow(this.db, params.id);
    if (!row) {
      throw new Error(`Operation '${params.id}' vanished while being created`);
    }
    return { created: false, record: toRecord(row) };
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    this.guard();
    const row = await this.getRow(this.db, id);
    return row ? toRecord(row) : undefined;
  }

  private getRow(db: Queryable, id: string): Promise<OperationRow | undefined> {
    return queryRow<OperationRow>(db, 'SELECT * FROM operations WHERE id = $1', [id]);
  }

  /** The update on `db` (the pool, or a client inside a transaction of two stores). */
  async updateWith(
    db: Queryable,
    id: string,
    expectedVersion: number,
    patch: OperationPatch,
    now: Date,
  ): Promise<OperationRecord> {
    const expected = checkExpectedVersion(expectedVersion);
    const query = patchUpdate(
      'operations',
      operationPatchColumns(patch),
      { id },
      expected,
      checkDate(now).toISOString(),
    );
    const row = await queryRow<OperationRow>(db, query.text, query.values);
    if (!row) {
      const current = await this.getRow(db, id);
      throw versionConflict(id, `Operation '${id}'`, current, expectedVersion);
    }
    return toRecord(row);
  }

  async update(id: string, expectedVersion: number, patch: OperationPatch, now: Date): Promise<OperationRecord> {
    this.guard();
    return this.updateWith(this.db, id, expectedVersion, patch, now);
  }

  async acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OperationRecord | undefined> {
    this.guard();
    const query = lease(leaseParams(id, owner, ttlMs, now));
    const row = await queryRow<OperationRow>(this.db, query.text, query.values);
    return row ? toRecord(row) : undefined;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    this.guard();
    await this.db.query(
      `UPDATE operations SET lease_owner = NULL, lease_expires_ms = NULL, version = version + 1, updated_at = $1
       WHERE id = $2 AND lease_owner = $3`,
      [checkDate(this.clock(), 'clock()').toISOString(), id, owner],
    );
  }

  async listUnfinished(limit: number, leaseFreeAt?: Date): Promise<OperationRecord[]> {
    this.guard();
    const at = leaseFreeAt ? checkDate(leaseFreeAt).getTime() : null;
    const rows = await queryRows<OperationRow>(
      this.db,
      `SELECT * FROM operations WHERE status IN ('pending', 'running')
         AND ($2::bigint IS NULL OR lease_expires_ms IS NULL OR lease_expires_ms <= $2)
         ORDER BY created_at, row_seq LIMIT $1`,
      [checkLimit(limit), at],
    );
    return rows.map(toRecord);
  }

  async listFailed(updatedBefore: Date, maxAttempts: number, limit: number): Promise<OperationRecord[]> {
    this.guard();
    checkLimit(limit);
    const rows = await queryRows<OperationRow>(
      this.db,
      `SELECT * FROM operations WHERE status = 'failed' AND updated_at <= $1 AND attempts < $2
       ORDER BY updated_at, row_seq LIMIT $3`,
      [checkDate(updatedBefore).toISOString(), checkMaxAttempts(maxAttempts), limit],
    );
    return rows.map(toRecord);
  }

  readonly tables = ['operations'];

  /** Scrubs the person from inputs, steps and results (the operation stays, for the others it concerns). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { operations: await eraseTable(this.db, OPERATION_SPEC, subject) };
  }

  /** Finished operations (succeeded or failed) last changed before the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.finishedOperations).toISOString();
    const condition = "status IN ('succeeded', 'failed') AND updated_at < $1";
    return { operations: await pruneRows(this.db, 'operations', condition, [before], checkLimit(limit)) };
  }
}
