/**
 * Use case: find what an admin must set up before app owners can share apps themselves, and say how to fix it.
 * Prerequisites: a security group with assigned membership, assigned to the enterprise app, with the app owner
 * as a group owner; not dynamic, not synced from on-premises AD, not mail-enabled; and the tenant's external
 * collaboration settings must let the bot invite guests.
 */
import { DirectoryError, type CatalogApp, type Directory, type GroupInfo } from '../../graph/directory';
import { NEEDS, REQUIRED_PERMISSION_NAMES } from '../../graph/permissions';
import { msg, type Msg } from '../shared/message';
import { blockerProblem, groupBlockers } from '../shared/model';

export type ProblemKind =
  | 'invitesNotAllowed'
  | 'missingPermission'
  | 'groupDynamic'
  | 'groupSynced'
  | 'groupMailEnabled'
  | 'groupRoleAssignable'
  | 'groupNotSecurity'
  | 'groupNoOwners'
  | 'appNoUsableGroup'
  /**
   * The bot cannot reach people who never opened it (detail: permissionMissing, appNotInCatalog or blockedByPolicy).
   */
  | 'botCannotReach';

export interface SetupProblem {
  /** Stable identity for de-duplication, e.g. "groupDynamic:<groupId>". */
  key: string;
  kind: ProblemKind;
  appId: string | null;
  appName: string | null;
  groupId: string | null;
  groupName: string | null;
  summary: string;
  fix: string[];
}

export interface GroupHealth {
  id: string;
  displayName: string;
  securityEnabled: boolean;
  membership: 'assigned' | 'dynamic';
  synced: boolean;
  /** Role-assignable: its members can only be changed with RoleManagement.ReadWrite.Directory. */
  roleAssignable: boolean;
  mailEnabled: boolean;
  /** All owners Graph lists (none for synced and Exchange groups: group-list-owners.md). */
  ownerCount: number;
  problems: ProblemKind[];
}

export interface AppHealth {
  id: string;
  displayName: string;
  groups: GroupHealth[];
  problems: SetupProblem[];
}

export interface SetupReport {
  generatedAt: string;
  tenant: { allowInvitesFrom: string | null; invitesAllowed: boolean | null; problems: SetupProblem[] };
  /** Where guests' sponsors are kept, and what to grant to have them in Entra. */
  sponsors: Msg;
  /** Whether the bot can install itself for people who never opened it (reach:report.*). */
  teamsInstall: Msg;
  /** Apps with problems first, then healthy ones, each by name. */
  apps: AppHealth[];
  counts: { apps: number; healthyApps: number; appsWithProblems: number; problems: number };
  problems: SetupProblem[];
}

const CREATE_GROUP = (app: string): string[] => [
  'In the Microsoft Entra admin center, open Groups › New group: type Security, membership type Assigned (not dynamic), not mail-enabled, created in the cloud (not synchronized from on-premises AD).',
  `Assign it to ${app}: Enterprise applications › ${app} › Users and groups › Add user/group.`,
  'Add the app owner as an owner of the new group (Groups › the group › Owners › Add owners).',
  `Point ${app}'s self-service access at that group (Enterprise applications › ${app} › Self-service).`,
];

const INVITE_SETTING_FIX = [
  'In the Microsoft Entra admin center, open External Identities › External collaboration settings › Guest invite settings.',
  'Choose “Member users and users assigned to specific admin roles can invite guest users including guests with member permissions” (or a more open setting), then Save.',
  'Check that the domains of the guests are not blocked under Collaboration restrictions on the same page.',
];

/** English texts kept with the alert (admins read the catalog's reach:problem.* and reach:fix.*). */
const BOT_CANNOT_REACH: Record<string, string> = {
  permissionMissing:
    'The bot cannot reach people who never opened it: it may not install itself for them (TeamsAppInstallation.ReadWriteSelfForUser.All is missing, or webApplicationInfo.id is not the app that calls Graph).',
  appNotInCatalog:
    "The bot cannot reach people who never opened it: the app is not in the organization's catalog, or its catalog id is unknown.",
  blockedByPolicy:
    'The bot cannot reach some people who never opened it: a Teams app permission policy blocks the app for them.',
};
const SETUP_POLICY =
  'Or install the app for the owners and admins with a Teams app setup policy (Teams admin center › Teams apps › Setup policies › Installed apps).';
const BOT_CANNOT_REACH_FIX: Record<string, string[]> = {
  permissionMissing: [
    'Grant the identity that calls Microsoft Graph the application permission TeamsAppInstallation.ReadWriteSelfForUser.All (admin consent).',
    "Check that the manifest's webApplicationInfo.id is that identity's client id.",
    SETUP_POLICY,
  ],
  appNotInCatalog: [
    "Upload the app to the organization's app catalog (Teams admin center › Teams apps › Manage apps) and allow it.",
    "Or set TEAMS_APP_CATALOG_ID to the app's catalog id.",
    SETUP_POLICY,
  ],
  blockedByPolicy: [
    'Allow the app for the owners and admins in Teams admin center › Teams apps › Permission policies.',
    SETUP_POLICY,
  ],
};

/** What the setup check learns about the bot installing itself for people: able, not (why), or not known yet (null). */
export type InstallProbe = (tenantId: string) => Promise<{ ok: true } | { ok: false; reason: string } | null>;

type Named = { id: string; displayName: string } | null;

/** What a problem's text is made of: the app and group it is about (or null) and the check's detail. */
interface ProblemContext {
  app: Named;
  group: Named;
  appName: string;
  groupName: string;
  detail: string;
}

type ProblemText = Pick<SetupProblem, 'key' | 'summary' | 'fix'>;

/** What a group is that keeps guests out of it (after "<group> (assigned to <app>)"); the fix is a new group. */
type UnusableGroupKind =
  'groupDynamic' | 'groupSynced' | 'groupMailEnabled' | 'groupRoleAssignable' | 'groupNotSecurity';

const GROUP_UNUSABLE: Record<UnusableGroupKind, string> = {
  groupDynamic: 'has dynamic membership: a rule decides its members, so guests cannot be added to it.',
  groupSynced:
    'is synchronized from on-premises Active Directory: its members can only be changed there, not by Microsoft Graph.',
  groupMailEnabled: 'is mail-enabled: its members are managed in Exchange and cannot be changed by Microsoft Graph.',
  groupRoleAssignable:
    'is role-assignable: changing its members needs RoleManagement.ReadWrite.Directory, which the bot does not hold by design.',
  groupNotSecurity: 'is not a security group.',
};

const unusableGroup =
  (kind: UnusableGroupKind) =>
  ({ group, groupName, appName }: ProblemContext): ProblemText => ({
    key: `${kind}:${group?.id}`,
    summary: `${groupName} (assigned to ${appName}) ${GROUP_UNUSABLE[kind]}`,
    fix: CREATE_GROUP(appName),
  });

/** Each check's problem: its key (for de-duplication), an English summary and the steps that fix it. */
const PROBLEMS: Record<ProblemKind, (c: ProblemContext) => ProblemText> = {
  invitesNotAllowed: ({ detail }) => ({
    key: 'invitesNotAllowed:tenant',
    summary: `The tenant's guest invite setting (allowInvitesFrom = ${detail || 'restricted'}) does not let the bot invite guests, so app owners cannot invite anyone.`,
    fix: INVITE_SETTING_FIX,
  }),
  missingPermission: ({ detail }) => ({
    key: `missingPermission:${detail || 'graph'}`,
    summary: `Microsoft Graph refused the bot a call because the app lacks the application permission ${detail || 'it needs'}.`,
    fix: [
      `In the Microsoft Entra admin center open App registrations › the bot's app › API permissions › Add a permission › Microsoft Graph › Application permissions, and add ${detail || 'the missing permission'}.`,
      'Select “Grant admin consent for <your organization>” on the same page (a Privileged Role Administrator or Global Administrator can).',
      `The bot needs exactly these application permissions: ${REQUIRED_PERMISSION_NAMES.join(', ')}.`,
    ],
  }),
  groupDynamic: unusableGroup('groupDynamic'),
  groupSynced: unusableGroup('groupSynced'),
  groupMailEnabled: unusableGroup('groupMailEnabled'),
  groupRoleAssignable: unusableGroup('groupRoleAssignable'),
  groupNotSecurity: unusableGroup('groupNotSecurity'),
  groupNoOwners: ({ group, groupName, appName }) => ({
    key: `groupNoOwners:${group?.id}`,
    summary: `${groupName} (assigned to ${appName}) has no owners: nobody can invite guests to it or approve requests.`,
    fix: [`Add the app owner as an owner of ${groupName} (Groups › ${groupName} › Owners › Add owners).`],
  }),
  appNoUsableGroup: ({ app, appName }) => ({
    key: `appNoUsableGroup:${app?.id}`,
    summary: `${appName} has no group that its owners can use to share it with guests.`,
    fix: CREATE_GROUP(appName),
  }),
  botCannotReach: ({ detail }) => ({
    key: `botCannotReach:${detail || 'permissionMissing'}`,
    summary: BOT_CANNOT_REACH[detail] ?? BOT_CANNOT_REACH.permissionMissing,
    fix: BOT_CANNOT_REACH_FIX[detail] ?? BOT_CANNOT_REACH_FIX.permissionMissing,
  }),
};

export function problemFor(kind: ProblemKind, app: Named, group: Named, detail = ''): SetupProblem {
  const base = {
    kind,
    appId: app?.id ?? null,
    appName: app?.displayName ?? null,
    groupId: group?.id ?? null,
    groupName: group?.displayName ?? null,
  };
  const appName = app?.displayName ?? 'the app';
  const groupName = group?.displayName ?? 'the group';
  return { ...base, ...PROBLEMS[kind]({ app, group, appName, groupName, detail }) };
}

export function groupProblemKinds(group: GroupInfo, ownerCount: number): ProblemKind[] {
  const blockers = groupBlockers(group);
  const kinds: ProblemKind[] = blockers.map((b) => blockerProblem[b]);
  if (!group.securityEnabled && !group.groupTypes.includes('Unified')) kinds.push('groupNotSecurity');
  // Owners of synced (and Exchange) groups are not listed by Graph at all (group-list-owners.md): the blocker says it.
  if (ownerCount === 0 && !blockers.includes('synced') && !blockers.includes('mailEnabled'))
    kinds.push('groupNoOwners');
  return kinds;
}

const byName = (a: { displayName: string }, b: { displayName: string }): number =>
  a.displayName.localeCompare(b.displayName);

export class SetupCheckService {
  constructor(
    private readonly directory: Directory,
    private readonly clock: () => Date = () => new Date(),
    /** GUEST_SPONSORS_IN_ENTRA */
    private readonly sponsorsInEntra = false,
    /** Whether the bot can install itself for people in a tenant (Teams side); none: not checked. */
    private readonly installProbe?: InstallProbe,
  ) {}

  /** Whether the bot can install itself in the tenant: a report line, and a problem when it cannot. */
  private async probeInstall(tenantId: string | undefined): Promise<{ line: Msg; problem: SetupProblem | null }> {
    const probe = tenantId && this.installProbe ? await this.installProbe(tenantId) : null;
    if (!probe) return { line: msg('reach:report.unknown'), problem: null };
    if (probe.ok) return { line: msg('reach:report.ok'), problem: null };
    const fixable = ['permissionMissing', 'appNotInCatalog', 'blockedByPolicy'].includes(probe.reason);
    return {
      line: msg('reach:report.cannot', { why: msg(`reach:why.${probe.reason}`) }),
      problem: fixable ? problemFor('botCannotReach', null, null, probe.reason) : null,
    };
  }

  /** `tenantId`: the tenant whose Teams side is checked too (whether the bot can install itself there). */
  async scan(tenantId?: string): Promise<SetupReport> {
    const invites = await this.readInviteSetting();
    const catalog = await this.readCatalog();
    const apps = catalog.apps.map(appHealth);
    const install = await this.probeInstall(tenantId);
    const tenantProblems = [...invites.problems, ...catalog.problems, ...(install.problem ? [install.problem] : [])];
    const withProblems = apps.filter((a) => a.problems.length > 0).sort(byName);
    const healthy = apps.filter((a) => a.problems.length === 0).sort(byName);
    const problems = [...tenantProblems, ...withProblems.flatMap((a) => a.problems)];
    return {
      generatedAt: this.clock().toISOString(),
      tenant: {
        allowInvitesFrom: invites.allowInvitesFrom,
        invitesAllowed: invites.invitesAllowed,
        problems: tenantProblems,
      },
      sponsors: msg(this.sponsorsInEntra ? 'guests:sponsors.inEntra' : 'guests:sponsors.inBotOnly', {
        permission: NEEDS.sponsorWrite,
      }),
      teamsInstall: install.line,
      apps: [...withProblems, ...healthy],
      counts: {
        apps: apps.length,
        healthyApps: healthy.length,
        appsWithProblems: withProblems.length,
        problems: problems.length,
      },
      problems,
    };
  }

  /** The tenant's guest invite setting: whether the bot may invite (null: not known), or the permission missing. */
  private async readInviteSetting(): Promise<{
    allowInvitesFrom: string | null;
    invitesAllowed: boolean | null;
    problems: SetupProblem[];
  }> {
    try {
      const allowInvitesFrom = await this.directory.getAllowInvitesFrom();
      const invitesAllowed =
        allowInvitesFrom === null ? null : !['none', 'adminsAndGuestInviters'].includes(allowInvitesFrom);
      const problems =
        invitesAllowed === false ? [problemFor('invitesNotAllowed', null, null, allowInvitesFrom ?? '')] : [];
      return { allowInvitesFrom, invitesAllowed, problems };
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const problems = [problemFor('missingPermission', null, null, err.permission ?? 'Policy.Read.All')];
      return { allowInvitesFrom: null, invitesAllowed: null, problems };
    }
  }

  /** The apps and their groups; none, with the permission missing, when Graph refuses. */
  private async readCatalog(): Promise<{ apps: CatalogApp[]; problems: SetupProblem[] }> {
    try {
      return { apps: await this.directory.listCatalog(), problems: [] };
    } catch (err) {
      if (!isRefusal(err)) throw err;
      return {
        apps: [],
        problems: [problemFor('missingPermission', null, null, err.permission ?? 'Application.Read.All')],
      };
    }
  }
}

/** Graph refused the bot the call (a permission it lacks). */
function isRefusal(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError && (err.kind === 'forbidden' || err.kind === 'unauthorized');
}

/** One app's groups and what keeps each from taking guests; the app's problems, "no usable group" first. */
function appHealth(app: CatalogApp): AppHealth {
  const problems: SetupProblem[] = [];
  const groups: GroupHealth[] = app.groups.map(({ group, ownerCount }) => {
    const kinds = groupProblemKinds(group, ownerCount);
    for (const kind of kinds) problems.push(problemFor(kind, app, group));
    return {
      id: group.id,
      displayName: group.displayName,
      securityEnabled: group.securityEnabled,
      membership: group.groupTypes.includes('DynamicMembership') ? 'dynamic' : 'assigned',
      synced: group.onPremisesSyncEnabled === true,
      roleAssignable: group.isAssignableToRole,
      mailEnabled: group.mailEnabled,
      ownerCount,
      problems: kinds,
    };
  });
  if (groups.every((g) => g.problems.length > 0)) problems.unshift(problemFor('appNoUsableGroup', app, null));
  return { id: app.id, displayName: app.displayName, groups: groups.sort(byName), problems };
}
