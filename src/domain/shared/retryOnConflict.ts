/**
 * The one way to retry a compare-and-set. The store port throws `ConflictError` when the expected version no
 * longer matches; the attempt reads the record again, decides again and writes again, up to CONFLICT_ATTEMPTS
 * times in all. Every attempt must start from a fresh read, so a retry never writes over a change it did not see.
 */
import { ConflictError } from '../../store/store';

/**
 * Attempts of one compare-and-set, the first included. A conflict means another writer won just now; ten lost
 * races in a row only happen under heavy contention on one record, and then the caller's give-up answer is due.
 */
export const CONFLICT_ATTEMPTS = 10;

export interface ConflictRetry<T> {
  /** Which conflicts are worth another read (default: all); any other error is thrown at once. */
  retryIf?: (err: ConflictError) => boolean;
  /** The answer once the last attempt lost too (default: that ConflictError is thrown). */
  onGiveUp?: (err: ConflictError) => T | Promise<T>;
}

/** Runs `attempt` (read, decide, write) again while it loses a compare-and-set, within CONFLICT_ATTEMPTS. */
export async function retryOnConflict<T>(attempt: () => Promise<T>, options: ConflictRetry<T> = {}): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ConflictError) || (options.retryIf && !options.retryIf(err))) throw err;
      if (tries >= CONFLICT_ATTEMPTS) {
        if (options.onGiveUp) return options.onGiveUp(err);
        throw err;
      }
    }
  }
}
