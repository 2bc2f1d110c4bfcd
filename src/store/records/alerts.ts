/**
 * Stored record: alerts, one per setup problem of a tenant as the admins are told about it. Their port, the inputs
 * checked into column values, the row mapped back, and what an alert holds about a person; one mapping for both
 * engines.
 */
import type { TableSpec } from '../erasure';
import type { JsonObject } from '../store';
import {
  checkBoolean,
  checkCount,
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

export type AlertState = 'open' | 'acknowledged' | 'resolved';

/** One setup problem of a tenant, as the admins are told about it (de-duplicated by key). */
export interface AlertRecord {
  tenantId: string;
  /** Stable identity of the problem, e.g. "groupDynamic:<groupId>". */
  key: string;
  kind: string;
  appId: string | null;
  appName: string | null;
  groupId: string | null;
  groupName: string | null;
  summary: string;
  fix: string[];
  state: AlertState;
  /** How often it happened (blocked users, scans that found it) since it was first seen. */
  count: number;
  /** Occurrences since the admins were last told. */
  countSinceAlert: number;
  /** The last person blocked by it and what they were doing, if any. */
  lastBlocked: JsonObject | null;
  firstSeen: string;
  lastSeen: string;
  lastAlertedAt: string | null;
  /** An alert is due but no admin could be reached yet. */
  pendingDelivery: boolean;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  version: number;
}

export interface AlertOccurrence {
  tenantId: string;
  key: string;
  kind: string;
  appId?: string | null;
  appName?: string | null;
  groupId?: string | null;
  groupName?: string | null;
  summary: string;
  fix: string[];
  lastBlocked?: JsonObject | null;
}

export type AlertPatch = Partial<
  Pick<AlertRecord, 'state' | 'lastAlertedAt' | 'pendingDelivery' | 'acknowledgedBy' | 'resolvedAt' | 'countSinceAlert'>
>;

export interface AlertStore {
  /**
   * Records one occurrence atomically: creates the alert (state open, count 1), or increments count and
   * countSinceAlert and refreshes summary, fix, lastBlocked and lastSeen; a resolved alert opens again.
   */
  recordOccurrence(occurrence: AlertOccurrence, now: Date): Promise<AlertRecord>;
  get(tenantId: string, key: string): Promise<AlertRecord | undefined>;
  /** Compare-and-set on version; ConflictError on a mismatch or a missing alert. */
  update(tenantId: string, key: string, expectedVersion: number, patch: AlertPatch, now: Date): Promise<AlertRecord>;
  /** Alerts in the given states, most recently seen first. */
  list(tenantId: string, states: readonly AlertState[], limit: number): Promise<AlertRecord[]>;
  /** Alerts waiting for an admin to become reachable, any tenant, oldest first. */
  listPendingDelivery(limit: number): Promise<AlertRecord[]>;
}

const ALERT_STATES: readonly AlertState[] = ['open', 'acknowledged', 'resolved'];

export interface AlertRow {
  tenant_id: string;
  key: string;
  kind: string;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  summary: string;
  fix: JsonColumn;
  state: AlertState;
  count: number;
  count_since_alert: number;
  last_blocked: JsonColumn | null;
  first_seen: string;
  last_seen: string;
  last_alerted_at: string | null;
  /** 0 or 1 in SQLite, a boolean in PostgreSQL. */
  pending_delivery: number | boolean;
  acknowledged_by: string | null;
  resolved_at: string | null;
  version: number;
  updated_at: string;
}

export type OccurrenceParams = Pick<
  AlertRow,
  'tenant_id' | 'key' | 'kind' | 'app_id' | 'app_name' | 'group_id' | 'group_name' | 'summary'
> & { fix: string; last_blocked: string | null; now: string };

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
] as const satisfies readonly (readonly [keyof AlertPatch, keyof AlertRow])[];

export type AlertPatchColumn = (typeof ALERT_PATCH)[number][1];

export function checkAlertState(value: unknown): AlertState {
  return checkOneOf(ALERT_STATES, value, 'alert state');
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
        return checkBoolean(value, 'Alert pendingDelivery');
      case 'countSinceAlert':
        return checkCount(value, 'Alert countSinceAlert');
      default:
        return checkNullableText(value, `Alert ${field}`);
    }
  });
}

export function toAlert(row: AlertRow): AlertRecord {
  return {
    tenantId: row.tenant_id,
    key: row.key,
    kind: row.kind,
    appId: row.app_id,
    appName: row.app_name,
    groupId: row.group_id,
    groupName: row.group_name,
    summary: row.summary,
    fix: parseJson<string[]>(row.fix),
    state: row.state,
    count: row.count,
    countSinceAlert: row.count_since_alert,
    lastBlocked: parseNullableObject(row.last_blocked),
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lastAlertedAt: row.last_alerted_at,
    pendingDelivery: row.pending_delivery === 1 || row.pending_delivery === true,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at,
    version: row.version,
  };
}

export const ALERT_SPEC: TableSpec = {
  table: 'alerts',
  key: ['tenant_id', 'key'],
  tenantColumn: 'tenant_id',
  text: ['summary', 'acknowledged_by', 'app_name', 'group_name'],
  json: ['fix', 'last_blocked'],
  subject: [],
  version: 'counter',
};
