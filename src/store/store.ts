/**
 * The durable store port. Everything the bot must not lose across a restart goes through here.
 * Implementations: SQLite (`sqlite/`, embedded, the default) and PostgreSQL (`postgres/`, for several
 * instances on one database). Both pass the same contract tests: every conditional write is atomic
 * (compare-and-set), and writes that change two records together are one transaction.
 *
 * Each stored record has one module in `records/` holding all about it: its port (the repository interface, the
 * record, its input and patch types), its checks and row mapping shared by both engines, and its privacy spec.
 * This file composes them into `Store` and is the port's public face: it re-exports each record's port types (not
 * its rows or column parameters, which only the engines use), so the rest of the code imports from here.
 */

import type { PrivacyStore } from './erasure';
import type { AccessRequestPatch, AccessRequestRecord, AccessRequestStore } from './records/requests';
import type { AlertStore } from './records/alerts';
import type { AuditLog } from './records/audit';
import type { ConversationStore } from './records/conversations';
import type { GuestRecordStore } from './records/guests';
import type { JobStore } from './records/jobs';
import type { OperationPatch, OperationRecord, OperationStore } from './records/operations';
import type { OutboxStore } from './records/outbox';
import type { StateStore } from './records/state';

export type { ErasureSubject, PrivacyStore, RetentionCutoffs, TableCounts } from './erasure';
export type { ExpectedVersion, StateStore, VersionedItem } from './records/state';
export type { AuditEntry, AuditLog, AuditQuery } from './records/audit';
export type {
  NewOperation,
  OperationPatch,
  OperationRecord,
  OperationStatus,
  OperationStore,
  StepRecord,
} from './records/operations';
export type { ConversationStore, UnreachableMark } from './records/conversations';
export { DuplicateRequestError } from './records/requests';
export type {
  AccessRequestPatch,
  AccessRequestRecord,
  AccessRequestState,
  AccessRequestStore,
  NewAccessRequest,
  OwnerCard,
} from './records/requests';
export type { AlertOccurrence, AlertPatch, AlertRecord, AlertState, AlertStore } from './records/alerts';
export type { JobClaim, JobStore } from './records/jobs';
export type {
  GuestAddedHow,
  GuestKey,
  GuestRecord,
  GuestRecordPatch,
  GuestRecordStore,
  GuestReviewState,
  NewGuestRecord,
} from './records/guests';
export type { NewOutboxMessage, OutboxAttempt, OutboxRecord, OutboxStatus, OutboxStore } from './records/outbox';

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

/**
 * The ConflictError of a compare-and-set write that changed nothing: `what` names the record (e.g. "Operation 'x'");
 * `current` is the record as it is now, if it exists.
 */
export function versionConflict(
  key: string,
  what: string,
  current: { version: number } | undefined,
  expectedVersion: number,
): ConflictError {
  return new ConflictError(
    key,
    current ? `${what} is at version ${current.version}, not ${expectedVersion}` : `${what} does not exist`,
  );
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
