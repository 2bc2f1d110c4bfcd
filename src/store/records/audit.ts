/**
 * Stored record: the append-only audit log. Its port, the entry checked into column values, the row mapped back,
 * and what an entry holds about a person; one mapping for both engines.
 */
import type { TableSpec } from '../erasure';
import { checkString, type BigIntColumn } from '../values';

export interface AuditEntry {
  /** Assigned by the store on append. */
  seq?: number;
  time: string;
  tenantId: string;
  actorId: string;
  actorName?: string;
  /** e.g. invite.succeeded, invite.refused, invite.failed, invite.forged */
  action: string;
  outcome: string;
  appId?: string;
  appName?: string;
  groupId?: string;
  groupName?: string;
  guestEmail?: string;
  guestId?: string;
  detail?: string;
  graphRequestId?: string;
  activityId?: string;
  operationId?: string;
}

export interface AuditQuery {
  tenantId?: string;
  actorId?: string;
  action?: string;
  operationId?: string;
  /** Newest first; default 100. */
  limit?: number;
}

/** Append-only audit log. */
export interface AuditLog {
  append(entry: AuditEntry): Promise<number>;
  list(query?: AuditQuery): Promise<AuditEntry[]>;
}

export const DEFAULT_AUDIT_LIMIT = 100;

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

export type AuditRow = AuditParams & { seq: BigIntColumn };

export function toAuditEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    seq: Number(row.seq),
    time: row.time,
    tenantId: row.tenant_id,
    actorId: row.actor_id,
    action: row.action,
    outcome: row.outcome,
  };
  for (const [field, column] of AUDIT_OPTIONAL) {
    const v = row[column];
    if (v !== null) {
      entry[field] = v;
    }
  }
  return entry;
}

export const AUDIT_SPEC: TableSpec = {
  table: 'audit_log',
  key: ['seq'],
  tenantColumn: 'tenant_id',
  text: ['actor_id', 'actor_name', 'guest_email', 'guest_id', 'detail', 'app_name', 'group_name'],
  json: [],
  subject: [],
  names: [['actor_id', 'actor_name']],
};
