/** SQLite: access requests and who was asked to decide them. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  DuplicateRequestError,
  REQUEST_OWNER_SPEC,
  REQUEST_PATCH,
  REQUEST_SPEC,
  requestCreateParams,
  requestPatchColumns,
  slotOf,
  toAccessRequest,
  type AccessRequestPatch,
  type AccessRequestRecord,
  type AccessRequestRow,
  type AccessRequestStore,
  type NewAccessRequest,
  type RequestCreateParams,
  type SlotParams,
} from '../records/requests';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, type Guard } from '../values';
import { isUniqueViolation, patchAssignments, patchParams, type SqliteValue } from './sql';
import { eraseTable, pruneRows } from './erase';

const PATCH_COLUMNS = REQUEST_PATCH.map(([, c]) => c);

export class SqliteAccessRequestStore implements AccessRequestStore, RecordModule {
  private readonly insertStmt: Database.Statement<[RequestCreateParams], AccessRequestRow>;
  private readonly insertOwnersStmt: Database.Statement<[string, string]>;
  private readonly pendingInSlotStmt: Database.Statement<[SlotParams], { id: string }>;
  private readonly getStmt: Database.Statement<[string], AccessRequestRow>;
  private readonly updateStmt: Database.Statement<[Record<string, SqliteValue>], AccessRequestRow>;
  private readonly byRequesterStmt: Database.Statement<[string, string, number], AccessRequestRow>;
  private readonly pendingForOwnerStmt: Database.Statement<[string, string, number], AccessRequestRow>;
  private readonly pendingBeforeStmt: Database.Statement<[string, number], AccessRequestRow>;
  private readonly createTx: (params: RequestCreateParams) => AccessRequestRow;

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO access_requests (id, tenant_id, requester_id, requester_name, app_id, app_name, group_id,
         group_name, justification, state, owner_ids, owner_cards, decided_by, decided_by_name, decided_at, comment,
         outcome, reminded_at, version, created_at, updated_at)
       VALUES (@id, @tenant_id, @requester_id, @requester_name, @app_id, @app_name, @group_id,
         @group_name, @justification, 'pending', @owner_ids, '[]', NULL, NULL, NULL, NULL,
         NULL, NULL, 1, @now, @now)
       RETURNING *`,
    );
    this.insertOwnersStmt = db.prepare(
      `INSERT INTO access_request_owners (request_id, owner_id)
       SELECT DISTINCT ?, value FROM json_each(?)`,
    );
    this.pendingInSlotStmt = db.prepare(
      `SELECT id FROM access_requests
       WHERE tenant_id = @tenant_id AND requester_id = @requester_id AND group_id = @group_id AND state = 'pending'`,
    );
    this.getStmt = db.prepare('SELECT * FROM access_requests WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE access_requests SET
         ${patchAssignments(PATCH_COLUMNS)}
         version = version + 1,
         updated_at = @now
       WHERE id = @id AND version = @expected
       RETURNING *`,
    );
    this.byRequesterStmt = db.prepare(
      `SELECT * FROM access_requests WHERE tenant_id = ? AND requester_id = ?
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    );
    // CROSS JOIN keeps this join order in SQLite: the owner's rows by index, then each request by its key
    // (otherwise the planner may walk every pending request of the tenant).
    this.pendingForOwnerStmt = db.prepare(
      `SELECT r.* FROM access_request_owners o CROSS JOIN access_requests r ON r.id = o.request_id
       WHERE o.owner_id = ? AND r.tenant_id = ? AND r.state = 'pending'
       ORDER BY r.created_at, r.rowid LIMIT ?`,
    );
    this.pendingBeforeStmt = db.prepare(
      `SELECT * FROM access_requests WHERE state = 'pending' AND created_at <= ?
       ORDER BY created_at, rowid LIMIT ?`,
    );
    const tx = db.transaction((params: RequestCreateParams) => this.insert(params));
    this.createTx = (params) => tx.immediate(params);
  }

  /** Inserts a pending request and who was asked (inside the create transaction, which holds the write lock). */
  private insert(params: RequestCreateParams): AccessRequestRow {
    let row: AccessRequestRow | undefined;
    try {
      row = this.insertStmt.get(params);
    } catch (err) {
      // The write lock is held, so the pending request that blocked the insert is still there.
      const existing = isUniqueViolation(err) ? this.pendingInSlotStmt.get(slotOf(params)) : undefined;
      if (existing) {
        throw new DuplicateRequestError(existing.id);
      }
      throw err;
    }
    if (!row) {
      throw new Error(`Access request '${params.id}' was not stored`);
    }
    this.insertOwnersStmt.run(params.id, params.owner_ids);
    return row;
  }

  async create(request: NewAccessRequest, now: Date): Promise<AccessRequestRecord> {
    this.guard();
    return toAccessRequest(this.createTx(requestCreateParams(request, now)));
  }

  async get(id: string): Promise<AccessRequestRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(id);
    return row ? toAccessRequest(row) : undefined;
  }

  /** The update without the closed-store check (also used inside a transaction of two stores). */
  updateNow(id: string, expectedVersion: number, patch: AccessRequestPatch, now: Date): AccessRequestRecord {
    const expected = checkExpectedVersion(expectedVersion);
    const params = {
      ...patchParams(PATCH_COLUMNS, requestPatchColumns(patch)),
      id,
      expected,
      now: checkDate(now).toISOString(),
    };
    let row: AccessRequestRow | undefined;
    try {
      row = this.updateStmt.get(params);
    } catch (err) {
      // Only a return to 'pending' can collide with the one-pending-request rule.
      const current = isUniqueViolation(err) ? this.getStmt.get(id) : undefined;
      const existing = current ? this.pendingInSlotStmt.get(slotOf(current)) : undefined;
      if (existing && existing.id !== id) {
        throw new DuplicateRequestError(existing.id);
      }
      throw err;
    }
    if (!row) {
      const current = this.getStmt.get(id);
      throw versionConflict(id, `Access request '${id}'`, current, expectedVersion);
    }
    return toAccessRequest(row);
  }

  async update(
    id: string,
    expectedVersion: number,
    patch: AccessRequestPatch,
    now: Date,
  ): Promise<AccessRequestRecord> {
    this.guard();
    return this.updateNow(id, expectedVersion, patch, now);
  }

  async listByRequester(tenantId: string, requesterId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    return this.byRequesterStmt.all(tenantId, requesterId, checkLimit(limit)).map(toAccessRequest);
  }

  async listPendingForOwner(tenantId: string, ownerId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    return this.pendingForOwnerStmt.all(ownerId, tenantId, checkLimit(limit)).map(toAccessRequest);
  }

  async listPendingCreatedBefore(createdBefore: Date, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    const before = checkDate(createdBefore, 'createdBefore').toISOString();
    return this.pendingBeforeStmt.all(before, checkLimit(limit)).map(toAccessRequest);
  }

  readonly tables = ['access_requests', 'access_request_owners'];

  /** Deletes the person's own requests and their place among the owners asked; scrubs them from the others. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return this.db
      .transaction(() => ({
        access_requests: eraseTable(this.db, REQUEST_SPEC, subject),
        access_request_owners: eraseTable(this.db, REQUEST_OWNER_SPEC, subject),
      }))
      .immediate();
  }

  /** Decided, expired and withdrawn requests last changed before the cut-off (their owner rows go with them). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.closedRequests).toISOString();
    const condition = "state <> 'pending' AND updated_at < ?";
    return { access_requests: pruneRows(this.db, 'access_requests', condition, [before], checkLimit(limit)) };
  }
}
