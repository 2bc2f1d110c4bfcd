/**
 * The port's inputs checked and turned into column values, for every engine: each engine's store only binds
 * them into its own SQL. A patch becomes the list of the columns it changes (a field present with null is
 * set to NULL; an absent field keeps its column).
 */
import type {
  AccessRequestPatch,
  AccessRequestState,
  AlertOccurrence,
  AlertPatch,
  AlertState,
  AuditEntry,
  AuditQuery,
  NewAccessRequest,
  NewOperation,
  OperationPatch,
  OperationStatus,
} from './store';
import { checkDate, checkNullableText, checkString, checkText, jsonObjectText, jsonText } from './values';

export const DEFAULT_AUDIT_LIMIT = 100;
const STATUSES: readonly OperationStatus[] = ['pending', 'running', 'succeeded', 'failed'];
const REQUEST_STATES: readonly AccessRequestState[] = ['pending', 'approved', 'denied', 'withdrawn', 'expired'];
const ALERT_STATES: readonly AlertState[] = ['open', 'acknowledged', 'resolved'];

export type ColumnValue = string | number | boolean | null;
/** The columns a patch changes, with their new values, in a fixed order. */
export type PatchColumns<C extends string> = Array<readonly [C, ColumnValue]>;

function patchColumns<F extends string, C extends string>(
  spec: readonly (readonly [F, C])[],
  patch: Partial<Record<F, unknown>>,
  convert: (field: F, value: unknown) => ColumnValue,
): PatchColumns<C> {
  const columns: PatchColumns<C> = [];
  for (const [field, column] of spec) {
    const value = patch[field];
    if (value !== undefined) columns.push([column, convert(field, value)]);
  }
  return columns;
}

// ---------------------------------------------------------------------------------------------------------
// Operations

export interface OperationCreateParams {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  input: string;
  reply_to: string | null;
  now: string;
}

export function operationCreateParams(op: NewOperation, now: Date): OperationCreateParams {
  return {
    id: checkString(op.id, 'Operation id'),
    kind: checkString(op.kind, 'Operation kind'),
    tenant_id: checkString(op.tenantId, 'Operation tenantId'),
    actor_id: checkString(op.actorId, 'Operation actorId'),
    input: jsonObjectText(op.input, 'Operation input'),
    reply_to: op.replyTo == null ? null : jsonObjectText(op.replyTo, 'Operation replyTo'),
    now: checkDate(now).toISOString(),
  };
}

export const OPERATION_PATCH = [
  ['status', 'status'],
  ['steps', 'steps'],
  ['result', 'result'],
  ['replyTo', 'reply_to'],
  ['attempts', 'attempts'],
] as const satisfies readonly (readonly [keyof OperationPatch, string])[];

export type OperationPatchColumn = (typeof OPERATION_PATCH)[number][1];

export function operationPatchColumns(patch: OperationPatch): PatchColumns<OperationPatchColumn> {
  return patchColumns(OPERATION_PATCH, patch, (field, value) => {
    switch (field) {
      case 'status':
        if (!STATUSES.includes(value as OperationStatus)) {
          throw new TypeError(`Unknown operation status '${String(value)}'`);
        }
        return value as OperationStatus;
      case 'attempts':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          throw new TypeError('attempts must be a non-negative integer');
        }
        return value;
      case 'steps':
        return jsonObjectText(value, 'Operation steps');
      case 'result':
        return value === null ? null : jsonObjectText(value, 'Operation result');
      case 'replyTo':
        return value === null ? null : jsonObjectText(value, 'Operation replyTo');
    }
  });
}

export interface LeaseParams {
  id: string;
  owner: string;
  now_ms: number;
  expires_ms: number;
  now: string;
}

export function leaseParams(id: string, owner: string, ttlMs: number, now: Date): LeaseParams {
  checkString(owner, 'Lease owner');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError('Lease ttlMs must be a positive number');
  }
  const nowMs = checkDate(now).getTime();
  return { id, owner, now_ms: nowMs, expires_ms: nowMs + Math.ceil(ttlMs), now: now.toISOString() };
}

export function checkMaxAttempts(maxAttempts: unknown): number {
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 0) {
    throw new TypeError('maxAttempts must be a non-negative integer');
  }
  return maxAttempts;
}

// ---------------------------------------------------------------------------------------------------------
// Access requests

export interface RequestCreateParams {
  id: string;
  tenant_id: string;
  requester_id: string;
  requester_name: string;
  app_id: string;
  app_name: string;
  group_id: string;
  group_name: string;
  justification: string;
  owner_ids: string;
  now: string;
}

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
] as const satisfies readonly (readonly [keyof AccessRequestPatch, string])[];

export type RequestPatchColumn = (typeof REQUEST_PATCH)[number][1];

/** Checks each patch value and converts it to its column value (JSON text for ownerCards and outcome). */
export function requestPatchColumns(patch: AccessRequestPatch): PatchColumns<RequestPatchColumn> {
  return patchColumns(REQUEST_PATCH, patch, (field, value) => {
    switch (field) {
      case 'state':
        if (!REQUEST_STATES.includes(value as AccessRequestState)) {
          throw new TypeError(`Unknown access request state '${String(value)}'`);
        }
        return value as AccessRequestState;
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
export interface SlotParams {
  tenant_id: string;
  requester_id: string;
  group_id: string;
}

export function slotOf(row: SlotParams): SlotParams {
  return { tenant_id: row.tenant_id, requester_id: row.requester_id, group_id: row.group_id };
}

// ---------------------------------------------------------------------------------------------------------
// Alerts

export interface OccurrenceParams {
  tenant_id: string;
  key: string;
  kind: string;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  summary: string;
  fix: string;
  last_blocked: string | null;
  now: string;
}

export function occurrenceParams(occurrence: AlertOccurrence, now: Date): OccurrenceParams {
  if (!Array.isArray(occurrence.fix)) {
    throw new TypeError('Alert fix must be an array of strings');
  }
  occurrence.fix.forEach((step, i) => checkText(step, `Alert fix[${i}]`));
  const optional = (field: 'appId' | 'appName' | 'groupId' | 'groupName'): string | null => {
    const value = occurrence[field];
    return value === undefined ? null : checkNullableText(value, `Alert ${field}`);
  };
  return {
    tenant_id: checkString(occurrence.tenantId, 'Alert tenantId'),
    key: checkString(occurrence.key, 'Alert key'),
    kind: checkString(occurrence.kind, 'Alert kind'),
    app_id: optional('appId'),
    app_name: optional('appName'),
    group_id: optional('groupId'),
    group_name: optional('groupName'),
    summary: checkText(occurrence.summary, 'Alert summary'),
    fix: jsonText(occurrence.fix, 'Alert fix'),
    last_blocked: occurrence.lastBlocked == null ? null : jsonObjectText(occurrence.lastBlocked, 'Alert lastBlocked'),
    now: checkDate(now).toISOString(),
  };
}

/** Columns an AlertPatch may change, with their fields. */
export const ALERT_PATCH = [
  ['state', 'state'],
  ['lastAlertedAt', 'last_alerted_at'],
  ['pendingDelivery', 'pending_delivery'],
  ['acknowledgedBy', 'acknowledged_by'],
  ['resolvedAt', 'resolved_at'],
  ['countSinceAlert', 'count_since_alert'],
] as const satisfies readonly (readonly [keyof AlertPatch, string])[];

export type AlertPatchColumn = (typeof ALERT_PATCH)[number][1];

export function checkAlertState(value: unknown): AlertState {
  if (!ALERT_STATES.includes(value as AlertState)) {
    throw new TypeError(`Unknown alert state '${String(value)}'`);
  }
  return value as AlertState;
}

export function checkAlertStates(states: unknown): readonly AlertState[] {
  if (!Array.isArray(states)) {
    throw new TypeError('Alert states must be an array');
  }
  states.forEach(checkAlertState);
  return states as AlertState[];
}

/** Checks each patch value; pendingDelivery stays a boolean (each engine stores it its own way). */
export function alertPatchColumns(patch: AlertPatch): PatchColumns<AlertPatchColumn> {
  return patchColumns(ALERT_PATCH, patch, (field, value) => {
    switch (field) {
      case 'state':
        return checkAlertState(value);
      case 'pendingDelivery':
        if (typeof value !== 'boolean') {
          throw new TypeError('Alert pendingDelivery must be a boolean');
        }
        return value;
      case 'countSinceAlert':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          throw new TypeError('Alert countSinceAlert must be a non-negative integer');
        }
        return value;
      default:
        return checkNullableText(value, `Alert ${field}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Audit

export interface AuditParams {
  time: string;
  tenant_id: string;
  actor_id: string;
  action: string;
  outcome: string;
  actor_name: string | null;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  guest_email: string | null;
  guest_id: string | null;
  detail: string | null;
  graph_request_id: string | null;
  activity_id: string | null;
  operation_id: string | null;
}

/** Optional audit fields and their columns. */
export const AUDIT_OPTIONAL = [
  ['actorName', 'actor_name'],
  ['appId', 'app_id'],
  ['appName', 'app_name'],
  ['groupId', 'group_id'],
  ['groupName', 'group_name'],
  ['guestEmail', 'guest_email'],
  ['guestId', 'guest_id'],
  ['detail', 'detail'],
  ['graphRequestId', 'graph_request_id'],
  ['activityId', 'activity_id'],
  ['operationId', 'operation_id'],
] as const satisfies readonly (readonly [keyof AuditEntry, keyof AuditParams])[];

/** Every audit column in insert order. */
export const AUDIT_COLUMNS = [
  'time',
  'tenant_id',
  'actor_id',
  'action',
  'outcome',
  ...AUDIT_OPTIONAL.map(([, c]) => c),
] as const;

export function auditParams(entry: AuditEntry): AuditParams {
  const optional = (field: (typeof AUDIT_OPTIONAL)[number][0]): string | null => {
    const v = entry[field];
    if (v === undefined || v === null) {
      return null;
    }
    if (typeof v !== 'string') {
      throw new TypeError(`Audit field '${field}' must be a string`);
    }
    return v;
  };
  const params = {
    time: checkString(entry.time, 'Audit field time'),
    tenant_id: checkString(entry.tenantId, 'Audit field tenantId'),
    actor_id: checkString(entry.actorId, 'Audit field actorId'),
    action: checkString(entry.action, 'Audit field action'),
    outcome: checkString(entry.outcome, 'Audit field outcome'),
  } as AuditParams;
  for (const [field, column] of AUDIT_OPTIONAL) {
    params[column] = optional(field);
  }
  return params;
}

const AUDIT_FILTERS = [
  ['tenantId', 'tenant_id'],
  ['actorId', 'actor_id'],
  ['action', 'action'],
  ['operationId', 'operation_id'],
] as const satisfies readonly (readonly [keyof AuditQuery, string])[];

/** The filters a query sets, as columns and values in a fixed order, and its limit. */
export function auditQuery(query: AuditQuery): { filters: Array<readonly [string, string]>; limit: number } {
  const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError('Audit query limit must be a positive integer');
  }
  const filters: Array<readonly [string, string]> = [];
  for (const [field, column] of AUDIT_FILTERS) {
    const v = query[field];
    if (v !== undefined) filters.push([column, v]);
  }
  return { filters, limit };
}

// ---------------------------------------------------------------------------------------------------------
// Timer jobs

export interface JobClaimParams {
  name: string;
  owner: string;
  now_ms: number;
  expires_ms: number;
  min_gap_ms: number;
}

export function jobClaimParams(
  name: string,
  owner: string,
  minGapMs: number,
  leaseMs: number,
  now: Date,
): JobClaimParams {
  if (!Number.isFinite(minGapMs) || minGapMs < 0) {
    throw new TypeError('Job minGapMs must be a non-negative number');
  }
  const lease = leaseParams(checkString(name, 'Job name'), owner, leaseMs, now);
  return {
    name: lease.id,
    owner: lease.owner,
    now_ms: lease.now_ms,
    expires_ms: lease.expires_ms,
    min_gap_ms: Math.floor(minGapMs),
  };
}
