/**
 * The durable store port. Everything the bot must not lose across a restart goes through here.
 * Implementations: SQLite (`sqlite/`, embedded, the default) and PostgreSQL (`postgres/`, for several
 * instances on one database). Both pass the same contract tests: every conditional write is atomic
 * (compare-and-set), and writes that change two records together are one transaction.
 */

import type { PrivacyStore } from './erasure';
import type { GuestRecordStore } from './guestPort';

export * from './guestPort';
export type { ErasureSubject, PrivacyStore, RetentionCutoffs, TableCounts } from './erasure';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Thrown when a conditional write finds another version than the one expected. */
export class ConflictError extends Error {
  constructor(
    readonly key: string,
    message = `Conflicting write on '${key}'`,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

export interface VersionedItem {
  key: string;
  value: JsonObject;
  /** Opaque version token; changes on every write. */
  version: string;
}

/**
 * Expected version for a conditional write:
 * - a version string: the item must exist with exactly that version;
 * - `null`: the item must not exist (create-only);
 * - `undefined` or '*': unconditional (last writer wins).
 */
export type ExpectedVersion = string | null | undefined;

/** Key/value documents with optimistic concurrency (dialog and conversation state, de-duplication markers). */
export interface StateStore {
  read(keys: readonly string[]): Promise<Map<string, VersionedItem>>;
  /** Writes one item; returns the new version. Throws ConflictError when `expected` does not hold. */
  write(key: string, value: JsonObject, expected?: ExpectedVersion): Promise<string>;
  /** Deletes items; missing keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Deletes at most `limit` items whose key starts with `prefix` and that were last written before `updatedBefore`
   * (e.g. activity de-duplication markers once Teams can no longer re-send); returns how many.
   */
  deleteStale(prefix: string, updatedBefore: Date, limit: number): Promise<number>;
}

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

/**
 * - pending, running: not finished (resumed after a crash once the lease has expired);
 * - succeeded: ran to its end; its result says what happened (a refusal included);
 * - failed: stopped by an error before its end; can be reopened and run again from its recorded steps.
 */
export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface StepRecord {
  status: 'done' | 'failed';
  at: string;
  result?: JsonObject;
  error?: JsonObject;
  graphRequestId?: string;
}

/**
 * A confirmed directory write, recorded before it is carried out and updated step by step,
 * so that an interrupted operation can be resumed and never done twice.
 */
export interface OperationRecord {
  id: string;
  kind: string;
  tenantId: string;
  actorId: string;
  status: OperationStatus;
  input: JsonObject;
  steps: Record<string, StepRecord>;
  result: JsonObject | null;
  /** Where to report the outcome (opaque to the store, e.g. a conversation and card id). */
  replyTo: JsonObject | null;
  attempts: number;
  version: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewOperation = Pick<OperationRecord, 'id' | 'kind' | 'tenantId' | 'actorId' | 'input'> & {
  replyTo?: JsonObject | null;
};

export interface OperationPatch {
  status?: OperationStatus;
  steps?: Record<string, StepRecord>;
  result?: JsonObject | null;
  replyTo?: JsonObject | null;
  attempts?: number;
}

export interface OperationStore {
  /** Creates the record unless one with this id exists; either way returns the stored record. */
  create(op: NewOperation, now: Date): Promise<{ created: boolean; record: OperationRecord }>;
  get(id: string): Promise<OperationRecord | undefined>;
  /** Compare-and-set on `version`; returns the new record. Throws ConflictError on a version mismatch. */
  update(id: string, expectedVersion: number, patch: OperationPatch, now: Date): Promise<OperationRecord>;
  /**
   * Takes the lease when it is free or expired (or already held by `owner`); returns the record
   * with the lease, or undefined when another owner holds a live lease or the record is finished.
   */
  acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OperationRecord | undefined>;
  releaseLease(id: string, owner: string): Promise<void>;
  /** Records not yet succeeded or failed, oldest first. */
  /**
   * With `leaseFreeAt`: only those whose lease is free or expired then, so operations waiting on a held lease
   * (e.g. for replication) never crowd out the ones a resumer can run.
   */
  listUnfinished(limit: number, leaseFreeAt?: Date): Promise<OperationRecord[]>;
  /** Failed records last updated at or before `updatedBefore` with fewer than `maxAttempts` attempts, oldest first. */
  listFailed(updatedBefore: Date, maxAttempts: number, limit: number): Promise<OperationRecord[]>;
}

/** Latest conversation reference per user, for proactive messages (opaque JSON to the store). */
/** Why and since when the bot cannot reach a person in Teams (reason: a word the Teams side defines). */
export interface UnreachableMark {
  reason: string;
  detail: string | null;
  since: string;
}

export interface ConversationStore {
  upsert(tenantId: string, userId: string, reference: JsonObject, now: Date): Promise<void>;
  get(tenantId: string, userId: string): Promise<JsonObject | undefined>;
  delete(tenantId: string, userId: string): Promise<void>;
  /** Records that the person cannot be reached now, and why (replaces an earlier mark). */
  markUnreachable(tenantId: string, userId: string, reason: string, detail: string | null, now: Date): Promise<void>;
  unreachable(tenantId: string, userId: string): Promise<UnreachableMark | undefined>;
  /** Clears the mark; true when there was one. */
  clearUnreachable(tenantId: string, userId: string): Promise<boolean>;
}

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

/** A claim on one run of a timer job (a sweep, a scan) across every instance sharing the store. */
export interface JobClaim {
  name: string;
  owner: string;
  /** Until when the claim holds; after it, another instance may run the job (the holder is presumed dead). */
  leaseExpiresAt: string;
}

/**
 * One lease row per timer job, so that work on a timer runs once per interval across all instances, and an
 * instance that dies mid-job leaves it to another once the lease expires.
 */
export interface JobStore {
  /**
   * Claims a run of job `name` (compare-and-set): granted when no live lease is held, and either the last run
   * started at least `minGapMs` ago or it never finished. Returns undefined when the run is not this owner's.
   */
  tryClaim(name: string, owner: string, minGapMs: number, leaseMs: number, now: Date): Promise<JobClaim | undefined>;
  /** Ends the owner's run (frees the lease and records when it finished); ignored when the lease was lost. */
  finish(name: string, owner: string, now: Date): Promise<void>;
}

/** A compare-and-set patch of one record. */
export interface VersionedPatch<P> {
  id: string;
  expectedVersion: number;
  patch: P;
}

export interface Store {
  readonly state: StateStore;
  readonly requests: AccessRequestStore;
  readonly alerts: AlertStore;
  readonly audit: AuditLog;
  readonly operations: OperationStore;
  readonly conversations: ConversationStore;
  readonly jobs: JobStore;
  readonly guests: GuestRecordStore;
  /** Retention and erasure across every table (each record module erases and prunes its own). */
  readonly privacy: PrivacyStore;
  readonly outbox: OutboxStore;
  /**
   * Updates an operation record and an access request in one transaction (an approval's end and its outcome
   * on the request): compare-and-set on both; on a ConflictError (its key names the record) neither changed.
   */
  updateOperationAndRequest(
    operation: VersionedPatch<OperationPatch>,
    request: VersionedPatch<AccessRequestPatch>,
    now: Date,
  ): Promise<{ operation: OperationRecord; request: AccessRequestRecord }>;
  /** Cheap round trip for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

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
  /** Records the message unless one with this id exists (the id makes enqueueing idempotent); returns the stored record. */
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
