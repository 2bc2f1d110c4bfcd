/**
 * Deciding a request: an owner approves or denies (checked on the server at that moment: the request, the
 * decider's ownership, the group), or the requester withdraws it. The first decision wins by compare-and-set;
 * an approval records its membership write first and then carries it out (approval.ts).
 */
import type { DecisionContext } from '../../graph/directory';
import { ConflictError, type AccessRequestPatch, type AccessRequestRecord } from '../../store/store';
import { msg } from '../shared/message';
import { blockerProblem, describeBlocker, groupBlockers, type Actor } from '../shared/model';
import { cleanText } from '../shared/text';
import { approvalOperation, finishApproval } from './approval';
import { audit, recordForgedChoice, setupBlocked, type RequestContext } from './context';
import { COMMENT_MAX, refused, type DecideOutcome, type Refused, type WithdrawOutcome } from './model';

/** An owner's decision that passed the checks, with what was read to check it. */
interface Decision {
  actor: Actor;
  request: AccessRequestRecord;
  approve: boolean;
  comment: string;
  context: DecisionContext;
}

type AlreadyDecided = { kind: 'alreadyDecided'; request: AccessRequestRecord };

function auditBase(actor: Actor, request: AccessRequestRecord) {
  return {
    actorId: actor.userId,
    actorName: actor.displayName,
    appId: request.appId,
    appName: request.appName,
    groupId: request.groupId,
    groupName: request.groupName,
    operationId: request.id,
  };
}

/** A decided request as the cards should show it: wait briefly for an approval's membership write to finish. */
async function settled(ctx: RequestContext, request: AccessRequestRecord): Promise<AccessRequestRecord> {
  let current = request;
  for (let i = 0; i < 30 && current.state === 'approved' && !current.outcome; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = (await ctx.options.store.requests.get(request.id)) ?? current;
  }
  return current;
}

/**
 * Moves a pending request on by compare-and-set. When that loses to a decision made meanwhile, answers the request
 * as it is now (`lost`); a conflict with any other change of a still pending request is thrown (the caller retries).
 */
async function updatePending(
  ctx: RequestContext,
  request: AccessRequestRecord,
  patch: AccessRequestPatch,
): Promise<{ kind: 'updated'; request: AccessRequestRecord } | { kind: 'lost'; current: AccessRequestRecord }> {
  try {
    return {
      kind: 'updated',
      request: await ctx.options.store.requests.update(request.id, request.version, patch, ctx.clock()),
    };
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    const current = (await ctx.options.store.requests.get(request.id))!;
    if (current.state !== 'pending') return { kind: 'lost', current };
    throw err;
  }
}

/** Withdraws the requester's own pending request (one attempt; the service retries lost races). */
export async function withdrawOnce(ctx: RequestContext, actor: Actor, requestId: string): Promise<WithdrawOutcome> {
  const request = await ctx.options.store.requests.get(requestId);
  if (!request || request.tenantId !== actor.tenantId || request.requesterId !== actor.userId) {
    await recordForgedChoice(ctx, actor, { requestId, verb: 'request.withdraw' });
    return refused('notFound', msg('requests:refused.noSuchRequest'));
  }
  if (request.state !== 'pending') return { kind: 'alreadyDecided', request };
  const written = await updatePending(ctx, request, { state: 'withdrawn', decidedAt: ctx.clock().toISOString() });
  if (written.kind === 'lost') return { kind: 'alreadyDecided', request: written.current };
  await audit(ctx, actor.tenantId, { ...auditBase(actor, request), action: 'request.withdrawn', outcome: 'withdrawn' });
  await ctx.options.messenger.updateApprovalCards(written.request);
  return { kind: 'withdrawn', request: written.request };
}

/** An owner approves or denies (one attempt; the service makes it again after a lost compare-and-set). */
export async function decideOnce(
  ctx: RequestContext,
  actor: Actor,
  requestId: string,
  approve: boolean,
  rawComment: string | null,
): Promise<DecideOutcome> {
  const request = await ctx.options.store.requests.get(requestId);
  if (!request || request.tenantId !== actor.tenantId) {
    await recordForgedChoice(ctx, actor, { requestId, verb: approve ? 'request.approve' : 'request.deny' });
    return refused('notFound', msg('requests:refused.requestGone'));
  }
  const checked = await checkDecision(ctx, actor, request, approve, rawComment);
  if ('kind' in checked) return checked;
  return recordDecision(ctx, checked);
}

/** The checks of a decision, in order: not one's own request, pending, a sane comment, owner now, group usable. */
async function checkDecision(
  ctx: RequestContext,
  actor: Actor,
  request: AccessRequestRecord,
  approve: boolean,
  rawComment: string | null,
): Promise<Decision | Refused | AlreadyDecided> {
  const base = auditBase(actor, request);
  if (request.requesterId === actor.userId) {
    await audit(ctx, actor.tenantId, { ...base, action: 'request.decision.refused', outcome: 'selfDecision' });
    return refused('selfDecision', msg('requests:refused.selfDecision'));
  }
  if (request.state !== 'pending') {
    if (request.ownerIds.includes(actor.userId) || request.decidedBy === actor.userId)
      return { kind: 'alreadyDecided', request: await settled(ctx, request) };
  }
  const comment = cleanText(rawComment ?? '', { multiline: true });
  if (comment.length > COMMENT_MAX)
    return refused('comment', msg('requests:refused.commentTooLong', { length: comment.length, max: COMMENT_MAX }));
  const context = await ctx.options.directory.getDecisionContext({
    deciderId: actor.userId,
    requesterId: request.requesterId,
    groupId: request.groupId,
  });
  if (!context.deciderIsOwner) {
    await audit(ctx, actor.tenantId, {
      ...base,
      action: 'request.decision.refused',
      outcome: 'notOwner',
      graphRequestId: context.requestId ?? undefined,
    });
    return refused('notOwner', msg('requests:refused.notOwner', { group: request.groupName }));
  }
  if (request.state !== 'pending') return { kind: 'alreadyDecided', request: await settled(ctx, request) };
  const blocked = approve ? await refuseBlockedGroup(ctx, actor, request, context) : null;
  return blocked ?? { actor, request, approve, comment, context };
}

/** An approval into a group that cannot take members (a setup problem): audited, reported, refused. */
async function refuseBlockedGroup(
  ctx: RequestContext,
  actor: Actor,
  request: AccessRequestRecord,
  context: DecisionContext,
): Promise<Refused | null> {
  const blockers = context.group ? groupBlockers(context.group) : [];
  if (blockers.length === 0) return null;
  await setupBlocked(
    ctx,
    actor,
    { ...auditBase(actor, request), action: 'setup.blocked', outcome: blockers[0], detail: 'approval' },
    {
      doing: msg('admin:doing.approving', { requester: request.requesterName, app: request.appName }),
      kind: blockerProblem[blockers[0]],
      app: { id: request.appId, displayName: request.appName },
      group: { id: request.groupId, displayName: request.groupName },
    },
  );
  return refused(
    'groupBlocked',
    msg('requests:refused.groupBlockedPending', {
      why: describeBlocker(blockers[0], request.groupName, request.appName),
    }),
  );
}

/** Writes the checked decision (first wins), then carries out an approval or tells the people of a denial. */
async function recordDecision(ctx: RequestContext, decision: Decision): Promise<DecideOutcome> {
  const { actor, request, approve, comment, context } = decision;
  if (approve) {
    // The intent is recorded before the decision, so a crash between the two leaves a record to finish.
    await ctx.options.store.operations.create(approvalOperation(request, actor.userId), ctx.clock());
  }
  const written = await updatePending(ctx, request, {
    state: approve ? 'approved' : 'denied',
    decidedBy: actor.userId,
    decidedByName: actor.displayName,
    decidedAt: ctx.clock().toISOString(),
    comment: comment || null,
  });
  if (written.kind === 'lost') return { kind: 'alreadyDecided', request: await settled(ctx, written.current) };
  const decided = written.request;
  await audit(ctx, actor.tenantId, {
    ...auditBase(actor, request),
    action: approve ? 'request.approved' : 'request.denied',
    outcome: approve ? 'approved' : 'denied',
    detail: comment || undefined,
    graphRequestId: context.requestId ?? undefined,
  });
  if (approve) return { kind: 'decided', request: await finishApproval(ctx, decided, context.requesterIsMember, true) };
  await ctx.options.messenger.updateApprovalCards(decided);
  await ctx.options.messenger.notifyRequester(decided, 'decided');
  return { kind: 'decided', request: decided };
}
