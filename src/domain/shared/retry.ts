/** Retries of directory calls that failed for a passing reason (throttling, 5xx), within a budget. */
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

/** Throttling and 5xx: try again after Retry-After (or a growing backoff), within the budget; then give up. */
export async function retryTransient<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const retryable = err instanceof DirectoryError && (err.kind === 'throttled' || err.kind === 'unavailable');
      if (!retryable || attempt >= policy.budget) throw err;
      const wait = err.retryAfterSeconds !== null ? err.retryAfterSeconds * 1000 : Math.min(8000, 250 * 2 ** attempt);
      policy.logger.info('graph.retry', {
        attempt: attempt + 1,
        status: err.status,
        code: err.code,
        ms: wait,
        graphRequestId: err.requestId ?? undefined,
      });
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
      if (!(err instanceof DirectoryError) || (err.kind !== 'throttled' && err.kind !== 'unavailable')) throw err;
      if (err.kind === 'unavailable') {
        const took = await retryTransient(confirm, policy);
        if (took !== null) {
          policy.logger.info('graph.write.confirmed', {
            attempt: attempt + 1,
            status: err.status,
            code: err.code,
            graphRequestId: err.requestId ?? undefined,
          });
          return took;
        }
      }
      if (attempt >= policy.budget) throw err;
      const wait = err.retryAfterSeconds !== null ? err.retryAfterSeconds * 1000 : Math.min(8000, 250 * 2 ** attempt);
      policy.logger.info('graph.retry', {
        attempt: attempt + 1,
        status: err.status,
        code: err.code,
        ms: wait,
        write: true,
        graphRequestId: err.requestId ?? undefined,
      });
      await policy.sleep(wait);
    }
  }
}
