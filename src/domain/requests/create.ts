/**
 * Creating a membership request: the choice is checked against what was offered, the justification and the
 * user's hourly allowance; the group is read now (it exists, can take members, has owners other than the
 * requester); the request is stored (one pending per requester and group) and its card delivered to the owners.
 */
import { randomUUID } from 'node:crypto';
import type { GroupOwner } from '../../graph/directory';
import { DuplicateRequestError, type AccessRequestRecord } from '../../store/store';
import { msg, type Msg } from '../shared/message';
import {
  blockerProblem,
  describeBlocker,
  groupBlockers,
  type Actor,
  type BlockedReport,
  type Offer,
} from '../shared/model';
import { cleanText } from '../shared/text';
import { audit, recordForgedChoice, setupBlocked, type RequestContext } from './context';
import { deliverAndKeep } from './delivery';
import { JUSTIFICATION_MAX, refused, type CreateOutcome, type Refused } from './model';

export interface CreateCommand {
  actor: Actor;
  appId: string;
  groupId: string;
  justification: string;
  offered: readonly Offer[];
}

/** The app and group a request is for, as read now, and the owners who may decide it (the requester is not one). */
interface Target {
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  approvers: GroupOwner[];
}

/** A justification as kept (cleaned), or why it cannot be sent. */
export type JustificationCheck = { ok: true; text: string } | { ok: false; message: Msg };

export function checkJustification(raw: string | null | undefined): JustificationCheck {
  const text = cleanText(raw ?? '', { multiline: true });
  if (!text) return { ok: false, message: msg('requests:justification.empty') };
  if (text.length > JUSTIFICATION_MAX)
    return {
      ok: false,
      message: msg('requests:justification.tooLong', { length: text.length, max: JUSTIFICATION_MAX }),
    };
  return { ok: true, text };
}

export async function createRequest(ctx: RequestContext, command: CreateCommand): Promise<CreateOutcome> {
  const admitted = await admit(ctx, command);
  if (admitted.kind === 'refused') return admitted;
  const target = await readTarget(ctx, command);
  if ('kind' in target) return target;
  const request = await storeRequest(ctx, command.actor, target, admitted.justification);
  if ('kind' in request) return request;
  await audit(ctx, command.actor.tenantId, {
    ...auditBase(command.actor, target),
    action: 'request.created',
    outcome: 'pending',
    operationId: request.id,
  });
  return askOwners(ctx, request, target.approvers);
}

/** What the user sent, before anything is read: an offered choice, a justification, and allowance left. */
async function admit(
  ctx: RequestContext,
  command: CreateCommand,
): Promise<{ kind: 'admitted'; justification: string } | Refused> {
  const { actor } = command;
  const offer = command.offered.find((o) => o.appId === command.appId);
  if (!offer || !offer.groupIds.includes(command.groupId)) {
    await recordForgedChoice(ctx, actor, { appId: command.appId, groupId: command.groupId, verb: 'request.send' });
    return refused('notOffered', msg('requests:refused.notOffered'));
  }
  const justification = checkJustification(command.justification);
  if (!justification.ok) return refused('justification', justification.message);
  if (ctx.options.limiter && !(await ctx.options.limiter.take('request', actor.tenantId, actor.userId))) {
    return refused('rateLimited', msg('requests:refused.rateLimited'));
  }
  return { kind: 'admitted', justification: justification.text };
}

/** The app and group as they are now; refused when the group is gone, has the user, or cannot be decided on. */
async function readTarget(ctx: RequestContext, command: CreateCommand): Promise<Target | Refused> {
  const { actor } = command;
  const app = (await ctx.catalog.apps()).find((a) => a.id === command.appId);
  const [context, owners] = await Promise.all([
    ctx.options.directory.getDecisionContext({
      deciderId: actor.userId,
      requesterId: actor.userId,
      groupId: command.groupId,
    }),
    ctx.options.directory.listGroupOwners(command.groupId),
  ]);
  const appName = app?.displayName ?? command.appId;
  if (!context.group) return refused('notFound', msg('requests:refused.groupNotFound'));
  const groupName = context.group.displayName;
  if (context.requesterIsMember) {
    return refused('alreadyMember', msg('requests:refused.alreadyMember', { group: groupName, app: appName }));
  }
  const target: Target = {
    app: { id: command.appId, displayName: appName },
    group: { id: command.groupId, displayName: groupName },
    approvers: owners.filter((o) => o.id !== actor.userId),
  };
  const blockers = groupBlockers(context.group);
  if (blockers.length > 0) {
    await refuseSetup(ctx, actor, target, { outcome: blockers[0], kind: blockerProblem[blockers[0]] });
    return refused(
      'groupBlocked',
      msg('requests:refused.groupBlocked', { why: describeBlocker(blockers[0], groupName, appName) }),
    );
  }
  if (target.approvers.length === 0) {
    await refuseSetup(ctx, actor, target, { outcome: 'noOwners', kind: 'groupNoOwners' });
    return refused('noOwners', msg('requests:refused.noOwners', { group: groupName }));
  }
  return target;
}

function auditBase(actor: Actor, target: Target) {
  return {
    actorId: actor.userId,
    actorName: actor.displayName,
    appId: target.app.id,
    appName: target.app.displayName,
    groupId: target.group.id,
    groupName: target.group.displayName,
  };
}

/** The group cannot take this request (a setup problem): audited and reported to the admins. */
function refuseSetup(
  ctx: RequestContext,
  actor: Actor,
  target: Target,
  problem: { outcome: string; kind: BlockedReport['kind'] },
): Promise<void> {
  return setupBlocked(
    ctx,
    actor,
    { ...auditBase(actor, target), action: 'setup.blocked', outcome: problem.outcome, detail: 'membership request' },
    {
      doing: msg('admin:doing.requesting', { app: target.app.displayName }),
      kind: problem.kind,
      app: target.app,
      group: target.group,
    },
  );
}

/** Stores the pending request; refused when the requester already has one pending for this group. */
async function storeRequest(
  ctx: RequestContext,
  actor: Actor,
  target: Target,
  justification: string,
): Promise<AccessRequestRecord | Refused> {
  try {
    return await ctx.options.store.requests.create(
      {
        id: randomUUID(),
        tenantId: actor.tenantId,
        requesterId: actor.userId,
        requesterName: actor.displayName,
        appId: target.app.id,
        appName: target.app.displayName,
        groupId: target.group.id,
        groupName: target.group.displayName,
        justification,
        ownerIds: target.approvers.map((o) => o.id),
      },
      ctx.clock(),
    );
  } catch (err) {
    if (err instanceof DuplicateRequestError) {
      return refused('duplicate', msg('requests:refused.duplicate', { group: target.group.displayName }));
    }
    throw err;
  }
}

/** Sends the new request's card to its owners; says whom it reached and whom not (and why, when Teams said). */
async function askOwners(
  ctx: RequestContext,
  created: AccessRequestRecord,
  approvers: readonly GroupOwner[],
): Promise<CreateOutcome> {
  const reasons = new Map<string, string>();
  const { request, cards } = await deliverAndKeep(ctx, created, approvers, 'new', reasons);
  const missed = cards.filter((c) => c.status === 'unreachable');
  return {
    kind: 'created',
    request,
    reached: cards.filter((c) => c.status === 'sent').map((c) => c.ownerName),
    unreachable: missed.map((c) => c.ownerName),
    unreachableOwners: missed.map((c) => ({ name: c.ownerName, reason: reasons.get(c.ownerId) ?? null })),
  };
}
