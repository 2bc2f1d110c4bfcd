/** Domain vocabulary shared by the use cases. */
import type { GroupInfo } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { AuditLog } from '../../store/store';
import { msg, type Msg } from './message';

/** The person acting, as the channel identified them (Microsoft Entra object id and tenant). */
export interface Actor {
  tenantId: string;
  userId: string;
  displayName: string;
}

export type GroupBlocker = 'dynamic' | 'synced' | 'mailEnabled' | 'roleAssignable';

/** Why Graph cannot add members to this group, if it cannot. */
export function groupBlockers(group: GroupInfo): GroupBlocker[] {
  const blockers: GroupBlocker[] = [];
  if (group.groupTypes.includes('DynamicMembership')) blockers.push('dynamic');
  if (group.onPremisesSyncEnabled === true) blockers.push('synced');
  if (group.mailEnabled && !group.groupTypes.includes('Unified')) blockers.push('mailEnabled');
  // Member writes to a role-assignable group also need RoleManagement.ReadWrite.Directory (learn group-post-members),
  // which would let the bot hand out any directory role: the bot does not ask for it.
  if (group.isAssignableToRole) blockers.push('roleAssignable');
  return blockers;
}

/** Why a group cannot take members, and what an admin can do about it (`common:blocker.<kind>`). */
export function describeBlocker(blocker: GroupBlocker, groupName: string, appName: string): Msg {
  return msg(`common:blocker.${blocker}`, { group: groupName, app: appName });
}

export interface AppChoice {
  id: string;
  displayName: string;
  groups: Array<{ id: string; displayName: string }>;
}

/** What the bot offered the actor in a dialog; checked again on every submit. */
export interface Offer {
  appId: string;
  groupIds: string[];
}

/** The setup problem (as admins are told about it) behind a group that cannot take members. */
export const blockerProblem: Record<
  GroupBlocker,
  'groupDynamic' | 'groupSynced' | 'groupMailEnabled' | 'groupRoleAssignable'
> = {
  dynamic: 'groupDynamic',
  synced: 'groupSynced',
  mailEnabled: 'groupMailEnabled',
  roleAssignable: 'groupRoleAssignable',
};

/** Somebody was stopped by a setup problem; admins are alerted about it. */
export interface BlockedReport {
  tenantId: string;
  actor: Actor;
  /** What they were doing, e.g. msg('admin:doing.requesting', { app }): kept with the alert, shown to admins. */
  doing: Msg;
  kind:
    | 'groupDynamic'
    | 'groupSynced'
    | 'groupMailEnabled'
    | 'groupRoleAssignable'
    | 'groupNoOwners'
    | 'invitesNotAllowed'
    | 'missingPermission'
    | 'appNoUsableGroup'
    | 'botCannotReach';
  app: { id: string; displayName: string } | null;
  group: { id: string; displayName: string } | null;
  detail?: string;
}

export type BlockedReporter = (report: BlockedReport) => Promise<void>;

/** Tells the reporter (admin alerts), if there is one; a failure to report never stops the user's action. */
export async function reportBlocked(
  reporter: BlockedReporter | undefined,
  logger: Logger,
  report: BlockedReport,
): Promise<void> {
  try {
    await reporter?.(report);
  } catch (err) {
    logger.error('alert.report.failed', { kind: report.kind, error: err });
  }
}

/** What a forged card submit named (ids cut to a sane length before they are kept). */
export interface ForgedChoice {
  appId?: string;
  groupId?: string;
  operationId?: string;
  activityId?: string;
  detail: string;
}

/** A card submit named something this actor was not offered or may not touch: keep a trace (audit and log). */
export async function recordForged(
  audit: AuditLog,
  logger: Logger,
  now: Date,
  action: 'invite.forged' | 'request.forged',
  actor: Actor,
  forged: ForgedChoice,
): Promise<void> {
  const ids = {
    appId: forged.appId?.slice(0, 100),
    groupId: forged.groupId?.slice(0, 100),
    operationId: forged.operationId?.slice(0, 100),
  };
  await audit.append({
    time: now.toISOString(),
    tenantId: actor.tenantId,
    actorId: actor.userId,
    actorName: actor.displayName,
    action,
    outcome: 'refused',
    ...ids,
    activityId: forged.activityId,
    detail: forged.detail.slice(0, 200),
  });
  logger.warn(action, { actorId: actor.userId, ...ids, detail: forged.detail.slice(0, 200) });
}
