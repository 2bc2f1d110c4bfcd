/**
 * Retries of directory calls: after a passing failure (throttling, 5xx) within a budget, after an ambiguous write,
 * and the wait schedules for replication lag (a just-invited user Graph does not show yet).
 */
import { DirectoryError } from '../../graph/directory';
import type { Logger } from '../../logging';

export interface RetryPolicy {
  /** Retries after the first attempt; then the error is thrown. */
  budget: number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
}

/**
 * Retries of one directory call after throttling or a 5xx, beyond the Graph client's own (services take
 * `transientRetries` to change it; only tests do).
 */
export const TRANSIENT_RETRIES = 6;

/** The policy of a service: its budget (TRANSIENT_RETRIES unless given), its sleep and its logger. */
export function transientPolicy(
  options: { transientRetries?: number; logger: Logger },
  sleep: (ms: number) => Promise<void>,
): RetryPolicy {
  return { budget: options.transientRetries ?? TRANSIENT_RETRIES, sleep, logger: options.logger };
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before trying again after throttling or a 5xx: Retry-After, else a backoff growing to 8 s. */
export function transientWaitMs(err: DirectoryError, attempt: number): number {
  return err.retryAfterSeconds !== null ? err.retryAfterSeconds * 1000 : Math.min(8000, 250 * 2 ** attempt);
}

/** Throttling (429) or a 5xx, a timeout or a dropped connection: worth another try. */
export function isTransient(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError && (err.kind === 'throttled' || err.kind === 'unavailable');
}

/** What a retry loop logs of the Graph error it handles (ids and codes only). */
function retryLog(err: DirectoryError, attempt: number): Record<string, unknown> {
  return { attempt: attempt + 1, status: err.status, code: err.code, graphRequestId: err.requestId ?? undefined };
}

/** Throttling and 5xx: try again after Retry-After (or a growing backoff), within the budget; then give up. */
export async function retryTransient<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || attempt >= policy.budget) throw err;
      const wait = transientWaitMs(err, attempt);
      policy.logger.info('graph.retry', { ...retryLog(err, attempt), ms: wait });
      await policy.sleep(wait);
    }
  }
}

/**
 * A directory write that must not be repeated blindly (a second `POST /invitations` sends the guest a second email).
 * Throttling means the write was not carried out: it is sent again after Retry-After. After a 5xx, a gateway
 * timeout or a dropped connection the write may have taken effect, so `confirm` reads whether it did (e.g. the
 * guest exists by address) and its answer is taken instead of writing again; only when it did not is the write
 * repeated, within the budget.
 */
export async function retryWrite<T>(
  write: () => Promise<T>,
  confirm: () => Promise<T | null>,
  policy: RetryPolicy,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (err.kind === 'unavailable') {
        const took = await retryTransient(confirm, policy);
        if (took !== null) {
          policy.logger.info('graph.write.confirmed', retryLog(err, attempt));
          return took;
        }
      }
      if (attempt >= policy.budget) throw err;
      const wait = transientWaitMs(err, attempt);
      policy.logger.info('graph.retry', { ...retryLog(err, attempt), ms: wait, write: true });
      await policy.sleep(wait);
    }
  }
}

/**
 * Graph may not see a just-invited user for seconds, sometimes minutes: a membership write answers 404
 * Request_ResourceNotFound, 404 Directory_ObjectNotFound or 400 "Not a valid reference update" (field notes;
 * msgraph-sdk-dotnet#2508).
 */
export const isReplicationLag = (err: unknown): err is DirectoryError =>
  err instanceof DirectoryError && (err.kind === 'notFound' || err.kind === 'badRequest');

/** Waits, within the turn, before writing again to a just-invited user that Graph does not show yet. */
export const REPLICATION_BACKOFF_MS: readonly number[] = [500, 1000, 2000];
/** Waits before each read of whether an ambiguous write (5xx, timeout) took effect, the first read included. */
export const CONFIRM_BACKOFF_MS: readonly number[] = [500, 1500, 3000];

/** The wait schedules of a service: those of its options (tests shorten them), else the defaults above. */
export interface WaitSchedules {
  replication: readonly number[];
  confirm: readonly number[];
}

export function waitSchedules(options: {
  replicationBackoffMs?: readonly number[];
  confirmBackoffMs?: readonly number[];
}): WaitSchedules {
  return {
    replication: options.replicationBackoffMs ?? REPLICATION_BACKOFF_MS,
    confirm: options.confirmBackoffMs ?? CONFIRM_BACKOFF_MS,
  };
}

/**
 * A write to a just-invited user, tried again after each wait of `schedule` while Graph answers it does not see
 * the user yet (`isReplicationLag`); then that error is thrown. `onWait` hears each wait before it is slept.
 */
export async function retryWhileLagging<T>(
  write: () => Promise<T>,
  schedule: readonly number[],
  sleep: (ms: number) => Promise<void>,
  onWait?: (attempt: number, ms: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isReplicationLag(err) || attempt >= schedule.length) throw err;
      onWait?.(attempt, schedule[attempt]);
      await sleep(schedule[attempt]);
    }
  }
}

/**
 * Reads after each wait of `schedule` until `read` says it is done (e.g. every address of an ambiguous invitation
 * shows as a user); false when the schedule ran out first.
 */
export async function readAfterWaits(
  schedule: readonly number[],
  sleep: (ms: number) => Promise<void>,
  read: () => Promise<boolean>,
): Promise<boolean> {
  for (const wait of schedule) {
    await sleep(wait);
    if (await read()) return true;
  }
  return false;
}

/**
 * How long a membership write waits for a just-invited guest to show: 30 s, growing with the wait, at most 5 minutes.
 */
export function replicationRetryDelay(waitedMs: number): number {
  return Math.min(5 * 60_000, Math.max(30_000, Math.round(waitedMs / 2)));
}
