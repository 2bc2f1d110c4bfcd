/** What a bulk invitation job is made of: its command, the state of each address, the job's summary, the review. */
import type { JsonObject } from '../../store/store';
import type { ListEntry } from './addresses';
import type { Msg } from '../shared/message';
import type { Actor } from '../shared/model';

/** A confirmed bulk job: who sends which addresses into which group, and where its progress is shown. */
export interface BulkCommand {
  operationId: string;
  actor: Actor;
  appId: string;
  groupId: string;
  addresses: string[];
  message: string | null;
  /**
   * Per address (same order), from a file: its own welcome message (instead of `message`) and whether an
   * invitation email is sent at all (Entra's bulk template columns). Null or missing: `message`, email sent.
   */
  personal?: ReadonlyArray<PersonalInvitation | null> | null;
  /** The inviting owner's language (BCP 47, e.g. nl-NL): the invitation emails are sent in it. */
  language?: string | null;
  replyTo?: JsonObject | null;
  onProgress?: (summary: BulkSummary) => void;
}

export interface PersonalInvitation {
  message: string | null;
  send: boolean;
}

export type AddressState =
  'pending' | 'inviting' | 'invited' | 'existing' | 'member' | 'added' | 'waiting' | 'refused' | 'failed';

export interface AddressResult {
  address: string;
  state: AddressState;
  userId?: string;
  invited?: boolean;
  /** Why an address was refused or failed (a plain string in records kept before messages had keys). */
  detail?: Msg | string;
  since?: string;
}

export interface BulkSummary {
  kind: 'bulk';
  operationId: string;
  status: 'running' | 'finished' | 'stopped';
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  message: string | null;
  entries: AddressResult[];
}

export type BulkOutcome = BulkSummary | { kind: 'inProgress'; message: Msg };

/** What the review card shows before anything is sent. */
export interface BulkReview {
  valid: ListEntry[];
  invalid: ListEntry[];
  /** Valid addresses with no user yet: they will be invited. */
  toInvite: string[];
  /** Existing users, not members: they are only added. */
  existing: string[];
  /** Existing users already in the group: skipped. */
  members: string[];
  /** False when the look-up failed: the counts of existing guests are then unknown. */
  lookedUp: boolean;
  /** New addresses beyond the owner's remaining hourly allowance (INVITES_PER_USER_PER_HOUR): not sent. */
  overAllowance: ListEntry[];
  /** The owner's hourly allowance of new invitations at review time; null without a limit. */
  allowance: HourlyAllowance | null;
  /** Each line that will not be sent, with its reason: unusable lines, then those over the hourly allowance. */
  refused: Array<{ position: number; raw: string; reason: Msg }>;
}

export interface HourlyAllowance {
  limit: number;
  left: number;
  /** Whole minutes (at least 1) until the allowance starts again. */
  freeInMinutes: number;
}

export function counts(entries: readonly AddressResult[]): {
  done: number;
  waiting: number;
  failed: number;
  skipped: number;
  pending: number;
} {
  const c = { done: 0, waiting: 0, failed: 0, skipped: 0, pending: 0 };
  for (const e of entries) {
    if (e.state === 'added') c.done++;
    else if (e.state === 'member') c.skipped++;
    else if (e.state === 'waiting') c.waiting++;
    else if (e.state === 'refused' || e.state === 'failed') c.failed++;
    else c.pending++;
  }
  return c;
}

/** A Graph error's code and text as the detail of a refusal (kept short: it is stored with the job). */
export const graphDetail = (code: string, message: string): string => `${code}: ${message}`.slice(0, 300);
