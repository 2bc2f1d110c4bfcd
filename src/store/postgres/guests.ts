/** PostgreSQL: the bot's records of the guests it added to groups (sponsors, reviews). */
import type { Pool } from 'pg';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  GUEST_GET,
  GUEST_INSERT,
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
import { named, queryRow, queryRows, type Values } from './sql';
import { eraseTable, pruneRows } from './erase';

const insert = named(GUEST_INSERT);
const get = named(GUEST_GET);

export class PostgresGuestRecordStore implements GuestRecordStore, RecordModule {
  constructor(
    private readonly pool: Pool,
    private readonly guard: Guard,
  ) {}

  async recordAdded(record: NewGuestRecord, now: Date): Promise<GuestRecord> {
    this.guard();
    const query = insert(guestCreateParams(record, now));
    const row = (await queryRow<GuestRow>(this.pool, query.text, query.values)) ?? (await this.getRow(record));
    if (!row) throw new Error('Guest record was not stored');
    return toGuestRecord(row);
  }

  private getRow(key: GuestKey): Promise<GuestRow | undefined> {
    const query = get(guestKeyParams(key));
    return queryRow<GuestRow>(this.pool, query.text, query.values);
  }

  async get(key: GuestKey): Promise<GuestRecord | undefined> {
    this.guard();
    const row = await this.getRow(key);
    return row ? toGuestRecord(row) : undefined;
  }

  async update(key: GuestKey, expectedVersion: number, patch: GuestRecordPatch, now: Date): Promise<GuestRecord> {
    this.guard();
    const keyParams = guestKeyParams(key);
    const expected = checkExpectedVersion(expectedVersion);
    const values: Values = [];
    const param = (value: unknown): string => `$${values.push(value)}`;
    const set = guestPatchColumns(patch).map(([column, value]) => `${column} = ${param(value)}`);
    set.push('version = version + 1', `updated_at = ${param(checkDate(now).toISOString())}`);
    const text =
      `UPDATE guest_records SET ${set.join(', ')} WHERE tenant_id = ${param(keyParams.tenant_id)} AND group_id = ${param(keyParams.group_id)}` +
      ` AND guest_id = ${param(keyParams.guest_id)} AND version = ${param(expected)} RETURNING *`;
    const row = await queryRow<GuestRow>(this.pool, text, values);
    if (!row)
      throw new ConflictError(
        `${key.groupId}/${key.guestId}`,
        `Guest record ${key.groupId}/${key.guestId} is missing or not at version ${expectedVersion}`,
      );
    return toGuestRecord(row);
  }

  async listForGroups(tenantId: string, groupIds: readonly string[], limit: number): Promise<GuestRecord[]> {
    this.guard();
    const ids = groupIds.map((id) => checkString(id, 'groupId'));
    if (ids.length === 0) return [];
    const rows = await queryRows<GuestRow>(
      this.pool,
      `SELECT * FROM guest_records WHERE tenant_id = $1 AND removed_at IS NULL AND group_id = ANY($2::text[])
       ORDER BY invited_at DESC, guest_id LIMIT $3`,
      [checkString(tenantId, 'tenantId'), ids, checkLimit(limit)],
    );
    return rows.map(toGuestRecord);
  }

  async listDueGroups(keptBefore: Date, limit: number): Promise<Array<{ tenantId: string; groupId: string }>> {
    this.guard();
    const rows = await queryRows<{ tenant_id: string; group_id: string }>(
      this.pool,
      `SELECT DISTINCT tenant_id, group_id FROM guest_records
       WHERE removed_at IS NULL AND review_state = 'none' AND last_kept_at <= $1 LIMIT $2`,
      [checkDate(keptBefore, 'keptBefore').toISOString(), checkLimit(limit)],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, groupId: r.group_id }));
  }

  async listOpenReviews(openedBefore: Date, limit: number): Promise<GuestRecord[]> {
    this.guard();
    const rows = await queryRows<GuestRow>(
      this.pool,
      `SELECT * FROM guest_records WHERE removed_at IS NULL AND review_state = 'open' AND review_opened_at <= $1
       ORDER BY review_opened_at, row_seq LIMIT $2`,
      [checkDate(openedBefore, 'openedBefore').toISOString(), checkLimit(limit)],
    );
    return rows.map(toGuestRecord);
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
    const rows = await queryRows<GuestRow>(
      this.pool,
      `UPDATE guest_records SET review_state = 'open', review_id = $1, review_opened_at = $2, reminded_at = NULL,
         version = version + 1, updated_at = $2
       WHERE tenant_id = $3 AND group_id = $4 AND review_state = 'none' AND removed_at IS NULL AND last_kept_at <= $5
       RETURNING *`,
      [
        checkString(reviewId, 'reviewId'),
        at,
        checkString(tenantId, 'tenantId'),
        checkString(groupId, 'groupId'),
        before,
      ],
    );
    return rows.map(toGuestRecord);
  }

  async markReminded(reviewId: string, now: Date): Promise<GuestRecord[]> {
    this.guard();
    const at = checkDate(now).toISOString();
    const rows = await queryRows<GuestRow>(
      this.pool,
      `UPDATE guest_records SET reminded_at = $1, version = version + 1, updated_at = $1
       WHERE review_id = $2 AND review_state = 'open' AND reminded_at IS NULL AND removed_at IS NULL
       RETURNING *`,
      [at, checkString(reviewId, 'reviewId')],
    );
    return rows.map(toGuestRecord);
  }

  async listForTenant(tenantId: string, limit: number): Promise<GuestRecord[]> {
    this.guard();
    const rows = await queryRows<GuestRow>(
      this.pool,
      'SELECT * FROM guest_records WHERE tenant_id = $1 ORDER BY invited_at DESC, row_seq DESC LIMIT $2',
      [checkString(tenantId, 'tenantId'), checkLimit(limit)],
    );
    return rows.map(toGuestRecord);
  }

  readonly tables = ['guest_records'];

  /** Deletes the person's guest records; scrubs them where they invited, kept or removed someone. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { guest_records: await eraseTable(this.pool, GUEST_SPEC, subject) };
  }

  /** Records of guests removed before the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.removedGuests).toISOString();
    const condition = 'removed_at IS NOT NULL AND removed_at COLLATE "C" < $1';
    return { guest_records: await pruneRows(this.pool, 'guest_records', condition, [before], checkLimit(limit)) };
  }
}
