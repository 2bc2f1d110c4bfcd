/**
 * The Microsoft Graph application permissions the bot needs: the fewest that work, each with what it is for and the
 * doc page (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/...) that requires it. README.md and
 * docs/permissions.md list the same set; the simulator's demo tenant grants exactly this set.
 */
export interface RequiredPermission {
  name: string;
  purpose: string;
  docs: string[];
}

export const REQUIRED_PERMISSIONS: readonly RequiredPermission[] = [
  {
    name: 'User.Invite.All',
    purpose: 'send the invitation (POST /invitations)',
    docs: ['includes/permissions/invitation-post-permissions.md'],
  },
  {
    name: 'User.Read.All',
    purpose:
      'find an existing user by address (GET /users?$filter=mail eq …), and with GroupMember.Read.All check membership (POST /users/{id}/checkMemberGroups)',
    docs: ['api/user-list.md', 'api/directoryobject-checkmembergroups.md'],
  },
  {
    name: 'GroupMember.Read.All',
    purpose:
      'read a group, its owners (who may invite or approve) and its members (GET /groups/{id}, /owners, /members)',
    docs: [
      'includes/permissions/group-get-permissions.md',
      'includes/permissions/group-list-owners-permissions.md',
      'includes/permissions/group-list-members-permissions.md',
    ],
  },
  {
    name: 'GroupMember.ReadWrite.All',
    purpose: 'add a guest or requester to the group (POST /groups/{id}/members/$ref)',
    docs: ['api/group-post-members.md'],
  },
  {
    name: 'Application.Read.All',
    purpose: 'list the enterprise apps and the groups assigned to them (GET /servicePrincipals, …/appRoleAssignedTo)',
    docs: [
      'includes/permissions/serviceprincipal-list-permissions.md',
      'includes/permissions/serviceprincipal-list-approleassignedto-permissions.md',
    ],
  },
  {
    name: 'Policy.Read.All',
    purpose: "read the tenant's guest invite setting (GET /policies/authorizationPolicy)",
    docs: ['api/authorizationpolicy-get.md'],
  },
  {
    name: 'Organization.Read.All',
    purpose: "read the tenant's name and verified domains (GET /organization)",
    docs: ['api/organization-list.md'],
  },
  {
    name: 'RoleManagement.Read.Directory',
    purpose: "recognise admins (GET /directoryRoles(roleTemplateId='…')/members)",
    docs: ['api/directoryrole-list-members.md'],
  },
  {
    name: 'TeamsAppInstallation.ReadWriteSelfForUser.All',
    purpose:
      'reach people who never opened the bot: install this app (only this one) for them and find the 1:1 chat (GET/POST /users/{id}/teamwork/installedApps, GET …/installedApps/{id}/chat); the catalog id comes from an existing installation or TEAMS_APP_CATALOG_ID, so AppCatalog.Read.All is not needed',
    docs: [
      'includes/permissions/userteamwork-list-installedapps-permissions.md',
      'includes/permissions/userteamwork-post-installedapps-permissions.md',
      'includes/permissions/userscopeteamsappinstallation-get-chat-permissions.md',
    ],
  },
];

export const REQUIRED_PERMISSION_NAMES: readonly string[] = REQUIRED_PERMISSIONS.map((p) => p.name);

/** The least permission each kind of call needs (the first of its documented list), named in 403 errors. */
export const NEEDS = {
  invite: 'User.Invite.All',
  users: 'User.Read.All',
  checkMembers: 'User.Read.All and GroupMember.Read.All',
  groups: 'GroupMember.Read.All',
  memberWrite: 'GroupMember.ReadWrite.All',
  apps: 'Application.Read.All',
  policy: 'Policy.Read.All',
  organization: 'Organization.Read.All',
  roles: 'RoleManagement.Read.Directory',
  /** Install the bot for a person and find their chat with it (the "Self" permission: this app only). */
  teamsAppInstall: 'TeamsAppInstallation.ReadWriteSelfForUser.All',
  /** Optional: without it the bot keeps sponsors in its own records (user-post-sponsors-permissions.md). */
  sponsorWrite: 'User.ReadWrite.All',
} as const;
