/** What a bulk invitation job is made of: the state of each address, the job's summary, the review. */
import type { ListEntry } from './addresses';

export type AddressState = 'pending' | 'inviting' | 'invited' | 'existing' | 'member' | 'added' | 'waiting' | 'refused' | 'failed';

export interface AddressResult {
  address: string;
  state: AddressState;
  userId?: string;
  invited?: boolean;
  detail?: string;
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

export type BulkOutcome = BulkSummary | { kind: 'inProgress'; message: string };

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
}

export function counts(entries: readonly AddressResult[]): { done: number; waiting: number; failed: number; skipped: number; pending: number } {
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
