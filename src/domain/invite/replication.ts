/**
 * Replication lag: Microsoft Entra ID may not show a just-invited guest to membership writes for seconds, sometimes
 * minutes. A few quick retries within the turn; after that the operation waits on its own schedule (retryAt) until
 * REPLICATION_WAIT. Shared by single and bulk invitations.
 */
import { DirectoryError } from '../../graph/directory';
import type { Logger } from '../../logging';

/**
 * The errors of a membership write that does not see the user yet: 404 Request_ResourceNotFound, 404
 * Directory_ObjectNotFound or 400 "Not a valid reference update" (field notes; msgraph-sdk-dotnet#2508).
 */
export function isReplicationLag(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError && (err.kind === 'notFound' || err.kind === 'badRequest');
}

/** How long a membership write waits for a just-invited guest to show: 30 s, growing with the wait, at most 5 minutes. */
export function replicationRetryDelay(waitedMs: number): number {
  return Math.min(5 * 60_000, Math.max(30_000, Math.round(waitedMs / 2)));
}

/**
 * Runs a membership write again, after each wait of `backoffMs` (default 0.5, 1 and 2 s), while it fails with
 * replication lag. A 400 reaching here is not "already a member" (the adapter read membership).
 */
export async function withReplicationRetry<T>(
  write: () => Promise<T>,
  wait: { backoffMs?: readonly number[]; sleep: (ms: number) => Promise<void>; logger: Logger },
): Promise<T> {
  const backoff = wait.backoffMs ?? [500, 1000, 2000];
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isReplicationLag(err) || attempt >= backoff.length) throw err;
      wait.logger.info('invite.replication.wait', { attempt: attempt + 1, ms: backoff[attempt] });
      await wait.sleep(backoff[attempt]);
    }
  }
}
