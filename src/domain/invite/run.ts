/**
 * What one run of an invitation's operation works with, passed to each step: the service's options, the command,
 * the parsed address, the operation's recorded steps and the audit writer; and what the steps hand on.
 */
import type { AppInfo, DirectoryUser, GroupInfo } from '../../graph/directory';
import type { OperationSteps } from '../shared/operations';
import { transientPolicy, type RetryPolicy } from '../shared/retry';
import { reportBlocked, type BlockedReport } from '../shared/model';
import type { AuditWriter, InviteCommand, InviteGuestOptions, RunResult } from './model';

/** What every step of one run of an invitation works with. */
export interface InviteRun {
  readonly options: InviteGuestOptions;
  readonly clock: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly steps: OperationSteps;
  readonly command: InviteCommand;
  /** The guest's address, parsed. */
  readonly email: string;
  /** The welcome message of the invitation email, cleaned; null for none. */
  readonly welcome: string | null;
  readonly audit: AuditWriter;
}

/** The run ends here, with this result for the runner. */
export interface Ended {
  readonly end: RunResult;
}

export function isEnd<T extends object>(result: T | Ended): result is Ended {
  return 'end' in result;
}

/** The app and group the checks let through, the user the address already belongs to, and the check's request id. */
export interface InviteTarget {
  app: AppInfo;
  group: GroupInfo;
  appRef: { id: string; displayName: string };
  groupRef: { id: string; displayName: string };
  /** The names audit entries carry. */
  names: { appName?: string; groupName?: string };
  existing: DirectoryUser | null;
  requestId: string | null;
}

/** The guest to add: invited by this operation (now or in an earlier run), or an existing user. */
export interface GuestToAdd {
  id: string;
  redemption: string;
  redeemUrl: string | null;
  invited: boolean;
  invitedAt: Date;
  /** The latest Graph request id of the run so far. */
  requestId: string | null;
}

export function retryPolicy(run: InviteRun): RetryPolicy {
  return transientPolicy(run.options, run.sleep);
}

export function report(run: InviteRun, blocked: BlockedReport): Promise<void> {
  return reportBlocked(run.options.onBlocked, run.options.logger, blocked);
}
