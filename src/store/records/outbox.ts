/**
 * Stored record: the outbox of proactive messages, each recorded before it is sent. Its port, SQL, parameters
 * and row mapping, the same on both engines (named parameters `@x` are SQLite's; the PostgreSQL store numbers
 * them), and what a message holds about a person. A lease is taken and an attempt recorded each by one
 * conditional statement (lease free or expired; `version` unchanged), as the operation records do.
 */
import type { TableSpec } from '../erasure';
import type { JsonObject } from '../store';
import {
  checkCount,
  checkDate,
  checkExpectedVersion,
  checkLimit,
  checkNullableText,
  checkString,
  jsonObjectText,
  leaseParams,
  msToIso,
  parseNullableObject,
  parseObject,
  type BigIntColumn,
  type JsonColumn,
  type LeaseParams,
} from '../values';

/**
 * - pending: to be sent (from `notBefore` on) by whichever instance holds its lease;
 * - sent: Teams accepted it (`result` says where it is);
 * - failed: given up (the person cannot be reached, or Teams refused it for good; `error` says why).
 */
export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** One proactive message (a card, a notice, a card update), recorded before it is sent. */
export interface OutboxRecord {
  id: string;
  tenantId: string;
  /** Who or where it goes (a user id, or a conversation id for a channel or a card update). */
  recipient: string;
  kind: string;
  /** What to render at send time (opaque to the store). */
  payload: JsonObject;
  status: OutboxStatus;
  attempts: number;
  /** Not sent before this time (a Retry-After, a backoff). */
  notBefore: string;
  /** After a send: where the message is (opaque to the store). */
  result: JsonObject | null;
  error: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type NewOutboxMessage = Pick<OutboxRecord, 'id' | 'tenantId' | 'recipient' | 'kind' | 'payload'> & {
  notBefore?: Date;
  /** Recorded already leased to this owner (the sender about to send it), saving a write. */
  lease?: { owner: string; ttlMs: number };
};

/** The outcome of one attempt: every field is set (the caller passes the values it keeps). */
export interface OutboxAttempt {
  status: OutboxStatus;
  attempts: number;
  notBefore: Date;
  result: JsonObject | null;
  error: string | null;
}

export interface OutboxStore {
  /**
   * Records the message unless one with this id exists (the id makes enqueueing idempotent); returns the stored record.
   */
  enqueue(message: NewOutboxMessage, now: Date): Promise<{ created: boolean; record: OutboxRecord }>;
  get(id: string): Promise<OutboxRecord | undefined>;
  /** Takes a pending record's lease when it is free, expired or already the owner's; undefined otherwise. */
  acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OutboxRecord | undefined>;
  /** Records an attempt's outcome and frees the lease: compare-and-set on `version` (ConflictError on a mismatch). */
  update(id: string, expectedVersion: number, attempt: OutboxAttempt, now: Date): Promise<OutboxRecord>;
  /** Pending records due at `now` whose lease is free or expired, by due time then age. */
  listDue(now: Date, limit: number): Promise<OutboxRecord[]>;
  /** When the earliest pending record is due (undefined when none is pending). */
  nextDue(): Promise<Date | undefined>;
}

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

export type OutboxInsertParams = Pick<OutboxRow, 'id' | 'tenant_id' | 'recipient' | 'kind'> & {
  payload: string;
  not_before_ms: number;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  now: string;
};

export function outboxInsertParams(message: NewOutboxMessage, now: Date): OutboxInsertParams {
  checkDate(now);
  const checked = {
    id: checkString(message.id, 'Outbox id'),
    tenant_id: checkString(message.tenantId, 'Outbox tenantId'),
    recipient: checkString(message.recipient, 'Outbox recipient'),
    kind: checkString(message.kind, 'Outbox kind'),
    payload: jsonObjectText(message.payload, 'Outbox payload'),
    not_before_ms: checkDate(message.notBefore ?? now, 'notBefore').getTime(),
  };
  const lease = message.lease ? leaseParams(message.id, message.lease.owner, message.lease.ttlMs, now) : undefined;
  return {
    ...checked,
    lease_owner: lease ? lease.owner : null,
    lease_expires_ms: lease ? lease.expires_ms : null,
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
  checkCount(attempt.attempts, 'Outbox attempts');
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
    notBefore: msToIso(row.not_before_ms),
    result: parseNullableObject(row.result),
    error: row.error,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_ms === null ? null : msToIso(row.lease_expires_ms),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Proactive messages: a message to the person goes; one that mentions them (a card naming them) is scrubbed. */
export const OUTBOX_SPEC: TableSpec = {
  table: 'outbox',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['error'],
  json: ['payload', 'result'],
  subject: ['recipient'],
  version: 'counter',
};
