/**
 * The words of an invitation: the command the bot sends, the outcomes it gets back, the refusal reasons,
 * and the options of the services that invite guests (single and bulk).
 */
import type { Logger } from '../../logging';
import type { Directory } from '../../graph/directory';
import type { AuditEntry, JsonObject, Store } from '../../store/store';
import type { HourlyLimiter } from '../shared/rateLimit';
import type { Catalog } from '../shared/catalog';
import type { Actor, BlockedReporter, Offer } from '../shared/model';
import type { GuestRecorder } from '../guests/records';
import type { Msg } from '../shared/message';
import type { OperationOptions } from '../shared/operations';

/** The kind of an invitation's operation record. */
export const INVITE_OPERATION_KIND = 'inviteGuest';

export type RefusalReason =
  | 'notOffered'
  | 'invalidEmail'
  | 'ownDomain'
  | 'messageTooLong'
  | 'groupNotFound'
  | 'appNotFound'
  | 'notOwner'
  | 'notAssigned'
  | 'groupBlocked'
  | 'invitesNotAllowed'
  | 'invitationRefused'
  | 'writeRefused'
  | 'notSetUp'
  | 'rateLimited';

export interface InviteDone {
  kind: 'done';
  invited: boolean;
  added: boolean;
  guest: { id: string; email: string; displayName: string; redemption: string };
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  redeemUrl: string | null;
}

export interface InviteRefused {
  kind: 'refused';
  reason: RefusalReason;
  message: Msg;
}

export type InviteOutcome =
  | InviteDone
  | InviteRefused
  | InviteWaiting
  | { kind: 'failed'; message: Msg; reference: string; operationId: string }
  | { kind: 'inProgress'; message: Msg };

/**
 * The invitation went out, but Microsoft Entra ID does not show the new guest to membership writes yet
 * (replication lag): the operation tries the membership again on its own schedule, for up to REPLICATION_WAIT.
 */
export interface InviteWaiting {
  kind: 'waiting';
  guest: { id: string; email: string };
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  retryAt: string;
}

/** What one run of the operation returns to the runner: `failed` lets it be reopened, `retryAt` resumes it later. */
export interface RunResult {
  outcome: InviteOutcome;
  failed: boolean;
  retryAt?: Date;
}

/** An audit entry of one invitation: who, when and which operation are filled in. */
export type InviteAudit = Omit<
  AuditEntry,
  'time' | 'tenantId' | 'actorId' | 'actorName' | 'activityId' | 'operationId'
>;

/** Appends an audit entry of this invitation (see `InviteAudit`). */
export type AuditWriter = (entry: InviteAudit) => Promise<number>;

export interface InviteCommand {
  /** Idempotency key: the same confirmation always carries the same id. */
  operationId: string;
  actor: Actor;
  appId: string;
  groupId: string;
  email: string;
  message: string | null;
  /** The inviting owner's language (BCP 47, e.g. nl-NL): the invitation email is sent in it. */
  language?: string | null;
  /** What the dialog offered this actor (server-side state, not the card's data). */
  offered: readonly Offer[];
  activityId?: string;
  /** Where the outcome is to be shown (opaque: e.g. the confirmation card), kept on the operation record. */
  replyTo?: JsonObject | null;
}

export type EmailCheck =
  { ok: true; address: string } | { ok: false; reason: 'invalidEmail' | 'ownDomain'; message: Msg };

/** What the services that invite guests and add them to groups share (single and bulk invitations). */
export interface GuestWriteOptions extends OperationOptions {
  directory: Directory;
  store: Store;
  logger: Logger;
  defaultRedirectUrl: string;
  /** Waits, within the turn, before retrying a membership write that cannot see a just-invited user yet. */
  replicationBackoffMs?: readonly number[];
  /** How long after the invitation a membership write that does not see the guest yet is retried (REPLICATION_WAIT). */
  replicationWaitMs: number;
  /** Waits before reading whether an ambiguous write (5xx, timeout) took effect, the first read included. */
  confirmBackoffMs?: readonly number[];
  /** Retries of a step after throttling or a 5xx (beyond the Graph client's own). */
  transientRetries?: number;
}

export interface InviteGuestOptions extends GuestWriteOptions {
  /** The self-service catalog (shared with the request flow); one is made from `directory` when absent. */
  catalog?: Catalog;
  tenantInfoTtlMs?: number;
  /** Told when a setup problem stops an owner (admin alerts). */
  onBlocked?: BlockedReporter;
  /** Per-user allowance of new invitations (INVITES_PER_USER_PER_HOUR). */
  limiter?: HourlyLimiter;
  /** Keeps the bot's record (and sponsor) of each guest it adds. */
  guestRecorder?: GuestRecorder;
}

export function refused(reason: RefusalReason, message: Msg): InviteRefused {
  return { kind: 'refused', reason, message };
}

/** The runner's view of an outcome: it failed when an error stopped it, not when it was refused. */
export function finished(outcome: InviteOutcome): RunResult {
  return { outcome, failed: outcome.kind === 'failed' };
}
