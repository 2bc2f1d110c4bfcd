/**
 * The checks of an invitation, made again at the moment of acting: each one refuses (with the message the owner
 * reads) or passes. First what the bot knows (the offer, the welcome message, the address, the hourly allowance),
 * then what the directory says now (the group, the app, ownership, the group's kind, the address's domain, who may
 * invite). Also what the admins are told when a setup problem is the reason.
 */
import type { InviteContext } from '../../graph/directory';
import type { Store } from '../../store/store';
import type { HourlyLimiter } from '../shared/rateLimit';
import { isOwnDomain } from '../shared/email';
import { blockerProblem, describeBlocker, groupBlockers, type Actor, type BlockedReport } from '../shared/model';
import { cleanText, WELCOME_MESSAGE_MAX } from '../shared/text';
import { msg, type Msg } from '../shared/message';
import { refused, type AuditWriter, type InviteCommand, type InviteRefused } from './model';

/** allowInvitesFrom values that stop a member from inviting (message keys say what they mean). */
const inviteSettingNames: Record<string, string> = {
  none: 'invite:inviteSetting.none',
  adminsAndGuestInviters: 'invite:inviteSetting.adminsAndGuestInviters',
};

/** The app and group of the command are among those the dialog offered this actor. */
export function wasOffered(command: InviteCommand): boolean {
  const offer = command.offered.find((o) => o.appId === command.appId);
  return offer !== undefined && offer.groupIds.includes(command.groupId);
}

/** The welcome message, cleaned, within WELCOME_MESSAGE_MAX; null when empty. */
export function checkWelcomeMessage(
  raw: string | null | undefined,
): { ok: true; message: string | null } | { ok: false; message: Msg } {
  const cleaned = cleanText(raw ?? '', { multiline: true });
  if (cleaned.length > WELCOME_MESSAGE_MAX) {
    return { ok: false, message: msg('invite:welcomeTooLong', { length: cleaned.length, max: WELCOME_MESSAGE_MAX }) };
  }
  return { ok: true, message: cleaned || null };
}

/**
 * The hourly allowance of new invitations (INVITES_PER_USER_PER_HOUR): a confirmation already recorded (delivered
 * again, resumed) takes none. A refusal is audited.
 */
export async function checkAllowance(
  store: Store,
  limiter: HourlyLimiter | undefined,
  command: InviteCommand,
  email: string,
  audit: AuditWriter,
): Promise<InviteRefused | null> {
  const { actor } = command;
  const known = await store.operations.get(command.operationId);
  if (known || !limiter || (await limiter.take('invite', actor.tenantId, actor.userId))) return null;
  await audit({ action: 'invite.refused', outcome: 'rateLimited', guestEmail: email });
  return refused('rateLimited', msg('invite:refused.rateLimited'));
}

/** The invite context once the group and the app were found. */
type FoundContext = InviteContext & {
  group: NonNullable<InviteContext['group']>;
  app: NonNullable<InviteContext['app']>;
};

/** One check of what the directory says now: a refusal, or null when it passes. */
type ContextCheck = (context: FoundContext, email: string) => InviteRefused | null;

/**
 * Graph lists no owners for a group synced from on-premises (group-list-owners.md): say what it is, not "not an owner".
 */
const notSynced: ContextCheck = ({ group, app }) =>
  group.onPremisesSyncEnabled === true
    ? refused(
        'groupBlocked',
        msg('invite:refused.groupBlocked', { why: describeBlocker('synced', group.displayName, app.displayName) }),
      )
    : null;

const actorOwnsGroup: ContextCheck = ({ group, actorIsOwner }) =>
  actorIsOwner ? null : refused('notOwner', msg('invite:refused.notOwner', { group: group.displayName }));

const groupAssignedToApp: ContextCheck = ({ group, app, groupAssignedToApp: assigned }) =>
  assigned
    ? null
    : refused('notAssigned', msg('invite:refused.notAssigned', { group: group.displayName, app: app.displayName }));

const groupCanTakeGuests: ContextCheck = ({ group, app }) => {
  const blockers = groupBlockers(group);
  if (blockers.length === 0) return null;
  return refused(
    'groupBlocked',
    msg('invite:refused.groupBlocked', { why: describeBlocker(blockers[0], group.displayName, app.displayName) }),
  );
};

const notOwnDomain: ContextCheck = ({ tenant }, email) => {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (!tenant || !isOwnDomain(domain, tenant.verifiedDomains)) return null;
  return refused('ownDomain', ownDomainMessage(email, domain, tenant.displayName));
};

/** A new guest needs members to be allowed to invite (authorizationPolicy.allowInvitesFrom). */
const invitesAllowed: ContextCheck = ({ existingUser, allowInvitesFrom: setting }) =>
  !existingUser && setting && setting in inviteSettingNames
    ? refused('invitesNotAllowed', invitesNotAllowedMessage(setting))
    : null;

/** The checks of the directory's answer, in the order an owner would want to hear about them. */
const contextChecks: readonly ContextCheck[] = [
  notSynced,
  actorOwnsGroup,
  groupAssignedToApp,
  groupCanTakeGuests,
  notOwnDomain,
  invitesAllowed,
];

/** The first refusal of the server-side checks, or null when the invitation may go ahead. */
export function checkContext(context: InviteContext, email: string): InviteRefused | null {
  const { group, app } = context;
  if (!group) return refused('groupNotFound', msg('invite:refused.groupNotFound'));
  if (!app) return refused('appNotFound', msg('invite:refused.appNotFound'));
  for (const check of contextChecks) {
    const refusal = check({ ...context, group, app }, email);
    if (refusal) return refusal;
  }
  return null;
}

/** What the admins hear of a refusal that a setup problem caused (a blocked group, invitations not allowed). */
export function refusalReport(actor: Actor, refusal: InviteRefused, context: InviteContext): BlockedReport | null {
  const app = context.app ? { id: context.app.id, displayName: context.app.displayName } : null;
  const group = context.group ? { id: context.group.id, displayName: context.group.displayName } : null;
  const doing = app ? msg('admin:doing.invitingTo', { app: app.displayName }) : msg('admin:doing.invitingAny');
  const { tenantId } = actor;
  if (refusal.reason === 'groupBlocked' && context.group)
    return { tenantId, actor, doing, kind: blockerProblem[groupBlockers(context.group)[0]], app, group };
  if (refusal.reason === 'invitesNotAllowed')
    return { tenantId, actor, doing, kind: 'invitesNotAllowed', app, group, detail: context.allowInvitesFrom ?? '' };
  return null;
}

export function ownDomainMessage(address: string, domain: string, tenantName: string): Msg {
  return tenantName
    ? msg('invite:ownDomain.named', { address, domain, tenant: tenantName })
    : msg('invite:ownDomain.unnamed', { address, domain });
}

function invitesNotAllowedMessage(setting: string): Msg {
  const who = inviteSettingNames[setting]
    ? msg(inviteSettingNames[setting])
    : msg('invite:inviteSetting.other', { setting });
  return msg('invite:refused.invitesNotAllowed', { who, setting });
}
