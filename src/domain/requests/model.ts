/**
 * The vocabulary of membership requests: the port that reaches people (`ApprovalMessenger`), the service's options,
 * what its use cases answer (created, decided, withdrawn, or refused and why) and the limits of typed text.
 */
import type { Logger } from '../../logging';
import type { GuestRecorder } from '../guests/records';
import type { Directory, GroupOwner } from '../../graph/directory';
import type { AccessRequestRecord, JsonObject, Store } from '../../store/store';
import type { Msg } from '../shared/message';
import type { BlockedReporter } from '../shared/model';
import type { Catalog } from '../shared/catalog';
import type { HourlyLimiter } from '../shared/rateLimit';
import type { OperationOptions } from '../shared/operations';

export const JUSTIFICATION_MAX = 500;
export const COMMENT_MAX = 500;

/** Delivers request cards and notices to people (Teams in production); the domain never sees channel types. */
export interface ApprovalMessenger {
  /** Puts an approval card in an owner's 1:1 chat; returns where it is, or why it could not. */
  /** `unreachable`: why the owner cannot be reached in Teams now (e.g. permissionMissing), when that is why. */
  sendApprovalCard(
    request: AccessRequestRecord,
    owner: GroupOwner,
    reason: 'new' | 'reminder' | 'resend',
  ): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string; unreachable?: string }>;
  /** Brings every delivered copy of the approval card up to the request's current state. */
  updateApprovalCards(request: AccessRequestRecord): Promise<void>;
  /** Tells the requester what happened to their request. */
  notifyRequester(request: AccessRequestRecord, event: 'decided' | 'expired'): Promise<boolean>;
}

export type RequestRefusal =
  | 'notOffered'
  | 'justification'
  | 'alreadyMember'
  | 'duplicate'
  | 'groupBlocked'
  | 'noOwners'
  | 'notFound'
  | 'notOwner'
  | 'selfDecision'
  | 'comment'
  | 'rateLimited';

export interface Refused {
  kind: 'refused';
  reason: RequestRefusal;
  message: Msg;
}

export function refused(reason: RequestRefusal, message: Msg): Refused {
  return { kind: 'refused', reason, message };
}

/** An owner the approval card did not reach, and why when Teams said (an UnreachableReason of the bot), else null. */
export interface UnreachableOwner {
  name: string;
  reason: string | null;
}

export type CreateOutcome =
  | {
      kind: 'created';
      request: AccessRequestRecord;
      reached: string[];
      unreachable: string[];
      unreachableOwners: UnreachableOwner[];
    }
  | Refused;
export type DecideOutcome =
  | { kind: 'decided'; request: AccessRequestRecord }
  | { kind: 'alreadyDecided'; request: AccessRequestRecord }
  | Refused;
export type WithdrawOutcome =
  | { kind: 'withdrawn'; request: AccessRequestRecord }
  | { kind: 'alreadyDecided'; request: AccessRequestRecord }
  | Refused;

export interface RequestAccessOptions extends OperationOptions {
  directory: Directory;
  store: Store;
  messenger: ApprovalMessenger;
  logger: Logger;
  remindAfterMs: number;
  expireAfterMs: number;
  catalogTtlMs?: number;
  /** The self-service catalog (shared with the invite flow); one is made from `directory` when absent. */
  catalog?: Catalog;
  /** Told when a setup problem stops someone (admin alerts). */
  onBlocked?: BlockedReporter;
  /** Per-user allowance of new requests (INVITES_PER_USER_PER_HOUR). */
  limiter?: HourlyLimiter;
  /** Retries of the membership write after throttling or a 5xx (beyond the Graph client's own). */
  transientRetries?: number;
  /** Keeps the bot's record (and sponsor) of each guest an approval adds. */
  guestRecorder?: GuestRecorder;
}
