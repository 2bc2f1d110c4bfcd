/** Retries of directory calls that failed for a passing reason (throttling, 5xx), within a budget. */
import { DirectoryError } from '../graph/directory';
import type { Logger } from '../logging';

export interface RetryPolicy {
  /** Retries after the first attempt; then the error is thrown. */
  budget: number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
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
      policy.logger.info('graph.retry', { attempt: attempt + 1, status: err.status, code: err.code, ms: wait, graphRequestId: err.requestId ?? undefined });
      await policy.sleep(wait);
    }
  }
}
