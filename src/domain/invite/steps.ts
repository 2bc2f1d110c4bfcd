/**
 * The steps of an invitation's durable operation, in order: read what the directory says now (`check`), see
 * whether an existing user is already in the group, invite through Graph (`invite`, once: a resumed run takes the
 * recorded guest), add the guest to the group, waiting out replication lag (`addMember`), then record the guest.
 * Each step returns its result, or the end of the run (a refusal, a failure, a wait) as `{ end }`.
 */
import { DirectoryError, isPermissionDenied, type InvitationResult, type InviteContext } from '../../graph/directory';
import { readAfterWaits, retryTransient, retryWrite, waitSchedules } from '../shared/retry';
import { auditText, msg } from '../shared/message';
import { invitationRedirect } from './redirect';
import { refusalReport } from './checks';
import { failure, notSetUp } from './failures';
import { report, retryPolicy, type Ended, type GuestToAdd, type InviteRun, type InviteTarget } from './run';
import { finished, refused, type InviteOutcome, type InviteRefused, type RunResult } from './model';

/** Step `check`, its read: the group, the app, ownership, the address's user and the tenant's settings. */
export async function readContext(run: InviteRun): Promise<InviteContext | Ended> {
  const { command, email } = run;
  try {
    return await retryTransient(
      () =>
        run.options.directory.getInviteContext({
          actorId: command.actor.userId,
          groupId: command.groupId,
          appId: command.appId,
          email,
        }),
      retryPolicy(run),
    );
  } catch (err) {
    if (isPermissionDenied(err)) return { end: finished(await notSetUp(run, err, 'check')) };
    return { end: finished(await failure(run, err, 'check')) };
  }
}

/** A refusal of the checks: the admins hear of a setup problem, the audit keeps it. */
export async function refuseAfterCheck(
  run: InviteRun,
  refusal: InviteRefused,
  context: InviteContext,
): Promise<RunResult> {
  const blocked = refusalReport(run.command.actor, refusal, context);
  if (blocked) await report(run, blocked);
  await run.audit({
    action: 'invite.refused',
    outcome: refusal.reason,
    guestEmail: run.email,
    detail: auditText(refusal.message).slice(0, 500),
    graphRequestId: context.requestId ?? undefined,
    ...namesOf(context),
  });
  return finished(refusal);
}

/** The target of a context that passed the checks (so its app and group are there). */
export function targetOf(context: InviteContext): InviteTarget {
  const app = context.app!;
  const group = context.group!;
  return {
    app,
    group,
    appRef: { id: app.id, displayName: app.displayName },
    groupRef: { id: group.id, displayName: group.displayName },
    names: namesOf(context),
    existing: context.existingUser,
    requestId: context.requestId,
  };
}

function namesOf(context: InviteContext): InviteTarget['names'] {
  return { appName: context.app?.displayName, groupName: context.group?.displayName };
}

/**
 * Before anything is written: an existing user already in the group ends the run as done (nothing to add). Not
 * asked again once this operation invited or added. Membership is read plainly (checkMemberGroups), not from the
 * lagging advanced-query index.
 */
export async function alreadyMember(run: InviteRun, target: InviteTarget): Promise<RunResult | null> {
  const { existing, group } = target;
  const recorded = run.steps.record.steps;
  if (!existing || recorded.addMember?.result || recorded.invite) return null;
  let member: boolean;
  try {
    const read = (): Promise<Set<string>> => run.options.directory.checkMemberGroups(existing.id, [group.id]);
    member = (await retryTransient(read, retryPolicy(run))).has(group.id);
  } catch (err) {
    if (isPermissionDenied(err)) return finished(await notSetUp(run, err, 'member'));
    return finished(await failure(run, err, 'check', target.names));
  }
  if (!member) return null;
  await run.audit({
    action: 'invite.alreadyMember',
    outcome: 'alreadyMember',
    guestEmail: run.email,
    guestId: existing.id,
    graphRequestId: target.requestId ?? undefined,
    ...target.names,
  });
  return finished({
    kind: 'done',
    invited: false,
    added: false,
    guest: { id: existing.id, email: run.email, displayName: existing.displayName, redemption: redemptionOf(existing) },
    app: target.appRef,
    group: target.groupRef,
    redeemUrl: null,
  });
}

/** Step `check`, recorded once (a resumed run keeps the first). */
export async function recordCheck(run: InviteRun, target: InviteTarget): Promise<void> {
  if (run.steps.record.steps.check) return;
  const result = { groupId: target.group.id, appId: target.app.id, existingUserId: target.existing?.id ?? null };
  await run.steps.done('check', result, target.requestId);
}

/** The guest to add: the one an earlier run invited (never invited again), the existing user, or a new invitation. */
export async function guestToAdd(run: InviteRun, target: InviteTarget): Promise<GuestToAdd | Ended> {
  const now = run.clock();
  const previous = run.steps.record.steps.invite;
  if (previous && typeof previous.result?.userId === 'string') {
    return {
      id: previous.result.userId,
      redemption: String(previous.result.status ?? 'PendingAcceptance'),
      redeemUrl: null,
      invited: true,
      invitedAt: new Date(previous.at),
      requestId: target.requestId,
    };
  }
  const { existing } = target;
  if (existing) {
    const redemption = redemptionOf(existing);
    return {
      id: existing.id,
      redemption,
      redeemUrl: null,
      invited: false,
      invitedAt: now,
      requestId: target.requestId,
    };
  }
  return invite(run, target, now);
}

/** Step `invite`: `POST /invitations`, read before repeated after an ambiguous answer (a second one emails twice). */
async function invite(run: InviteRun, target: InviteTarget, now: Date): Promise<GuestToAdd | Ended> {
  const { directory, logger, defaultRedirectUrl } = run.options;
  const { email, command, welcome } = run;
  try {
    const redirectUrl = invitationRedirect(target.app, defaultRedirectUrl);
    const invitation = await retryWrite(
      () => directory.inviteGuest({ email, redirectUrl, message: welcome, language: command.language ?? null }),
      () => invitationTookEffect(run),
      retryPolicy(run),
    );
    const id = invitation.userId;
    const redemption = invitation.status ?? 'PendingAcceptance';
    await run.steps.done('invite', { userId: id, status: redemption }, invitation.requestId);
    logger.info('invite.invitation.created', { guestId: id, graphRequestId: invitation.requestId });
    return {
      id,
      redemption,
      redeemUrl: invitation.redeemUrl,
      invited: true,
      invitedAt: now,
      requestId: invitation.requestId,
    };
  } catch (err) {
    return { end: finished(await invitationFailed(run, target, err)) };
  }
}

/**
 * After an ambiguous answer to `POST /invitations`: does a user with that address exist now? A few reads apart,
 * since the new user may take a moment to show in plain reads too (user-list.md: replication delays).
 */
async function invitationTookEffect(run: InviteRun): Promise<InvitationResult | null> {
  let found: InvitationResult | null = null;
  await readAfterWaits(waitSchedules(run.options).confirm, run.sleep, async () => {
    const user = await run.options.directory.findUserByEmail(run.email);
    if (user)
      found = {
        userId: user.id,
        redeemUrl: null,
        status: user.externalUserState ?? 'PendingAcceptance',
        requestId: null,
      };
    return found !== null;
  });
  return found;
}

/** Graph refused the invitation (403: members may not invite; 400: the address), or an error stopped it. */
async function invitationFailed(run: InviteRun, target: InviteTarget, err: unknown): Promise<InviteOutcome> {
  if (!(err instanceof DirectoryError && (err.kind === 'forbidden' || err.kind === 'badRequest')))
    return failure(run, err, 'invite', target.names);
  const { command, email } = run;
  const refusal = invitationRefused(err, email);
  if (err.kind === 'forbidden') {
    await report(run, {
      tenantId: command.actor.tenantId,
      actor: command.actor,
      doing: msg('admin:doing.inviting', { email, app: target.app.displayName }),
      kind: 'invitesNotAllowed',
      app: target.app,
      group: target.group,
      detail: `POST /invitations answered 403 ${err.code}`,
    });
  }
  await run.audit({
    action: 'invite.refused',
    outcome: refusal.reason,
    guestEmail: email,
    detail: `${err.code}: ${err.message}`.slice(0, 500),
    graphRequestId: err.requestId ?? undefined,
    ...target.names,
  });
  return refusal;
}

function invitationRefused(err: DirectoryError, email: string): InviteRefused {
  if (err.kind === 'forbidden') {
    return refused('invitesNotAllowed', msg('invite:refused.invitationForbidden', { email, code: err.code }));
  }
  return refused(
    'invitationRefused',
    msg('invite:refused.invitationRefused', { email, code: err.code, detail: err.message }),
  );
}

function redemptionOf(user: { externalUserState: string | null; userType: string | null }): string {
  return user.externalUserState ?? (user.userType === 'Member' ? 'Member' : 'Unknown');
}
