/**
 * The outbox of proactive messages: its SQL, parameters and rows, the same on both engines (named parameters
 * `@x` are SQLite's; the PostgreSQL store numbers them). A lease is taken and an attempt recorded each by one
 * conditional statement (lease free or expired; `version` unchanged), as the operation records do.
 */
import type { NewOutboxMessage, OutboxAttempt, OutboxRecord, OutboxStatus } from './store';
import { leaseParams, type LeaseParams } from './params';
import type { BigIntColumn } from './rows';
import {
  checkDate,
  checkExpectedVersion,
  checkLimit,
  checkNullableText,
  checkString,
  jsonObjectText,
  parseNullableObject,
  parseObject,
  type JsonColumn,
} from './values';

const STATUSES: readonly OutboxStatus[] = ['pending', 'sent', 'failed'];

export const OUTBOX_INSERT_SQL = `
  INSERT INTO outbox (id, tenant_id, recipient, kind, payload, status, attempts, not_before_ms, result, error,
    lease_owner, lease_expires_ms, version, created_at, updated_at)
  VALUES (@id, @tenant_id, @recipient, @kind, @payload, 'pending', 0, @not_before_ms, NULL, NULL,
    @lease_owner, @lease_expires_ms, 1, @now, @now)
  ON CONFLICT (id) DO NOTHING`;

export const OUTBOX_GET_SQL = 'SELECT * FROM outbox WHERE id = @id';

export const OUTBOX_LEASE_SQL = `
  UPDATE outbox SET lease_owner = @owner, lease_expires_ms = @expires_ms, version = version + 1, updated_at = @now
  WHERE id = @id AND status = 'pending'
    AND (lease_owner IS NULL OR lease_owner = @owner OR lease_expires_ms IS NULL OR lease_expires_ms <= @now_ms)
  RETURNING *`;

export const OUTBOX_UPDATE_SQL = `
  UPDATE outbox SET status = @status, attempts = @attempts, not_before_ms = @not_before_ms, result = @result,
    error = @error, lease_owner = NULL, lease_expires_ms = NULL, version = version + 1, updated_at = @now
  WHERE id = @id AND version = @expected
  RETURNING *`;

export const OUTBOX_DUE_SQL = `
  SELECT * FROM outbox
  WHERE status = 'pending' AND not_before_ms <= @now_ms
    AND (lease_owner IS NULL OR lease_expires_ms IS NULL OR lease_expires_ms <= @now_ms)
  ORDER BY not_before_ms, created_at, id LIMIT @limit`;

export const OUTBOX_NEXT_SQL = `SELECT MIN(not_before_ms) AS next_ms FROM outbox WHERE status = 'pending'`;

export interface OutboxRow {
  id: string;
  tenant_id: string;
  recipient: string;
  kind: string;
  payload: JsonColumn;
  status: OutboxStatus;
  attempts: number;
  not_before_ms: BigIntColumn;
  result: JsonColumn | null;
  error: string | null;
  lease_owner: string | null;
  lease_expires_ms: BigIntColumn | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface OutboxInsertParams {
  id: string;
  tenant_id: string;
  recipient: string;
  kind: string;
  payload: string;
  not_before_ms: number;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  now: string;
}

export function outboxInsertParams(message: NewOutboxMessage, now: Date): OutboxInsertParams {
  checkDate(now);
  return {
    id: checkString(message.id, 'Outbox id'),
    tenant_id: checkString(message.tenantId, 'Outbox tenantId'),
    recipient: checkString(message.recipient, 'Outbox recipient'),
    kind: checkString(message.kind, 'Outbox kind'),
    payload: jsonObjectText(message.payload, 'Outbox payload'),
    not_before_ms: checkDate(message.notBefore ?? now, 'notBefore').getTime(),
    lease_owner: message.lease ? leaseParams(message.id, message.lease.owner, message.lease.ttlMs, now).owner : null,
    lease_expires_ms: message.lease
      ? leaseParams(message.id, message.lease.owner, message.lease.ttlMs, now).expires_ms
      : null,
    now: now.toISOString(),
  };
}

export type OutboxLeaseParams = LeaseParams;

export function outboxLeaseParams(id: string, owner: string, ttlMs: number, now: Date): OutboxLeaseParams {
  return leaseParams(checkString(id, 'Outbox id'), owner, ttlMs, now);
}

export interface OutboxUpdateParams {
  id: string;
  expected: number;
  status: OutboxStatus;
  attempts: number;
  not_before_ms: number;
  result: string | null;
  error: string | null;
  now: string;
}

export function outboxUpdateParams(
  id: string,
  expectedVersion: number,
  attempt: OutboxAttempt,
  now: Date,
): OutboxUpdateParams {
  if (!STATUSES.includes(attempt.status)) throw new TypeError(`Outbox status must be one of ${STATUSES.join(', ')}`);
  if (!Number.isInteger(attempt.attempts) || attempt.attempts < 0)
    throw new TypeError('Outbox attempts must be a non-negative integer');
  return {
    id: checkString(id, 'Outbox id'),
    expected: checkExpectedVersion(expectedVersion),
    status: attempt.status,
    attempts: attempt.attempts,
    not_before_ms: checkDate(attempt.notBefore, 'notBefore').getTime(),
    result: attempt.result === null ? null : jsonObjectText(attempt.result, 'Outbox result'),
    error: checkNullableText(attempt.error, 'Outbox error'),
    now: checkDate(now).toISOString(),
  };
}

export function outboxDueParams(now: Date, limit: number): { now_ms: number; limit: number } {
  return { now_ms: checkDate(now).getTime(), limit: checkLimit(limit) };
}

export function toOutboxRecord(row: OutboxRow): OutboxRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    recipient: row.recipient,
    kind: row.kind,
    payload: parseObject(row.payload),
    status: row.status,
    attempts: row.attempts,
    notBefore: new Date(Number(row.not_before_ms)).toISOString(),
    result: parseNullableObject(row.result),
    error: row.error,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_ms === null ? null : new Date(Number(row.lease_expires_ms)).toISOString(),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
