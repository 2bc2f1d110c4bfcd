/**
 * Stored record: access requests, decided by a group's owners. Their port, the inputs checked into column values,
 * the row mapped back, and what a request holds about a person; one mapping for both engines.
 */
import type { TableSpec } from '../erasure';
import type { JsonObject } from '../store';
import {
  checkDate,
  checkNullableText,
  checkOneOf,
  checkString,
  checkText,
  jsonObjectText,
  jsonText,
  parseJson,
  parseNullableObject,
  patchColumns,
  type JsonColumn,
  type PatchColumns,
} from '../values';

export type AccessRequestState = 'pending' | 'approved' | 'denied' | 'withdrawn' | 'expired';

/** One copy of the approval card in one owner's chat (an owner may have several copies). */
export interface OwnerCard {
  ownerId: string;
  ownerName: string;
  /** 'sent': the card is in the owner's chat; 'unreachable': delivery failed (reason in `error`). */
  status: 'sent' | 'unreachable';
  /** Opaque to the store: where the card is (conversation reference and activity id). */
  location: JsonObject | null;
  error: string | null;
  at: string;
}

/** A request for membership of an app's self-service group, decided by the group's owners. */
export interface AccessRequestRecord {
  id: string;
  tenantId: string;
  requesterId: string;
  requesterName: string;
  appId: string;
  appName: string;
  groupId: string;
  groupName: string;
  justification: string;
  state: AccessRequestState;
  /** Owners at the time of the request (who was asked). */
  ownerIds: string[];
  ownerCards: OwnerCard[];
  decidedBy: string | null;
  decidedByName: string | null;
  decidedAt: string | null;
  comment: string | null;
  /** What happened after the decision (e.g. the membership write), for the cards and the requester. */
  outcome: JsonObject | null;
  remindedAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type NewAccessRequest = Pick<
  AccessRequestRecord,
  | 'id'
  | 'tenantId'
  | 'requesterId'
  | 'requesterName'
  | 'appId'
  | 'appName'
  | 'groupId'
  | 'groupName'
  | 'justification'
  | 'ownerIds'
>;

export type AccessRequestPatch = Partial<
  Pick<
    AccessRequestRecord,
    'state' | 'ownerCards' | 'decidedBy' | 'decidedByName' | 'decidedAt' | 'comment' | 'outcome' | 'remindedAt'
  >
>;

/** Thrown by AccessRequestStore.create when the requester already has a pending request for that group. */
export class DuplicateRequestError extends Error {
  constructor(readonly existingId: string) {
    super(`A pending request for this group already exists: ${existingId}`);
    this.name = 'DuplicateRequestError';
  }
}

export interface AccessRequestStore {
  /** Creates a pending request; at most one pending request per (tenant, requester, group), atomically. */
  create(request: NewAccessRequest, now: Date): Promise<AccessRequestRecord>;
  get(id: string): Promise<AccessRequestRecord | undefined>;
  /** Compare-and-set on `version`; throws ConflictError on a mismatch (or a missing record). */
  update(id: string, expectedVersion: number, patch: AccessRequestPatch, now: Date): Promise<AccessRequestRecord>;
  /** The requester's requests, newest first. */
  listByRequester(tenantId: string, requesterId: string, limit: number): Promise<AccessRequestRecord[]>;
  /** Pending requests in which `ownerId` was asked, oldest first. */
  listPendingForOwner(tenantId: string, ownerId: string, limit: number): Promise<AccessRequestRecord[]>;
  /** Pending requests created at or before `createdBefore`, oldest first (for reminders and expiry). */
  listPendingCreatedBefore(createdBefore: Date, limit: number): Promise<AccessRequestRecord[]>;
}

const REQUEST_STATES: readonly AccessRequestState[] = ['pending', 'approved', 'denied', 'withdrawn', 'expired'];

export interface AccessRequestRow {
  id: string;
  tenant_id: string;
  requester_id: string;
  requester_name: string;
  app_id: string;
  app_name: string;
  group_id: string;
  group_name: string;
  justification: string;
  state: AccessRequestState;
  owner_ids: JsonColumn;
  owner_cards: JsonColumn;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: string | null;
  comment: string | null;
  outcome: JsonColumn | null;
  reminded_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export type RequestCreateParams = Pick<
  AccessRequestRow,
  | 'id'
  | 'tenant_id'
  | 'requester_id'
  | 'requester_name'
  | 'app_id'
  | 'app_name'
  | 'group_id'
  | 'group_name'
  | 'justification'
> & { owner_ids: string; now: string };

export function requestCreateParams(request: NewAccessRequest, now: Date): RequestCreateParams {
  if (!Array.isArray(request.ownerIds)) {
    throw new TypeError('Access request ownerIds must be an array');
  }
  request.ownerIds.forEach((ownerId, i) => checkString(ownerId, `Access request ownerIds[${i}]`));
  return {
    id: checkString(request.id, 'Access request id'),
    tenant_id: checkString(request.tenantId, 'Access request tenantId'),
    requester_id: checkString(request.requesterId, 'Access request requesterId'),
    requester_name: checkText(request.requesterName, 'Access request requesterName'),
    app_id: checkString(request.appId, 'Access request appId'),
    app_name: checkText(request.appName, 'Access request appName'),
    group_id: checkString(request.groupId, 'Access request groupId'),
    group_name: checkText(request.groupName, 'Access request groupName'),
    justification: checkText(request.justification, 'Access request justification'),
    owner_ids: jsonText(request.ownerIds, 'Access request ownerIds'),
    now: checkDate(now).toISOString(),
  };
}

/** Columns an AccessRequestPatch may change, with their fields. */
export const REQUEST_PATCH = [
  ['state', 'state'],
  ['ownerCards', 'owner_cards'],
  ['decidedBy', 'decided_by'],
  ['decidedByName', 'decided_by_name'],
  ['decidedAt', 'decided_at'],
  ['comment', 'comment'],
  ['outcome', 'outcome'],
  ['remindedAt', 'reminded_at'],
] as const satisfies readonly (readonly [keyof AccessRequestPatch, keyof AccessRequestRow])[];

export type RequestPatchColumn = (typeof REQUEST_PATCH)[number][1];

/** Checks each patch value and converts it to its column value (JSON text for ownerCards and outcome). */
export function requestPatchColumns(patch: AccessRequestPatch): PatchColumns<RequestPatchColumn> {
  return patchColumns(REQUEST_PATCH, patch, (field, value) => {
    switch (field) {
      case 'state':
        return checkOneOf(REQUEST_STATES, value, 'access request state');
      case 'ownerCards':
        if (!Array.isArray(value) || !value.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c))) {
          throw new TypeError('Access request ownerCards must be an array of objects');
        }
        return jsonText(value, 'Access request ownerCards');
      case 'outcome':
        return value === null ? null : jsonObjectText(value, 'Access request outcome');
      default:
        return checkNullableText(value, `Access request ${field}`);
    }
  });
}

/** The one-pending-request slot of a request. */
export type SlotParams = Pick<AccessRequestRow, 'tenant_id' | 'requester_id' | 'group_id'>;

export function slotOf(row: SlotParams): SlotParams {
  return { tenant_id: row.tenant_id, requester_id: row.requester_id, group_id: row.group_id };
}

export function toAccessRequest(row: AccessRequestRow): AccessRequestRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    requesterId: row.requester_id,
    requesterName: row.requester_name,
    appId: row.app_id,
    appName: row.app_name,
    groupId: row.group_id,
    groupName: row.group_name,
    justification: row.justification,
    state: row.state,
    ownerIds: parseJson<string[]>(row.owner_ids),
    ownerCards: parseJson<OwnerCard[]>(row.owner_cards),
    decidedBy: row.decided_by,
    decidedByName: row.decided_by_name,
    decidedAt: row.decided_at,
    comment: row.comment,
    outcome: parseNullableObject(row.outcome),
    remindedAt: row.reminded_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const REQUEST_SPEC: TableSpec = {
  table: 'access_requests',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['requester_name', 'justification', 'comment', 'decided_by', 'decided_by_name', 'app_name', 'group_name'],
  json: ['owner_ids', 'owner_cards', 'outcome'],
  subject: ['requester_id'],
  names: [['decided_by', 'decided_by_name']],
  version: 'counter',
};

/** Who was asked to decide each request. */
export const REQUEST_OWNER_SPEC: TableSpec = {
  table: 'access_request_owners',
  key: ['request_id', 'owner_id'],
  tenantColumn: null,
  text: [],
  json: [],
  subject: [],
};
