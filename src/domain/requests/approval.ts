/**
 * An approval's membership write, as an operation record (`approve:{requestId}`): it adds the requester once
 * however often or concurrently it runs, checks a late run's approver still owns the group, ends the record and
 * stores the outcome on the request in one transaction, keeps an added guest's record, and tells the people.
 */
import { DirectoryError } from '../../graph/directory';
import type { AccessRequestRecord, JsonObject, NewOperation, OperationPatch, OperationRecord } from '../../store/store';
import type { OperationSteps } from '../shared/operations';
import { retryWrite, transientPolicy } from '../shared/retry';
import { retryOnConflict } from '../shared/retryOnConflict';
import { audit, patchRequest, type RequestContext } from './context';

/** Operation records of approvals: the membership write of request {id} is `approve:{id}`. */
export const APPROVAL_OPERATION_KIND = 'approveRequest';
/** The kind earlier versions gave these records; they are resumed the same way. */
const LEGACY_APPROVAL_KIND = 'addMember';
export const APPROVAL_OPERATION_KINDS = [APPROVAL_OPERATION_KIND, LEGACY_APPROVAL_KIND];
export const APPROVAL_ID_PREFIX = 'approve:';
export const approvalOperationId = (requestId: string): string => `${APPROVAL_ID_PREFIX}${requestId}`;

export function approvalOperation(request: AccessRequestRecord, approverId: string): NewOperation {
  return {
    id: approvalOperationId(request.id),
    kind: APPROVAL_OPERATION_KIND,
    tenantId: request.tenantId,
    actorId: approverId,
    input: { requestId: request.id, groupId: request.groupId, userId: request.requesterId },
  };
}

/** What the body of an approval's operation came to; `failed` when it may be reopened and run again. */
interface MembershipRun {
  outcome: JsonObject;
  failed: boolean;
}

function ended(outcome: JsonObject): MembershipRun {
  return { outcome, failed: false };
}

/**
 * Carries out an approval's membership write once (operation record `approve:{id}`), stores what happened on the
 * request, and, when that changed, updates every owner's card and tells the requester.
 */
export async function finishApproval(
  ctx: RequestContext,
  request: AccessRequestRecord,
  knownMember = false,
  ownershipChecked = false,
): Promise<AccessRequestRecord> {
  const ending = new ApprovalEnding(ctx, request.id);
  const run = await ctx.runner.run<JsonObject>(
    approvalOperation(request, request.decidedBy ?? ''),
    (steps) => addRequester(ctx, request.id, steps, knownMember, ownershipChecked && steps.record.attempts === 0),
    (record, patch, now) => ending.end(record, patch, now),
  );
  if (run.kind === 'inProgress') return request;
  const membership = run.outcome;
  if (membership.membership === 'notApproved') return (await ctx.options.store.requests.get(request.id)) ?? request;
  // A record that had ended before (an earlier run) whose outcome did not reach the request yet.
  const { request: final, changed } = ending.stored
    ? { request: ending.stored, changed: true }
    : await storeOutcome(ctx, request.id, membership);
  if (changed) await announce(ctx, final, membership);
  return final;
}

/** Stores the outcome on the request unless it shows it already; `changed` when it was written. */
async function storeOutcome(
  ctx: RequestContext,
  requestId: string,
  membership: JsonObject,
): Promise<{ request: AccessRequestRecord; changed: boolean }> {
  let changed = false;
  const request = await patchRequest(ctx, requestId, (current) => {
    if (current.outcome?.membership === membership.membership) return null;
    changed = true;
    return { outcome: membership };
  });
  return { request, changed };
}

/** The approval's outcome is new on the request: audited, every owner's card updated, the requester told. */
async function announce(ctx: RequestContext, final: AccessRequestRecord, membership: JsonObject): Promise<void> {
  await audit(ctx, final.tenantId, {
    actorId: final.decidedBy ?? 'system',
    actorName: final.decidedByName ?? undefined,
    action: 'membership.added',
    outcome: String(membership.membership),
    appId: final.appId,
    appName: final.appName,
    groupId: final.groupId,
    groupName: final.groupName,
    guestId: final.requesterId,
    operationId: final.id,
    graphRequestId: typeof membership.graphRequestId === 'string' ? membership.graphRequestId : undefined,
  });
  await ctx.options.messenger.updateApprovalCards(final);
  await ctx.options.messenger.notifyRequester(final, 'decided');
}

/** Ends one run of an approval's record; keeps the request when its outcome was stored with the record's end. */
class ApprovalEnding {
  stored: AccessRequestRecord | null = null;

  constructor(
    private readonly ctx: RequestContext,
    private readonly requestId: string,
  ) {}

  async end(record: OperationRecord, patch: OperationPatch, now: Date): Promise<OperationRecord> {
    const result = await endApproval(this.ctx, this.requestId, record, patch, now);
    this.stored = result.request;
    return result.record;
  }
}

/**
 * Ends an approval's record and stores its outcome on the request in one transaction, so neither is written
 * without the other. Returns the request when its outcome changed (null when there was nothing to store).
 * A request changed meanwhile (cards appended) is read again; a conflict on the record is the runner's.
 */
async function endApproval(
  ctx: RequestContext,
  requestId: string,
  record: OperationRecord,
  patch: OperationPatch,
  now: Date,
): Promise<{ record: OperationRecord; request: AccessRequestRecord | null }> {
  const outcome = patch.result ?? null;
  let writingRequestId: string | null = null;
  return retryOnConflict(
    async () => {
      const request = await ctx.options.store.requests.get(requestId);
      writingRequestId = null;
      if (
        !request ||
        !outcome ||
        outcome.membership === 'notApproved' ||
        request.outcome?.membership === outcome.membership
      ) {
        return {
          record: await ctx.options.store.operations.update(record.id, record.version, patch, now),
          request: null,
        };
      }
      writingRequestId = request.id;
      const both = await ctx.options.store.updateOperationAndRequest(
        { id: record.id, expectedVersion: record.version, patch },
        { id: request.id, expectedVersion: request.version, patch: { outcome } },
        now,
      );
      return { record: both.operation, request: both.request };
    },
    { retryIf: (err) => writingRequestId !== null && err.key === writingRequestId },
  );
}

/** The body of an approval's operation: adds the requester unless the request is not approved (any more). */
async function addRequester(
  ctx: RequestContext,
  requestId: string,
  steps: OperationSteps,
  knownMember: boolean,
  ownershipChecked: boolean,
): Promise<MembershipRun> {
  const request = await ctx.options.store.requests.get(requestId);
  if (!request || request.state !== 'approved') return ended({ membership: 'notApproved' });
  const previous = steps.record.steps.addMember;
  if (previous?.result) {
    return ended({
      membership: previous.result.added === true ? 'added' : 'alreadyMember',
      graphRequestId: previous.graphRequestId ?? null,
    });
  }
  if (knownMember) return ended({ membership: 'alreadyMember' });
  // Finished later (a retry or a resume): the approver must still own the group at the moment of the write.
  if (!ownershipChecked) {
    const stopped = await checkApproverNow(ctx, request, steps.record.id);
    if (stopped) return ended(stopped);
  }
  return writeMembership(ctx, request, steps);
}

/** Null when the approver still owns the group and the requester is not a member yet; else the outcome. */
async function checkApproverNow(
  ctx: RequestContext,
  request: AccessRequestRecord,
  operationId: string,
): Promise<JsonObject | null> {
  const context = await ctx.options.directory.getDecisionContext({
    deciderId: request.decidedBy ?? '',
    requesterId: request.requesterId,
    groupId: request.groupId,
  });
  if (!request.decidedBy || !context.deciderIsOwner) {
    await audit(ctx, request.tenantId, {
      actorId: request.decidedBy ?? 'system',
      actorName: request.decidedByName ?? undefined,
      action: 'request.approval.refused',
      outcome: 'approverNotOwner',
      appId: request.appId,
      appName: request.appName,
      groupId: request.groupId,
      groupName: request.groupName,
      operationId,
      graphRequestId: context.requestId ?? undefined,
    });
    return { membership: 'approverNotOwner' };
  }
  return context.requesterIsMember ? { membership: 'alreadyMember' } : null;
}

/** Adds the requester to the group (retried after throttling or a 5xx) and records the step. */
async function writeMembership(
  ctx: RequestContext,
  request: AccessRequestRecord,
  steps: OperationSteps,
): Promise<MembershipRun> {
  try {
    const result = await retryWrite(
      () => ctx.options.directory.addGroupMember(request.groupId, request.requesterId),
      // After a 5xx or timeout the add may have happened: read before writing again.
      async () =>
        (await ctx.options.directory.checkMemberGroups(request.requesterId, [request.groupId])).has(request.groupId)
          ? { added: true, requestId: null }
          : null,
      transientPolicy(ctx.options, ctx.sleep),
    );
    await steps.done('addMember', { added: result.added }, result.requestId);
    if (result.added) await recordGuest(ctx, request, steps.record.id);
    return ended({ membership: result.added ? 'added' : 'alreadyMember', graphRequestId: result.requestId });
  } catch (err) {
    return writeFailed(ctx, request.id, err);
  }
}

function writeFailed(ctx: RequestContext, requestId: string, err: unknown): MembershipRun {
  const error = err instanceof DirectoryError ? err : null;
  ctx.options.logger.error('request.membership.failed', {
    requestId,
    code: error?.code,
    graphRequestId: error?.requestId ?? undefined,
    error: err,
  });
  // Refused by the directory (the group changed, a permission is missing): retrying as it is will not help.
  const refusedWrite = error !== null && (error.kind === 'forbidden' || error.kind === 'badRequest');
  return {
    outcome: {
      membership: refusedWrite ? 'refused' : 'failed',
      code: error?.code ?? 'Unexpected',
      graphRequestId: error?.requestId ?? null,
    },
    failed: !refusedWrite,
  };
}

/** A guest the approval added is kept in the bot's records with the approver as sponsor (members are not). */
async function recordGuest(ctx: RequestContext, request: AccessRequestRecord, operationId: string): Promise<void> {
  const recorder = ctx.options.guestRecorder;
  if (!recorder || !request.decidedBy) return;
  try {
    const user = await ctx.options.directory.getUser(request.requesterId);
    if (user?.userType !== 'Guest') return;
    await recorder.recordAdded({
      actor: { tenantId: request.tenantId, userId: request.decidedBy, displayName: request.decidedByName ?? '' },
      how: 'request',
      operationId,
      guest: {
        id: user.id,
        email: user.mail ?? user.userPrincipalName,
        displayName: user.displayName,
        redemption: user.externalUserState,
      },
      app: { id: request.appId, displayName: request.appName },
      group: { id: request.groupId, displayName: request.groupName },
    });
  } catch (err) {
    ctx.options.logger.error('guest.record.failed', { operationId, error: err });
  }
}

/** A record whose request is gone: nothing to add; the record is closed. */
export async function finishOrphan(ctx: RequestContext, operationId: string): Promise<undefined> {
  const record = await ctx.options.store.operations.get(operationId);
  if (record) await ctx.runner.run(record, async () => ended({ membership: 'notApproved' }));
  return undefined;
}
