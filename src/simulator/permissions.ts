/**
 * Application (app-only) permissions per endpoint, as Microsoft's Graph v1.0 documentation lists them. This is
 * the only place the simulator keeps them. Doc paths are relative to the microsoftgraph/microsoft-graph-docs-contrib
 * repository; `../shared/graph/permissions.md` has the notes behind each row.
 *
 * A requirement is one permission or an "all of" set (e.g. "User.Read.All and GroupMember.Read.All"). A request is
 * allowed when the grant satisfies the least privileged requirement or one of the higher privileged ones.
 */

/** One permission, or several that must all be granted. */
export type Requirement = string | readonly string[];

export interface PermissionRow {
  /** Method and path as the simulator routes it: `{id}` for a key, `microsoft.graph.x` for a cast. */
  endpoint: string;
  /** Least privileged requirement; null when the docs say "Application: Not supported." */
  least: Requirement | null;
  higher: readonly Requirement[];
  /** Doc page (include file or API page) the row is copied from. */
  doc: string;
}

const USER_READ = ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const OWNERS_READ = ['Group.ReadWrite.All', 'Directory.Read.All', 'Group.Read.All', 'GroupMember.ReadWrite.All'];
const ROLES_READ = ['RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const MEMBER_OF = ['Directory.ReadWrite.All'];
const TRANSITIVE_MEMBER_OF = [
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'Group.Read.All',
  'GroupMember.Read.All',
];
const CHECK_MEMBER_GROUPS_HIGHER: Requirement[] = [['User.Read.All', 'Group.Read.All'], 'Directory.Read.All'];
const TAI_SELF = 'TeamsAppInstallation.ReadWriteSelfForUser.All';
const TAI_CONSENT = 'TeamsAppInstallation.ReadWriteAndConsentForUser.All';
const TAI_CONSENT_SELF = 'TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All';
const TAI_ALL = 'TeamsAppInstallation.ReadWriteForUser.All';
const TAI_SELECTED = 'TeamsAppInstallation.ReadWriteSelectedForUser.All';
const SP_READ = ['Application.ReadWrite.OwnedBy', 'Application.ReadWrite.All', 'Directory.Read.All'];

const row = (
  endpoint: string,
  least: Requirement | null,
  higher: readonly Requirement[],
  doc: string,
): PermissionRow => ({
  endpoint,
  least,
  higher,
  doc,
});

export const PERMISSION_TABLE: readonly PermissionRow[] = [
  row(
    'POST /invitations',
    'User.Invite.All',
    ['Directory.ReadWrite.All', 'User.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/invitation-post-permissions.md',
  ),
  row('GET /users', 'User.Read.All', USER_READ, 'api-reference/v1.0/api/user-list.md'),
  row('GET /users/{id}', 'User.Read.All', USER_READ, 'api-reference/v1.0/api/user-get.md'),
  row(
    'GET /users/{id}/ownedObjects',
    null,
    [],
    'api-reference/v1.0/includes/permissions/user-list-ownedobjects-permissions.md',
  ),
  row(
    'GET /users/{id}/ownedObjects/microsoft.graph.group',
    null,
    [],
    'api-reference/v1.0/includes/permissions/user-list-ownedobjects-permissions.md',
  ),
  row(
    'GET /users/{id}/appRoleAssignments',
    'Directory.Read.All',
    ['AppRoleAssignment.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/user-list-approleassignments-permissions.md',
  ),
  row('GET /users/{id}/memberOf', 'Directory.Read.All', MEMBER_OF, 'api-reference/v1.0/api/user-list-memberof.md'),
  row(
    'GET /users/{id}/memberOf/microsoft.graph.group',
    'Directory.Read.All',
    MEMBER_OF,
    'api-reference/v1.0/api/user-list-memberof.md',
  ),
  row(
    'GET /users/{id}/memberOf/microsoft.graph.directoryRole',
    'Directory.Read.All',
    MEMBER_OF,
    'api-reference/v1.0/api/user-list-memberof.md',
  ),
  row(
    'GET /users/{id}/sponsors',
    'User.Read.All',
    ['User.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/user-list-sponsors-permissions.md',
  ),
  row(
    'POST /users/{id}/sponsors/$ref',
    'User.ReadWrite.All',
    [],
    'api-reference/v1.0/includes/permissions/user-post-sponsors-permissions.md',
  ),
  row(
    'DELETE /users/{id}/sponsors/{id}/$ref',
    'User.ReadWrite.All',
    [],
    'api-reference/v1.0/api/user-delete-sponsors.md',
  ),
  row(
    'GET /users/{id}/transitiveMemberOf',
    'User.Read.All',
    TRANSITIVE_MEMBER_OF,
    'api-reference/v1.0/includes/permissions/user-list-transitivememberof-permissions.md',
  ),
  row(
    'GET /users/{id}/transitiveMemberOf/microsoft.graph.group',
    'User.Read.All',
    TRANSITIVE_MEMBER_OF,
    'api-reference/v1.0/includes/permissions/user-list-transitivememberof-permissions.md',
  ),
  row(
    'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole',
    'User.Read.All',
    TRANSITIVE_MEMBER_OF,
    'api-reference/v1.0/includes/permissions/user-list-transitivememberof-permissions.md',
  ),
  row(
    'POST /users/{id}/checkMemberGroups',
    ['User.Read.All', 'GroupMember.Read.All'],
    CHECK_MEMBER_GROUPS_HIGHER,
    'api-reference/v1.0/api/directoryobject-checkmembergroups.md',
  ),
  row(
    'POST /directoryObjects/{id}/checkMemberGroups',
    ['User.Read.All', 'GroupMember.Read.All'],
    CHECK_MEMBER_GROUPS_HIGHER,
    'api-reference/v1.0/api/directoryobject-checkmembergroups.md',
  ),
  row(
    'GET /groups/{id}',
    'GroupMember.Read.All',
    ['Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Group.Read.All'],
    'api-reference/v1.0/includes/permissions/group-get-permissions.md',
  ),
  // members@odata.bind: the Add-members page allows GroupMember.ReadWrite.All; the Update-group page lists the rest
  // (permissions.md note 11: which one the service checks is not settled, so either page's list is accepted).
  row(
    'PATCH /groups/{id}',
    'GroupMember.ReadWrite.All',
    [
      'Group-NestingSupport.ReadWrite.All',
      'Directory.ReadWrite.All',
      'Group-PreferredDataLocation.ReadWrite.All',
      'Group.ManageProtection.All',
      'Group.ReadWrite.All',
    ],
    'api-reference/v1.0/api/group-post-members.md; api-reference/v1.0/includes/permissions/group-update-permissions.md',
  ),
  row(
    'GET /groups/{id}/appRoleAssignments',
    'Directory.Read.All',
    ['AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/group-list-approleassignments-permissions.md',
  ),
  row(
    'GET /groups/{id}/members',
    'GroupMember.Read.All',
    ['Directory.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/group-list-members-permissions.md',
  ),
  // Note 10: the page gives only the least permission per member type; the higher ones follow the delete table.
  row(
    'POST /groups/{id}/members/$ref',
    'GroupMember.ReadWrite.All',
    ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
    'api-reference/v1.0/api/group-post-members.md',
  ),
  row(
    'DELETE /groups/{id}/members/{id}/$ref',
    'GroupMember.ReadWrite.All',
    ['Directory.ReadWrite.All', 'Group.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/group-delete-members-permissions.md',
  ),
  row(
    'GET /groups/{id}/owners',
    'GroupMember.Read.All',
    OWNERS_READ,
    'api-reference/v1.0/includes/permissions/group-list-owners-permissions.md',
  ),
  row(
    'GET /groups/{id}/owners/$ref',
    'GroupMember.Read.All',
    OWNERS_READ,
    'api-reference/v1.0/includes/permissions/group-list-owners-permissions.md',
  ),
  row(
    'GET /groups/{id}/owners/{id}/microsoft.graph.user',
    'GroupMember.Read.All',
    OWNERS_READ,
    'api-reference/v1.0/includes/permissions/group-list-owners-permissions.md',
  ),
  row(
    'POST /groups/{id}/owners/$ref',
    'Group.ReadWrite.All',
    ['Directory.ReadWrite.All'],
    'api-reference/v1.0/api/group-post-owners.md',
  ),
  row(
    'DELETE /groups/{id}/owners/{id}/$ref',
    'Group.ReadWrite.All',
    ['Directory.ReadWrite.All'],
    'api-reference/v1.0/api/group-delete-owners.md',
  ),
  row(
    'GET /servicePrincipals',
    'Application.Read.All',
    SP_READ,
    'api-reference/v1.0/includes/permissions/serviceprincipal-list-permissions.md',
  ),
  row(
    'GET /servicePrincipals/{id}',
    'Application.Read.All',
    SP_READ,
    'api-reference/v1.0/includes/permissions/serviceprincipal-get-permissions.md',
  ),
  row(
    'GET /servicePrincipals/{id}/appRoleAssignedTo',
    'Application.Read.All',
    ['Application.ReadWrite.OwnedBy', 'Directory.Read.All', 'Application.ReadWrite.All', 'Directory.ReadWrite.All'],
    'api-reference/v1.0/includes/permissions/serviceprincipal-list-approleassignedto-permissions.md',
  ),
  row(
    'POST /servicePrincipals/{id}/appRoleAssignedTo',
    ['AppRoleAssignment.ReadWrite.All', 'Application.Read.All'],
    [['AppRoleAssignment.ReadWrite.All', 'Directory.Read.All']],
    'api-reference/v1.0/api/serviceprincipal-post-approleassignedto.md',
  ),
  row(
    'GET /directoryRoles',
    'RoleManagement.Read.Directory',
    ROLES_READ,
    'api-reference/v1.0/includes/permissions/directoryrole-list-permissions.md',
  ),
  row(
    'GET /directoryRoles/{id}/members',
    'RoleManagement.Read.Directory',
    ROLES_READ,
    'api-reference/v1.0/api/directoryrole-list-members.md',
  ),
  row(
    'GET /roleManagement/directory/roleAssignments',
    'RoleManagement.Read.Directory',
    ['RoleManagement.Read.All', 'Directory.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.ReadWrite.All'],
    'api-reference/v1.0/api/rbacapplication-list-roleassignments.md',
  ),
  row(
    'GET /organization',
    'Organization.Read.All',
    ['Directory.Read.All', 'Organization.ReadWrite.All', 'Directory.ReadWrite.All'],
    'api-reference/v1.0/api/organization-list.md',
  ),
  // ../shared/graph/permissions.md rows 27-29. With only the "Self" permissions the app sees and installs only the
  // Teams app whose manifest webApplicationInfo.id is the caller (teamsApps.ts).
  row(
    'GET /users/{id}/teamwork/installedApps',
    'TeamsAppInstallation.ReadForUser.All',
    [TAI_SELF, TAI_CONSENT, TAI_CONSENT_SELF, TAI_ALL, TAI_SELECTED],
    'api-reference/v1.0/includes/permissions/userteamwork-list-installedapps-permissions.md',
  ),
  row(
    'POST /users/{id}/teamwork/installedApps',
    TAI_SELF,
    [TAI_CONSENT, TAI_CONSENT_SELF, TAI_ALL, TAI_SELECTED],
    'api-reference/v1.0/includes/permissions/userteamwork-post-installedapps-permissions.md',
  ),
  row(
    'GET /users/{id}/teamwork/installedApps/{id}/chat',
    'TeamsAppInstallation.ReadForUser.All',
    [TAI_ALL, TAI_SELECTED, TAI_SELF],
    'api-reference/v1.0/includes/permissions/userscopeteamsappinstallation-get-chat-permissions.md',
  ),
  row(
    'GET /policies/authorizationPolicy',
    'Policy.Read.All',
    ['Policy.ReadWrite.Authorization'],
    'api-reference/v1.0/api/authorizationpolicy-get.md',
  ),
];

/**
 * Member writes (add, remove, bind) on a role-assignable group (`isAssignableToRole: true`) also need this
 * permission: "the app must also be assigned the RoleManagement.ReadWrite.Directory permission"
 * (api-reference/v1.0/api/group-post-members.md; for removals docs-contrib issue 2476; permissions.md note 10).
 */
export const ROLE_ASSIGNABLE_GROUP_WRITE = 'RoleManagement.ReadWrite.Directory';

/** The permission sets that allow a row's endpoint; empty when no application permission does. */
export function allowedSets(r: PermissionRow): string[][] {
  if (r.least === null) return [];
  return [r.least, ...r.higher].map((req) => (typeof req === 'string' ? [req] : [...req]));
}

const byEndpoint = new Map(PERMISSION_TABLE.map((r) => [r.endpoint.toLowerCase(), r]));

export function permissionRow(endpoint: string): PermissionRow | undefined {
  return byEndpoint.get(endpoint.toLowerCase());
}

/** The application permissions granted to the app; `undefined` grants everything (no model). */
export class Grant {
  private readonly granted: Set<string> | undefined;

  constructor(permissions: readonly string[] | undefined | null) {
    this.granted = permissions ? new Set(permissions.map((p) => p.toLowerCase())) : undefined;
  }

  /** True when permissions are modelled at all. */
  get modelled(): boolean {
    return this.granted !== undefined;
  }

  has(permission: string): boolean {
    return this.granted === undefined || this.granted.has(permission.toLowerCase());
  }

  allows(r: PermissionRow): boolean {
    if (this.granted === undefined) return true;
    return allowedSets(r).some((set) => set.every((p) => this.has(p)));
  }
}
