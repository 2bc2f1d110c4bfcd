/**
 * Stored record: guest records, what the bot knows of each guest it added to a group. Their port, the inputs
 * checked into column values, the row mapped back (SQLite returns JSON as text and booleans as 0/1, PostgreSQL
 * parsed JSON and booleans), the upsert shared by both engines, and what a record holds about a person.
 */
import type { TableSpec } from '../erasure';
import {
  checkBoolean,
  checkDate,
  checkNullableText,
  checkOneOf,
  checkString,
  checkText,
  jsonText,
  parseJson,
  patchColumns,
  type JsonColumn,
  type PatchColumns,
} from '../values';

/** How a guest came into a group through the bot. */
export type GuestAddedHow = 'invite' | 'request';
/** 'none': no review running; 'open': a review card went out and waits for an owner's decision. */
export type GuestReviewState = 'none' | 'open';

export interface GuestKey {
  tenantId: string;
  groupId: string;
  guestId: string;
}

/**
 * What the bot knows of one guest in one group it added them to: who vouched for them, when, and where the
 * periodic review stands. The directory stays the truth for membership; this is the bot's own account.
 */
export interface GuestRecord extends GuestKey {
  guestEmail: string;
  guestName: string;
  appId: string;
  appName: string;
  groupName: string;
  invitedBy: string;
  invitedByName: string;
  invitedAt: string;
  how: GuestAddedHow;
  operationId: string;
  /** Sponsors as the bot recorded them (user ids); `sponsorInEntra` says whether Entra holds them too. */
  sponsorIds: string[];
  sponsorInEntra: boolean;
  /** Last known externalUserState (PendingAcceptance, Accepted) and since when. */
  redemption: string | null;
  redemptionSince: string | null;
  /** Added or last kept: the next review is due GUEST_REVIEW_INTERVAL after it. */
  lastKeptAt: string;
  keptBy: string | null;
  lastResentAt: string | null;
  reviewState: GuestReviewState;
  reviewId: string | null;
  reviewOpenedAt: string | null;
  remindedAt: string | null;
  removedAt: string | null;
  removedBy: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type NewGuestRecord = Pick<
  GuestRecord,
  | 'tenantId'
  | 'groupId'
  | 'guestId'
  | 'guestEmail'
  | 'guestName'
  | 'appId'
  | 'appName'
  | 'groupName'
  | 'invitedBy'
  | 'invitedByName'
  | 'how'
  | 'operationId'
  | 'sponsorIds'
  | 'sponsorInEntra'
  | 'redemption'
>;

export type GuestRecordPatch = Partial<
  Pick<
    GuestRecord,
    | 'sponsorIds'
    | 'sponsorInEntra'
    | 'redemption'
    | 'redemptionSince'
    | 'lastKeptAt'
    | 'keptBy'
    | 'lastResentAt'
    | 'reviewState'
    | 'reviewId'
    | 'reviewOpenedAt'
    | 'remindedAt'
    | 'removedAt'
    | 'removedBy'
  >
>;

export interface GuestRecordStore {
  /**
   * Records a guest the bot added to a group: creates the record, or for a guest added again (another
   * operation) takes the new facts and starts the review period again. The same operation twice changes nothing.
   */
  recordAdded(record: NewGuestRecord, now: Date): Promise<GuestRecord>;
  get(key: GuestKey): Promise<GuestRecord | undefined>;
  /** Compare-and-set on `version`; ConflictError on a mismatch or a missing record. */
  update(key: GuestKey, expectedVersion: number, patch: GuestRecordPatch, now: Date): Promise<GuestRecord>;
  /** Guests still in these groups (not removed by the bot), newest first. */
  listForGroups(tenantId: string, groupIds: readonly string[], limit: number): Promise<GuestRecord[]>;
  /** Groups (any tenant) holding guests with no review running whose last keep is at or before `keptBefore`. */
  listDueGroups(keptBefore: Date, limit: number): Promise<Array<{ tenantId: string; groupId: string }>>;
  /** Open reviews opened at or before `openedBefore`, any tenant, oldest first (reminders, default after grace). */
  listOpenReviews(openedBefore: Date, limit: number): Promise<GuestRecord[]>;
  /**
   * Opens a review of one group's due guests (last kept at or before `keptBefore`), in one statement: only records
   * still in the group with no review running are opened, so two sweeps never open the same guest twice.
   * Returns the records it opened.
   */
  openReview(tenantId: string, groupId: string, keptBefore: Date, reviewId: string, now: Date): Promise<GuestRecord[]>;
  /**
   * Marks the open records of a review as reminded, once: returns the records this call marked (none the second time).
   */
  markReminded(reviewId: string, now: Date): Promise<GuestRecord[]>;
  /** Every record of a tenant, removed ones included, newest first (reports). */
  listForTenant(tenantId: string, limit: number): Promise<GuestRecord[]>;
}

const HOWS: readonly GuestAddedHow[] = ['invite', 'request'];
const REVIEW_STATES: readonly GuestReviewState[] = ['none', 'open'];

export type GuestKeyParams = Pick<GuestRow, 'tenant_id' | 'group_id' | 'guest_id'>;

export function guestKeyParams(key: GuestKey): GuestKeyParams {
  return {
    tenant_id: checkString(key.tenantId, 'Guest record tenantId'),
    group_id: checkString(key.groupId, 'Guest record groupId'),
    guest_id: checkString(key.guestId, 'Guest record guestId'),
  };
}

export type GuestCreateParams = Pick<
  GuestRow,
  | keyof GuestKeyParams
  | 'guest_email'
  | 'guest_name'
  | 'app_id'
  | 'app_name'
  | 'group_name'
  | 'invited_by'
  | 'invited_by_name'
  | 'how'
  | 'operation_id'
  | 'redemption'
> & { sponsor_ids: string; sponsor_in_entra: boolean; now: string };

function checkSponsors(value: unknown): string {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && id.length > 0)) {
    throw new TypeError('Guest record sponsorIds must be an array of ids');
  }
  return jsonText(value, 'Guest record sponsorIds');
}

export function guestCreateParams(record: NewGuestRecord, now: Date): GuestCreateParams {
  checkOneOf(HOWS, record.how, 'guest record how');
  checkBoolean(record.sponsorInEntra, 'Guest record sponsorInEntra');
  return {
    ...guestKeyParams(record),
    guest_email: checkString(record.guestEmail, 'Guest record guestEmail'),
    guest_name: checkText(record.guestName, 'Guest record guestName'),
    app_id: checkString(record.appId, 'Guest record appId'),
    app_name: checkText(record.appName, 'Guest record appName'),
    group_name: checkText(record.groupName, 'Guest record groupName'),
    invited_by: checkString(record.invitedBy, 'Guest record invitedBy'),
    invited_by_name: checkText(record.invitedByName, 'Guest record invitedByName'),
    how: record.how,
    operation_id: checkString(record.operationId, 'Guest record operationId'),
    sponsor_ids: checkSponsors(record.sponsorIds),
    sponsor_in_entra: record.sponsorInEntra,
    redemption: checkNullableText(record.redemption, 'Guest record redemption'),
    now: checkDate(now).toISOString(),
  };
}

/** Columns a GuestRecordPatch may change, with their fields. */
export const GUEST_PATCH = [
  ['sponsorIds', 'sponsor_ids'],
  ['sponsorInEntra', 'sponsor_in_entra'],
  ['redemption', 'redemption'],
  ['redemptionSince', 'redemption_since'],
  ['lastKeptAt', 'last_kept_at'],
  ['keptBy', 'kept_by'],
  ['lastResentAt', 'last_resent_at'],
  ['reviewState', 'review_state'],
  ['reviewId', 'review_id'],
  ['reviewOpenedAt', 'review_opened_at'],
  ['remindedAt', 'reminded_at'],
  ['removedAt', 'removed_at'],
  ['removedBy', 'removed_by'],
] as const satisfies readonly (readonly [keyof GuestRecordPatch, keyof GuestRow])[];

export type GuestPatchColumn = (typeof GUEST_PATCH)[number][1];

export function guestPatchColumns(patch: GuestRecordPatch): PatchColumns<GuestPatchColumn> {
  return patchColumns(GUEST_PATCH, patch, (field, value) => {
    switch (field) {
      case 'sponsorIds':
        return checkSponsors(value);
      case 'sponsorInEntra':
        return checkBoolean(value, 'Guest record sponsorInEntra');
      case 'reviewState':
        return checkOneOf(REVIEW_STATES, value, 'review state');
      case 'lastKeptAt':
        return checkString(value, 'Guest record lastKeptAt');
      default:
        return checkNullableText(value, `Guest record ${field}`);
    }
  });
}

export interface GuestRow {
  tenant_id: string;
  group_id: string;
  guest_id: string;
  guest_email: string;
  guest_name: string;
  app_id: string;
  app_name: string;
  group_name: string;
  invited_by: string;
  invited_by_name: string;
  invited_at: string;
  how: GuestAddedHow;
  operation_id: string;
  sponsor_ids: JsonColumn;
  sponsor_in_entra: number | boolean;
  redemption: string | null;
  redemption_since: string | null;
  last_kept_at: string;
  kept_by: string | null;
  last_resent_at: string | null;
  review_state: GuestReviewState;
  review_id: string | null;
  review_opened_at: string | null;
  reminded_at: string | null;
  removed_at: string | null;
  removed_by: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export function toGuestRecord(row: GuestRow): GuestRecord {
  return {
    tenantId: row.tenant_id,
    groupId: row.group_id,
    guestId: row.guest_id,
    guestEmail: row.guest_email,
    guestName: row.guest_name,
    appId: row.app_id,
    appName: row.app_name,
    groupName: row.group_name,
    invitedBy: row.invited_by,
    invitedByName: row.invited_by_name,
    invitedAt: row.invited_at,
    how: row.how,
    operationId: row.operation_id,
    sponsorIds: parseJson<string[]>(row.sponsor_ids),
    sponsorInEntra: row.sponsor_in_entra === 1 || row.sponsor_in_entra === true,
    redemption: row.redemption,
    redemptionSince: row.redemption_since,
    lastKeptAt: row.last_kept_at,
    keptBy: row.kept_by,
    lastResentAt: row.last_resent_at,
    reviewState: row.review_state,
    reviewId: row.review_id,
    reviewOpenedAt: row.review_opened_at,
    remindedAt: row.reminded_at,
    removedAt: row.removed_at,
    removedBy: row.removed_by,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The columns of the table, in one order for both engines' inserts. */
export const GUEST_INSERT = `INSERT INTO guest_records (tenant_id, group_id, guest_id, guest_email, guest_name, app_id, app_name,
     group_name, invited_by, invited_by_name, invited_at, how, operation_id, sponsor_ids, sponsor_in_entra, redemption,
     redemption_since, last_kept_at, kept_by, last_resent_at, review_state, review_id, review_opened_at, reminded_at,
     removed_at, removed_by, version, created_at, updated_at)
   VALUES (@tenant_id, @group_id, @guest_id, @guest_email, @guest_name, @app_id, @app_name,
     @group_name, @invited_by, @invited_by_name, @now, @how, @operation_id, @sponsor_ids, @sponsor_in_entra,
     @redemption,
     @now, @now, NULL, NULL, 'none', NULL, NULL, NULL,
     NULL, NULL, 1, @now, @now)
   ON CONFLICT (tenant_id, group_id, guest_id) DO UPDATE SET
     guest_email = excluded.guest_email, guest_name = excluded.guest_name, app_id = excluded.app_id,
     app_name = excluded.app_name, group_name = excluded.group_name, invited_by = excluded.invited_by,
     invited_by_name = excluded.invited_by_name, invited_at = excluded.invited_at, how = excluded.how,
     operation_id = excluded.operation_id, sponsor_ids = excluded.sponsor_ids,
     sponsor_in_entra = excluded.sponsor_in_entra,
     redemption = excluded.redemption, redemption_since = excluded.redemption_since,
     last_kept_at = excluded.last_kept_at,
     kept_by = NULL, last_resent_at = NULL, review_state = 'none', review_id = NULL, review_opened_at = NULL,
     reminded_at = NULL, removed_at = NULL, removed_by = NULL,
     version = guest_records.version + 1, updated_at = excluded.updated_at
   WHERE guest_records.operation_id <> excluded.operation_id
   RETURNING *`;

export const GUEST_GET =
  'SELECT * FROM guest_records WHERE tenant_id = @tenant_id AND group_id = @group_id AND guest_id = @guest_id';

export const GUEST_SPEC: TableSpec = {
  table: 'guest_records',
  key: ['tenant_id', 'group_id', 'guest_id'],
  tenantColumn: 'tenant_id',
  text: ['guest_name', 'invited_by', 'invited_by_name', 'kept_by', 'removed_by', 'app_name', 'group_name'],
  json: ['sponsor_ids'],
  subject: ['guest_email'],
  names: [['invited_by', 'invited_by_name']],
  version: 'counter',
};
