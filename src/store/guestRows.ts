/**
 * Guest records for every engine: the port's inputs checked and turned into column values, and rows mapped back
 * to records (SQLite returns JSON as text and booleans as 0/1, PostgreSQL parsed JSON and booleans).
 */
import type { GuestAddedHow, GuestKey, GuestRecord, GuestRecordPatch, GuestReviewState, NewGuestRecord } from './store';
import type { PatchColumns } from './params';
import { checkDate, checkNullableText, checkString, checkText, jsonText, parseJson, type JsonColumn } from './values';

const HOWS: readonly GuestAddedHow[] = ['invite', 'request'];
const REVIEW_STATES: readonly GuestReviewState[] = ['none', 'open'];

export interface GuestKeyParams {
  tenant_id: string;
  group_id: string;
  guest_id: string;
}

export function guestKeyParams(key: GuestKey): GuestKeyParams {
  return {
    tenant_id: checkString(key.tenantId, 'Guest record tenantId'),
    group_id: checkString(key.groupId, 'Guest record groupId'),
    guest_id: checkString(key.guestId, 'Guest record guestId'),
  };
}

export interface GuestCreateParams extends GuestKeyParams {
  guest_email: string;
  guest_name: string;
  app_id: string;
  app_name: string;
  group_name: string;
  invited_by: string;
  invited_by_name: string;
  how: GuestAddedHow;
  operation_id: string;
  sponsor_ids: string;
  sponsor_in_entra: boolean;
  redemption: string | null;
  now: string;
}

function checkSponsors(value: unknown): string {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string' && id.length > 0)) {
    throw new TypeError('Guest record sponsorIds must be an array of ids');
  }
  return jsonText(value, 'Guest record sponsorIds');
}

export function guestCreateParams(record: NewGuestRecord, now: Date): GuestCreateParams {
  if (!HOWS.includes(record.how)) throw new TypeError(`Unknown guest record how '${String(record.how)}'`);
  if (typeof record.sponsorInEntra !== 'boolean') throw new TypeError('Guest record sponsorInEntra must be a boolean');
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
] as const satisfies readonly (readonly [keyof GuestRecordPatch, string])[];

export type GuestPatchColumn = (typeof GUEST_PATCH)[number][1];

export function guestPatchColumns(patch: GuestRecordPatch): PatchColumns<GuestPatchColumn> {
  const columns: PatchColumns<GuestPatchColumn> = [];
  for (const [field, column] of GUEST_PATCH) {
    const value: unknown = patch[field];
    if (value === undefined) continue;
    if (field === 'sponsorIds') columns.push([column, checkSponsors(value)]);
    else if (field === 'sponsorInEntra') {
      if (typeof value !== 'boolean') throw new TypeError('Guest record sponsorInEntra must be a boolean');
      columns.push([column, value]);
    } else if (field === 'reviewState') {
      if (!REVIEW_STATES.includes(value as GuestReviewState))
        throw new TypeError(`Unknown review state '${String(value)}'`);
      columns.push([column, value as GuestReviewState]);
    } else if (field === 'lastKeptAt') columns.push([column, checkString(value, 'Guest record lastKeptAt')]);
    else columns.push([column, checkNullableText(value, `Guest record ${field}`)]);
  }
  return columns;
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
     @group_name, @invited_by, @invited_by_name, @now, @how, @operation_id, @sponsor_ids, @sponsor_in_entra, @redemption,
     @now, @now, NULL, NULL, 'none', NULL, NULL, NULL,
     NULL, NULL, 1, @now, @now)
   ON CONFLICT (tenant_id, group_id, guest_id) DO UPDATE SET
     guest_email = excluded.guest_email, guest_name = excluded.guest_name, app_id = excluded.app_id,
     app_name = excluded.app_name, group_name = excluded.group_name, invited_by = excluded.invited_by,
     invited_by_name = excluded.invited_by_name, invited_at = excluded.invited_at, how = excluded.how,
     operation_id = excluded.operation_id, sponsor_ids = excluded.sponsor_ids, sponsor_in_entra = excluded.sponsor_in_entra,
     redemption = excluded.redemption, redemption_since = excluded.redemption_since, last_kept_at = excluded.last_kept_at,
     kept_by = NULL, last_resent_at = NULL, review_state = 'none', review_id = NULL, review_opened_at = NULL,
     reminded_at = NULL, removed_at = NULL, removed_by = NULL,
     version = guest_records.version + 1, updated_at = excluded.updated_at
   WHERE guest_records.operation_id <> excluded.operation_id
   RETURNING *`;

export const GUEST_GET =
  'SELECT * FROM guest_records WHERE tenant_id = @tenant_id AND group_id = @group_id AND guest_id = @guest_id';
