/**
 * The membership step of a bulk run, one chunk at a time: 20 users a `PATCH /groups/{id}` (members@odata.bind,
 * all or none). After a 5xx the members are read and only the rest sent again; a chunk of just-invited guests
 * refused for replication lag is sent again after the replication waits; a chunk refused otherwise (one member
 * already there, one user not replicated yet) is added one by one, each single add confirmed after a 5xx.
 */
import { DirectoryError } from '../../graph/directory';
import { msg } from '../shared/message';
import {
  isReplicationLag,
  isTransient,
  retryTransient,
  retryWhileLagging,
  retryWrite,
  transientWaitMs,
} from '../shared/retry';
import type { BulkRun, Slot } from './bulkRun';
import { graphDetail, type AddressResult } from './model';

const refusedKinds: ReadonlyArray<DirectoryError['kind']> = ['forbidden', 'notFound', 'badRequest'];

/** Adds a chunk of users with one PATCH, trying again within the retry budget and the replication waits. */
export async function addChunk(run: BulkRun, chunk: Slot[]): Promise<void> {
  const { directory, policy, sleep, waits, logger } = run.tools;
  const groupId = run.command.groupId;
  let left = chunk;
  let lagRetries = 0;
  for (let attempt = 0; left.length > 0; attempt++) {
    try {
      await directory.addGroupMembers(
        groupId,
        left.map(({ e }) => e.userId!),
      );
      for (const item of left) run.markAdded(item.i, true);
      return;
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      if (isTransient(err) && attempt < policy.budget) {
        left = await afterPassingFailure(run, left, err, attempt);
        continue;
      }
      // A chunk of just-invited guests refused as not found: replication lag; the whole chunk is tried again a few
      // times.
      const allInvited = left.every(({ i }) => run.entries[i].invited);
      if (isReplicationLag(err) && allInvited && lagRetries < waits.replication.length) {
        await sleep(waits.replication[lagRetries++]);
        continue;
      }
      if (refusedKinds.includes(err.kind)) {
        // All or none: one member already there, or one user not replicated yet, refuses the chunk. Add one by one.
        logger.info('bulk.chunk.refused', { code: err.code, size: left.length });
        await Promise.all(left.map((item) => addOne(run, item)));
        return;
      }
      const detail = msg('bulk:reason.failed', { detail: graphDetail(err.code, err.message) });
      for (const item of left) run.record(item.i, { ...run.entries[item.i], state: 'failed', detail });
      return;
    }
  }
}

/**
 * After throttling or a 5xx: a PATCH answered 5xx may have been carried out, so who is a member now is read and
 * only the rest is left to send; then the wait (Retry-After or the backoff).
 */
async function afterPassingFailure(run: BulkRun, left: Slot[], err: DirectoryError, attempt: number): Promise<Slot[]> {
  const { directory, policy, sleep } = run.tools;
  let rest = left;
  if (err.kind === 'unavailable') {
    const members = await retryTransient(
      () =>
        directory.membersAmong(
          run.command.groupId,
          left.map(({ e }) => e.userId!),
        ),
      policy,
    );
    for (const item of left) if (members.has(item.e.userId!)) run.markAdded(item.i, true);
    rest = left.filter(({ e }) => !members.has(e.userId!));
  }
  await sleep(transientWaitMs(err, attempt));
  return rest;
}

/** Adds one user; a just-invited one Graph does not show yet is retried within the turn, then left `waiting`. */
async function addOne(run: BulkRun, item: Slot): Promise<void> {
  const { directory, policy, sleep, waits } = run.tools;
  const groupId = run.command.groupId;
  const userId = item.e.userId!;
  try {
    const result = await retryWrite(
      () =>
        retryWhileLagging(
          () => directory.addGroupMember(groupId, userId),
          item.e.invited ? waits.replication : [],
          sleep,
        ),
      async () =>
        (await directory.checkMemberGroups(userId, [groupId])).has(groupId) ? { added: true, requestId: null } : null,
      policy,
    );
    run.markAdded(item.i, result.added);
  } catch (err) {
    run.record(item.i, notAdded(run, item, err));
  }
}

/** An address whose single add failed: waiting (replication lag), refused (Graph said no) or failed. */
function notAdded(run: BulkRun, item: Slot, err: unknown): AddressResult {
  const entry = run.entries[item.i];
  if (isReplicationLag(err) && item.e.invited)
    return { ...entry, state: 'waiting', since: entry.since ?? run.tools.clock().toISOString() };
  if (err instanceof DirectoryError && refusedKinds.includes(err.kind))
    return {
      ...entry,
      state: 'refused',
      detail: msg('bulk:reason.writeRefused', { detail: graphDetail(err.code, err.message) }),
    };
  const detail = err instanceof DirectoryError ? graphDetail(err.code, err.message) : String(err).slice(0, 300);
  return { ...entry, state: 'failed', detail: msg('bulk:reason.failed', { detail }) };
}
