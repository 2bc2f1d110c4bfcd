/**
 * Rows as the engines return them, and their mapping to the port's records; one mapping for every engine
 * (SQLite returns JSON columns as text and 64-bit integers as numbers, PostgreSQL parsed JSON and strings).
 */
import type {
  AccessRequestRecord,
  AccessRequestState,
  AlertRecord,
  AlertState,
  AuditEntry,
  JobClaim,
  OperationRecord,
  OperationStatus,
  OwnerCard,
  StepRecord,
} from './store';
import { parseJson, parseNullableObject, parseObject, type JsonColumn } from './values';
import { AUDIT_OPTIONAL, type AuditParams } from './params';

/** A 64-bit integer column: a number from SQLite, a decimal string from node-postgres. */
export type BigIntColumn = number | string;

export interface StateRow {
  key: string;
  value: JsonColumn;
  version: string;
}

export interface OperationRow {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  status: OperationStatus;
  input: JsonColumn;
  steps: JsonColumn;
  result: JsonColumn | null;
  reply_to: JsonColumn | null;
  attempts: number;
  version: number;
  lease_owner: string | null;
  lease_expires_ms: BigIntColumn | null;
  created_at: string;
  updated_at: string;
}

export function toRecord(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    actorId: row.actor_id,
    status: row.status,
    input: parseObject(row.input),
    steps: parseJson<Record<string, StepRecord>>(row.steps),
    result: parseNullableObject(row.result),
    replyTo: parseNullableObject(row.reply_to),
    attempts: row.attempts,
    version: row.version,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_ms === null ? null : new Date(Number(row.lease_expires_ms)).toISOString(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

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

export interface JobRow {
  name: string;
  lease_owner: string;
  lease_expires_ms: BigIntColumn;
}

export function toJobClaim(row: JobRow): JobClaim {
  return {
    name: row.name,
    owner: row.lease_owner,
    leaseExpiresAt: new Date(Number(row.lease_expires_ms)).toISOString(),
  };
}
