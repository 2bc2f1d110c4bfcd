/** SQLite: the bot's records of the guests it added to groups (sponsors, reviews). */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  GUEST_GET,
  GUEST_INSERT,
  GUEST_PATCH,
  GUEST_SPEC,
  guestCreateParams,
  guestKeyParams,
  guestPatchColumns,
  toGuestRecord,
  type GuestKey,
  type GuestRecord,
  type GuestRecordPatch,
  type GuestRecordStore,
  type GuestRow,
  type NewGuestRecord,
} from '../records/guests';
import { ConflictError } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, checkString, type Guard } from '../values';
import { patchAssignments, patchParams, sqliteValue, type SqliteValue } from './sql';
import { eraseTable, pruneRows } from './erase';

const PATCH_COLUMNS = GUEST_PATCH.map(([, c]) => c);
type Params = Record<string, SqliteValue>;

export class SqliteGuestRecordStore implements GuestRecordStore, RecordModule {
  private readonly insertStmt: Database.Statement<[Params], GuestRow>;
  private readonly getStmt: Database.Statement<[Params], GuestRow>;
  private readonly updateStmt: Database.Statement<[Params], GuestRow>;
  private readonly dueStmt: Database.Statement<[string, number], { tenant_id: string; group_id: string }>;
  private readonly openStmt: Database.Statement<[string, number], GuestRow>;
  private readonly tenantStmt: Database.Statement<[string, number], GuestRow>;

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(GUEST_INSERT);
    this.getStmt = db.prepare(GUEST_GET);
    this.updateStmt = db.prepare(
      `UPDATE guest_records SET
         ${patchAssignments(PATCH_COLUMNS)}
         version = version + 1,
         updated_at = @now
       WHERE tenant_id = @tenant_id AND group_id = @group_id AND guest_id = @guest_id AND version = @expected
       RETURNING *`,
    );
    this.dueStmt = db.prepare(
      `SELECT DISTINCT tenant_id, group_id FROM guest_records
       WHERE removed_at IS NULL AND review_state = 'none' AND last_kept_at <= ? LIMIT ?`,
    );
    this.openStmt = db.prepare(
      `SELECT * FROM guest_records WHERE removed_at IS NULL AND review_state = 'open' AND review_opened_at <= ?
       ORDER BY review_opened_at LIMIT ?`,
    );
    this.tenantStmt = db.prepare('SELECT * FROM guest_records WHERE tenant_id = ? ORDER BY invited_at DESC LIMIT ?');
  }

  async recordAdded(record: NewGuestRecord, now: Date): Promise<GuestRecord> {
    this.guard();
    const params = guestCreateParams(record, now);
    const bound: Params = {};
    for (const [k, v] of Object.entries(params)) bound[k] = sqliteValue(v as string | boolean | null);
    const row = this.insertStmt.get(bound) ?? this.getStmt.get(guestKeyParams(record) as unknown as Params);
    if (!row) throw new Error('Guest record was not stored');
    return toGuestRecord(row);
  }

  async get(key: GuestKey): Promise<GuestRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(guestKeyParams(key) as unknown as Params);
    return row ? toGuestRecord(row) : undefined;
  }

  async update(key: GuestKey, expectedVersion: number, patch: GuestRecordPatch, now: Date): Promise<GuestRecord> {
    this.guard();
    const keyParams = guestKeyParams(key);
    const expected = checkExpectedVersion(expectedVersion);
    const row = this.updateStmt.get({
      ...patchParams(PATCH_COLUMNS, guestPatchColumns(patch)),
      ...keyParams,
      expected,
      now: checkDate(now).toISOString(),
    });
    if (!row)
      throw new ConflictError(
        `${key.groupId}/${key.guestId}`,
        `Guest record ${key.groupId}/${key.guestId} is missing or not at version ${expectedVersion}`,
      );
    return toGuestRecord(row);
  }

  async listForGroups(tenantId: string, groupIds: readonly string[], limit: number): Promise<GuestRecord[]> {
    this.guard();
    checkString(tenantId, 'tenantId');
    const ids = groupIds.map((id) => checkString(id, 'groupId'));
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare<[string, string, number], GuestRow>(
        `SELECT * FROM guest_records WHERE tenant_id = ? AND removed_at IS NULL
           AND group_id IN (SELECT value FROM json_each(?))
         ORDER BY invited_at DESC, guest_id LIMIT ?`,
      )
      .all(tenantId, JSON.stringify(ids), checkLimit(limit));
    return rows.map(toGuestRecord);
  }

  async listDueGroups(keptBefore: Date, limit: number): Promise<Array<{ tenantId: string; groupId: string }>> {
    this.guard();
    return this.dueStmt
      .all(checkDate(keptBefore, 'keptBefore').toISOString(), checkLimit(limit))
      .map((r) => ({ tenantId: r.tenant_id, groupId: r.group_id }));
  }

  async listOpenReviews(openedBefore: Date, limit: number): Promise<GuestRecord[]> {
    this.guard();
    return this.openStmt
      .all(checkDate(openedBefore, 'openedBefore').toISOString(), checkLimit(limit))
      .map(toGuestRecord);
  }

  async openReview(
    tenantId: string,
    groupId: string,
    keptBefore: Date,
    reviewId: string,
    now: Date,
  ): Promise<GuestRecord[]> {
    this.guard();
    const before = checkDate(keptBefore, 'keptBefore').toISOString();
    const at = checkDate(now).toISOString();
    return this.db
      .prepare<[string, string, string, string, string, string], GuestRow>(
        `UPDATE guest_records SET review_state = 'open', review_id = ?, review_opened_at = ?, reminded_at = NULL,
           version = version + 1, updated_at = ?
         WHERE tenant_id = ? AND group_id = ? AND review_state = 'none' AND removed_at IS NULL AND last_kept_at <= ?
         RETURNING *`,
      )
      .all(
        checkString(reviewId, 'reviewId'),
        at,
        at,
        checkString(tenantId, 'tenantId'),
        checkString(groupId, 'groupId'),
        before,
      )
      .map(toGuestRecord);
  }

  async markReminded(reviewId: string, now: Date): Promise<GuestRecord[]> {
    this.guard();
    const at = checkDate(now).toISOString();
    return this.db
      .prepare<[string, string, string], GuestRow>(
        `UPDATE guest_records SET reminded_at = ?, version = version + 1, updated_at = ?
         WHERE review_id = ? AND review_state = 'open' AND reminded_at IS NULL AND removed_at IS NULL
         RETURNING *`,
      )
      .all(at, at, checkString(reviewId, 'reviewId'))
      .map(toGuestRecord);
  }

  async listForTenant(tenantId: string, limit: number): Promise<GuestRecord[]> {
    this.guard();
    return this.tenantStmt.all(checkString(tenantId, 'tenantId'), checkLimit(limit)).map(toGuestRecord);
  }

  readonly tables = ['guest_records'];

  /** Deletes the person's guest records; scrubs them where they invited, kept or removed someone. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { guest_records: this.db.transaction(() => eraseTable(this.db, GUEST_SPEC, subject)).immediate() };
  }

  /** Records of guests removed before the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.removedGuests).toISOString();
    const condition = 'removed_at IS NOT NULL AND removed_at < ?';
    return { guest_records: pruneRows(this.db, 'guest_records', condition, [before], checkLimit(limit)) };
  }
}
