/**
 * The last steps of an invitation: add the guest to the group (`addMember`), waiting out replication lag for a
 * guest this operation invited, then the success: audited, and the guest recorded (sponsor, review) when a guest.
 */
import { DirectoryError, isPermissionDenied } from '../../graph/directory';
import { isReplicationLag, replicationRetryDelay, retryWhileLagging, retryWrite, waitSchedules } from '../shared/retry';
import { msg } from '../shared/message';
import { failure } from './failures';
import { report, retryPolicy, type Ended, type GuestToAdd, type InviteRun, type InviteTarget } from './run';
import { finished, refused, type InviteDone, type InviteRefused, type RunResult } from './model';

/** Whether this run added the guest, and the latest Graph request id. */
export interface Added {
  added: boolean;
  requestId: string | null;
}

/** Step `addMember`: a write that Graph answered ambiguously is settled by reading membership, not sent again. */
export async function addToGroup(run: InviteRun, target: InviteTarget, guest: GuestToAdd): Promise<Added | Ended> {
  const { directory, logger } = run.options;
  const groupId = target.group.id;
  try {
    const result = await retryWrite(
      () =>
        // A 400 reaching here is not "already a member" (the adapter read membership).
        retryWhileLagging(
          () => directory.addGroupMember(groupId, guest.id),
          waitSchedules(run.options).replication,
          run.sleep,
          (attempt, ms) => logger.info('invite.replication.wait', { attempt: attempt + 1, ms }),
        ),
      async () =>
        (await directory.checkMemberGroups(guest.id, [groupId])).has(groupId) ? { added: true, requestId: null } : null,
      retryPolicy(run),
    );
    // A guest this operation invited can only be in the group through this operation (an earlier, interrupted run).
    const added = result.added || guest.invited;
    const requestId = result.requestId ?? guest.requestId;
    await run.steps.done('addMember', { added }, result.requestId);
    return { added, requestId };
  } catch (err) {
    return { end: await addFailed(run, target, guest, err) };
  }
}

/**
 * The membership write failed: a guest this operation invited and the directory does not show yet is waited for
 * (until REPLICATION_WAIT, then it fails and can be retried); a refusal is the owner's to hear; else it failed.
 */
async function addFailed(run: InviteRun, target: InviteTarget, guest: GuestToAdd, err: unknown): Promise<RunResult> {
  if (isPermissionDenied(err)) {
    await report(run, {
      tenantId: run.command.actor.tenantId,
      actor: run.command.actor,
      doing: msg('admin:doing.adding', { email: run.email, group: target.group.displayName }),
      kind: 'missingPermission',
      app: target.appRef,
      group: target.groupRef,
      detail: err.permission ?? 'GroupMember.ReadWrite.All',
    });
  }
  const waitedMs = run.clock().getTime() - guest.invitedAt.getTime();
  if (isReplicationLag(err) && guest.invited) {
    if (waitedMs < run.options.replicationWaitMs) return waitForReplication(run, target, guest, err, waitedMs);
    // Still not visible after REPLICATION_WAIT: no refusal either, so it fails and can be retried (automatically or by
    // an admin).
    return finished(await failure(run, err, 'addMember', target.names));
  }
  if (err instanceof DirectoryError && (err.kind === 'forbidden' || err.kind === 'badRequest'))
    return finished(await addRefused(run, target, guest, err));
  return finished(await failure(run, err, 'addMember', target.names));
}

/** The run ends for now: the operation stays unfinished and is resumed at `retryAt`. */
async function waitForReplication(
  run: InviteRun,
  target: InviteTarget,
  guest: GuestToAdd,
  err: DirectoryError,
  waitedMs: number,
): Promise<RunResult> {
  const retryAt = new Date(run.clock().getTime() + replicationRetryDelay(waitedMs));
  run.options.logger.info('invite.replication.waiting', {
    guestId: guest.id,
    groupId: target.group.id,
    code: err.code,
    retryAt: retryAt.toISOString(),
    graphRequestId: err.requestId ?? undefined,
  });
  await run.audit({
    action: 'invite.waiting',
    outcome: 'replicationLag',
    guestEmail: run.email,
    guestId: guest.id,
    detail: `${err.code}: ${err.message}`.slice(0, 500),
    graphRequestId: err.requestId ?? undefined,
    ...target.names,
  });
  return {
    outcome: {
      kind: 'waiting',
      guest: { id: guest.id, email: run.email },
      app: target.appRef,
      group: target.groupRef,
      retryAt: retryAt.toISOString(),
    },
    failed: false,
    retryAt,
  };
}

/** Graph refused the membership write (403, or a 400 that is not lag of a guest invited here). */
async function addRefused(
  run: InviteRun,
  target: InviteTarget,
  guest: GuestToAdd,
  err: DirectoryError,
): Promise<InviteRefused> {
  const text = msg(isPermissionDenied(err) ? 'invite:refused.addMissingPermission' : 'invite:refused.addRefused', {
    email: run.email,
    group: target.group.displayName,
    code: err.code,
    invited: guest.invited ? 'yes' : 'no',
    permission: err.permission ?? 'GroupMember.ReadWrite.All',
  });
  await run.audit({
    action: 'invite.refused',
    outcome: 'writeRefused',
    guestEmail: run.email,
    guestId: guest.id,
    detail: `${err.code}: ${err.message}`.slice(0, 500),
    graphRequestId: err.requestId ?? undefined,
    ...target.names,
  });
  return refused('writeRefused', text);
}

/** The invitation is done: audited, and a guest (not a member of the organization) kept in the guest records. */
export async function succeed(
  run: InviteRun,
  target: InviteTarget,
  guest: GuestToAdd,
  { added, requestId }: Added,
): Promise<InviteDone> {
  const { existing, appRef, groupRef } = target;
  const { invited } = guest;
  const outcome: InviteDone = {
    kind: 'done',
    invited,
    added,
    guest: {
      id: guest.id,
      email: run.email,
      displayName: existing?.displayName ?? run.email,
      redemption: guest.redemption,
    },
    app: appRef,
    group: groupRef,
    redeemUrl: guest.redeemUrl,
  };
  await run.audit({
    action: 'invite.succeeded',
    outcome: added ? (invited ? 'invitedAndAdded' : 'existingGuestAdded') : 'alreadyMember',
    guestEmail: run.email,
    guestId: guest.id,
    graphRequestId: requestId ?? undefined,
    ...target.names,
  });
  // Only guests are kept in the guest records (and reviewed, and removed by the review default): an existing
  // member added to the group is not one.
  if (added && (invited || existing?.userType === 'Guest')) {
    await run.options.guestRecorder?.recordAdded({
      actor: run.command.actor,
      how: 'invite',
      operationId: run.steps.record.id,
      guest: outcome.guest,
      app: appRef,
      group: groupRef,
    });
  }
  run.options.logger.info('invite.succeeded', {
    guestId: guest.id,
    groupId: target.group.id,
    appId: target.app.id,
    invited,
    added,
  });
  return outcome;
}
