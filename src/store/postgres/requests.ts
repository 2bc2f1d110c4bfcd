/** PostgreSQL: access requests and who was asked to decide them. */
import type { Pool } from 'pg';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  DuplicateRequestError,
  REQUEST_OWNER_SPEC,
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
  type SlotParams,
} from '../records/requests';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, type Guard } from '../values';
import { isUniqueViolation, named, patchUpdate, queryRow, queryRows, withTransaction, type Queryable } from './sql';
import { eraseTable, pruneRows } from './erase';

const insert = named(
  `INSERT INTO access_requests (id, tenant_id, requester_id, requester_name, app_id, app_name, group_id,
     group_name, justification, state, owner_ids, owner_cards, decided_by, decided_by_name, decided_at, comment,
     outcome, reminded_at, version, created_at, updated_at)
   VALUES (@id, @tenant_id, @requester_id, @requester_name, @app_id, @app_name, @group_id,
     @group_name, @justification, 'pending', @owner_ids, '[]', NULL, NULL, NULL, NULL,
     NULL, NULL, 1, @now, @now)
   ON CONFLICT (tenant_id, requester_id, group_id) WHERE state = 'pending' DO NOTHING
   RETURNING *`,
);

const pendingInSlot = named(
  `SELECT id FROM access_requests
   WHERE tenant_id = @tenant_id AND requester_id = @requester_id AND group_id = @group_id AND state = 'pending'`,
);

/** The pending request of that slot went away between the insert and the look-up: insert again. */
class SlotFreed extends Error {}

export class PostgresAccessRequestStore implements AccessRequestStore, RecordModule {
  constructor(
    private readonly pool: Pool,
    private readonly guard: Guard,
  ) {}

  async create(request: NewAccessRequest, now: Date): Promise<AccessRequestRecord> {
    this.guard();
    const params = requestCreateParams(request, now);
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTransaction(this.pool, async (client) => {
          const query = insert(params);
          const row = await queryRow<AccessRequestRow>(client, query.text, query.values);
          if (!row) {
            // Another pending request holds the slot (committed: the insert waited for it).
            const existing = await this.pendingIn(client, params);
            throw existing ? new DuplicateRequestError(existing) : new SlotFreed();
          }
          await client.query(
            `INSERT INTO access_request_owners (request_id, owner_id)
             SELECT DISTINCT $1::text, owner FROM json_array_elements_text($2::json) AS owner`,
            [params.id, params.owner_ids],
          );
          return toAccessRequest(row);
        });
      } catch (err) {
        if (!(err instanceof SlotFreed) || attempt >= 5) throw err;
      }
    }
  }

  private async pendingIn(db: Queryable, slot: SlotParams): Promise<string | undefined> {
    const query = pendingInSlot(slotOf(slot));
    return (await queryRow<{ id: string }>(db, query.text, query.values))?.id;
  }

  async get(id: string): Promise<AccessRequestRecord | undefined> {
    this.guard();
    const row = await this.getRow(this.pool, id);
    return row ? toAccessRequest(row) : undefined;
  }

  private getRow(db: Queryable, id: string): Promise<AccessRequestRow | undefined> {
    return queryRow<AccessRequestRow>(db, 'SELECT * FROM access_requests WHERE id = $1', [id]);
  }

  /** The update on `db` (the pool, or a client inside a transaction of two stores). */
  async updateWith(
    db: Queryable,
    id: string,
    expectedVersion: number,
    patch: AccessRequestPatch,
    now: Date,
  ): Promise<AccessRequestRecord> {
    const expected = checkExpectedVersion(expectedVersion);
    const query = patchUpdate(
      'access_requests',
      requestPatchColumns(patch),
      { id },
      expected,
      checkDate(now).toISOString(),
    );
    let row: AccessRequestRow | undefined;
    try {
      row = await queryRow<AccessRequestRow>(db, query.text, query.values);
    } catch (err) {
      // Only a return to 'pending' can collide with the one-pending-request rule (and not inside a
      // transaction, which the error has aborted).
      if (isUniqueViolation(err, 'access_requests_one_pending') && db === this.pool) {
        const current = await this.getRow(db, id);
        const existing = current ? await this.pendingIn(db, current) : undefined;
        if (existing && existing !== id) {
          throw new DuplicateRequestError(existing);
        }
      }
      throw err;
    }
    if (!row) {
      const current = await this.getRow(db, id);
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
    return this.updateWith(this.pool, id, expectedVersion, patch, now);
  }

  async listByRequester(tenantId: string, requesterId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    const rows = await queryRows<AccessRequestRow>(
      this.pool,
      `SELECT * FROM access_requests WHERE tenant_id = $1 AND requester_id = $2
       ORDER BY created_at DESC, row_seq DESC LIMIT $3`,
      [tenantId, requesterId, checkLimit(limit)],
    );
    return rows.map(toAccessRequest);
  }

  async listPendingForOwner(tenantId: string, ownerId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    const rows = await queryRows<AccessRequestRow>(
      this.pool,
      `SELECT r.* FROM access_request_owners o JOIN access_requests r ON r.id = o.request_id
       WHERE o.owner_id = $1 AND r.tenant_id = $2 AND r.state = 'pending'
       ORDER BY r.created_at, r.row_seq LIMIT $3`,
      [ownerId, tenantId, checkLimit(limit)],
    );
    return rows.map(toAccessRequest);
  }

  async listPendingCreatedBefore(createdBefore: Date, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    const before = checkDate(createdBefore, 'createdBefore').toISOString();
    const rows = await queryRows<AccessRequestRow>(
      this.pool,
      `SELECT * FROM access_requests WHERE state = 'pending' AND created_at <= $1 ORDER BY created_at, row_seq LIMIT $2`,
      [before, checkLimit(limit)],
    );
    return rows.map(toAccessRequest);
  }

  readonly tables = ['access_requests', 'access_request_owners'];

  /** Deletes the person's own requests and their place among the owners asked; scrubs them from the others. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return withTransaction(this.pool, async (client) => ({
      access_requests: await eraseTable(client, REQUEST_SPEC, subject),
      access_request_owners: await eraseTable(client, REQUEST_OWNER_SPEC, subject),
    }));
  }

  /** Decided, expired and withdrawn requests last changed before the cut-off (their owner rows go with them). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.closedRequests).toISOString();
    const condition = "state <> 'pending' AND updated_at < $1";
    return { access_requests: await pruneRows(this.pool, 'access_requests', condition, [before], checkLimit(limit)) };
  }
}
