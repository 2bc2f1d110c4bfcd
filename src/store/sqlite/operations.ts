/** SQLite: operation records and their leases. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  OPERATION_PATCH,
  OPERATION_SPEC,
  checkMaxAttempts,
  operationCreateParams,
  operationPatchColumns,
  toRecord,
  type NewOperation,
  type OperationCreateParams,
  type OperationPatch,
  type OperationRecord,
  type OperationRow,
  type OperationStore,
} from '../records/operations';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, leaseParams, type Guard, type LeaseParams } from '../values';
import { patchAssignments, patchParams, type SqliteValue } from './sql';
import { eraseTable, pruneRows } from './erase';

const PATCH_COLUMNS = OPERATION_PATCH.map(([, c]) => c);

export class SqliteOperationStore implements OperationStore, RecordModule {
  private readonly insertStmt: Database.Statement<[OperationCreateParams]>;
  private readonly getStmt: Database.Statement<[string], OperationRow>;
  private readonly updateStmt: Database.Statement<[Record<string, SqliteValue>], OperationRow>;
  private readonly leaseStmt: Database.Statement<[LeaseParams], OperationRow>;
  private readonly releaseStmt: Database.Statement<[string, string, string]>;
  private readonly unfinishedStmt: Database.Statement<[number | null, number | null, number], OperationRow>;
  private readonly failedStmt: Database.Statement<[string, number, number], OperationRow>;
  private readonly createTx: (params: OperationCreateParams) => { created: boolean; row: OperationRow };

  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => Date,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO operations (id, kind, tenant_id, actor_id, status, input, steps, result, reply_to, attempts,
         version, lease_owner, lease_expires_ms, created_at, updated_at)
       VALUES (@id, @kind, @tenant_id, @actor_id, 'pending', @input, '{}', NULL, @reply_to, 0,
         1, NULL, NULL, @now, @now)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.getStmt = db.prepare('SELECT * FROM operations WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE operations SET
         ${patchAssignments(PATCH_COLUMNS)}
         version = version + 1,
         updated_at = @now
       WHERE id = @id AND version = @expected
       RETURNING *`,
    );
    this.leaseStmt = db.prepare(
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
    this.releaseStmt = db.prepare(
      `UPDATE operations SET lease_owner = NULL, lease_expires_ms = NULL, version = version + 1, updated_at = ?
       WHERE id = ? AND lease_owner = ?`,
    );
    this.unfinishedStmt = db.prepare(
      `SELECT * FROM operations WHERE status IN ('pending', 'running')
         AND (? IS NULL OR lease_expires_ms IS NULL OR lease_expires_ms <= ?) ORDER BY created_at, rowid LIMIT ?`,
    );
    this.failedStmt = db.prepare(
      `SELECT * FROM operations WHERE status = 'failed' AND updated_at <= ? AND attempts < ? ORDER BY updated_at, rowid LIMIT ?`,
    );
    const tx = db.transaction((params: OperationCreateParams) => {
      const created = this.insertStmt.run(params).changes === 1;
      const row = this.getStmt.get(params.id);
      if (!row) {
        throw new Error(`Operation '${params.id}' vanished while being created`);
      }
      return { created, row };
    });
    this.createTx = (params) => tx.immediate(params);
  }

  async create(op: NewOperation, now: Date): Promise<{ created: boolean; record: OperationRecord }> {
    this.guard();
    const { created, row } = this.createTx(operationCreateParams(op, now));
    return { created, record: toRecord(row) };
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(id);
    return row ? toRecord(row) : undefined;
  }

  /** The update without the closed-store check (also used inside a transaction of two stores). */
  updateNow(id: string, expectedVersion: number, patch: OperationPatch, now: Date): OperationRecord {
    const expected = checkExpectedVersion(expectedVersion);
    const params = {
      ...patchParams(PATCH_COLUMNS, operationPatchColumns(patch)),
      id,
      expected,
      now: checkDate(now).toISOString(),
    };
    const row = this.updateStmt.get(params);
    if (!row) {
      const current = this.getStmt.get(id);
      throw versionConflict(id, `Operation '${id}'`, current, expectedVersion);
    }
    return toRecord(row);
  }

  async update(id: string, expectedVersion: number, patch: OperationPatch, now: Date): Promise<OperationRecord> {
    this.guard();
    return this.updateNow(id, expectedVersion, patch, now);
  }

  async acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OperationRecord | undefined> {
    this.guard();
    const row = this.leaseStmt.get(leaseParams(id, owner, ttlMs, now));
    return row ? toRecord(row) : undefined;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    this.guard();
    this.releaseStmt.run(checkDate(this.clock(), 'clock()').toISOString(), id, owner);
  }

  async listUnfinished(limit: number, leaseFreeAt?: Date): Promise<OperationRecord[]> {
    this.guard();
    const at = leaseFreeAt ? checkDate(leaseFreeAt).getTime() : null;
    return this.unfinishedStmt.all(at, at, checkLimit(limit)).map(toRecord);
  }

  async listFailed(updatedBefore: Date, maxAttempts: number, limit: number): Promise<OperationRecord[]> {
    this.guard();
    checkLimit(limit);
    return this.failedStmt
      .all(checkDate(updatedBefore).toISOString(), checkMaxAttempts(maxAttempts), limit)
      .map(toRecord);
  }

  readonly tables = ['operations'];

  /** Scrubs the person from inputs, steps and results (the operation stays, for the others it concerns). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { operations: this.db.transaction(() => eraseTable(this.db, OPERATION_SPEC, subject)).immediate() };
  }

  /** Finished operations (succeeded or failed) last changed before the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.finishedOperations).toISOString();
    const condition = "status IN ('succeeded', 'failed') AND updated_at < ?";
    return { operations: pruneRows(this.db, 'operations', condition, [before], checkLimit(limit)) };
  }
}
