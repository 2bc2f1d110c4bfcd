/**
 * The Graph calls about apps and the tenant: the self-service catalog (service principals → assigned groups →
 * owners), the admin role holders, the tenant and its guest invite setting, and the one `$batch` an invitation
 * reads. Each cites its doc page in microsoftgraph/microsoft-graph-docs-contrib (api-reference/v1.0/api/...).
 */
import type { CatalogApp, CatalogGroup, InviteContext, TenantInfo } from './directory';
import { needing } from './errors';
import { asRecord, ok, okOrNull, str, values, type GraphHttp, type GraphResponse } from './graphHttp';
import {
  APP_SELECT,
  GROUP_SELECT,
  USER_SELECT,
  assignedGroupIds,
  byAddress,
  firstUser,
  ids,
  isUser,
  odataString,
  ownersStep,
  q,
  toApp,
  toGroup,
  toTenant,
} from './graphValues';
import { NEEDS } from './permissions';

/** `$expand` of a directory-object relation returns at most 20 (concepts/query-parameters.md). */
const EXPAND_LIMIT = 20;
const POLICY_URL = '/policies/authorizationPolicy?$select=id,allowInvitesFrom';
const ORGANIZATION_URL = '/organization?$select=id,displayName,verifiedDomains';
const assignmentsUrl = (appId: string): string =>
  `/servicePrincipals/${q(appId)}/appRoleAssignedTo?$select=principalId,principalType&$top=999`;

/**
 * The self-service catalog, walked from the apps (ownedObjects is not supported app-only:
 * includes/permissions/user-list-ownedobjects-permissions.md): integrated service principals →
 * appRoleAssignedTo (groups) → each group with `$expand=owners` (at most 20; a group showing 20 has its owners
 * read in full). Groups synced from on-premises list no owners (group-list-owners.md).
 */
export async function listCatalog(http: GraphHttp): Promise<CatalogApp[]> {
  const principals = await needing(NEEDS.apps, () =>
    http.getAll(
      `/servicePrincipals?$filter=${q("tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')")}&$select=id,displayName&$top=999`,
    ),
  );
  const apps = principals.map((raw) => ({
    id: String(asRecord(raw).id),
    displayName: str(asRecord(raw).displayName) ?? '',
  }));
  if (apps.length === 0) return [];
  const assigned = await http.batch(
    apps.map((app, i) => ({ id: `a${i}`, method: 'GET' as const, url: assignmentsUrl(app.id) })),
  );
  const groupIdsByApp = apps.map((_, i) => assignedGroupIds(ok(assigned.responses, `a${i}`, NEEDS.apps)));
  const groups = await catalogGroups(http, [...new Set(groupIdsByApp.flat())]);
  return apps
    .map((app, i) => ({
      ...app,
      groups: groupIdsByApp[i].map((id) => groups.get(id)).filter((g): g is CatalogGroup => g !== undefined),
    }))
    .filter((app) => app.groups.length > 0);
}

/** Each group with its owners: `$expand=owners` first, then a full read of those showing the expand limit. */
async function catalogGroups(http: GraphHttp, groupIds: string[]): Promise<Map<string, CatalogGroup>> {
  const details = await http.batch(
    groupIds.map((id, i) => ({
      id: `g${i}`,
      method: 'GET' as const,
      url: `/groups/${q(id)}?$select=${GROUP_SELECT}&$expand=owners($select=id)`,
    })),
  );
  const groups = new Map<string, CatalogGroup>();
  const full: string[] = [];
  groupIds.forEach((id, i) => {
    const body = okOrNull(details.responses, `g${i}`, NEEDS.groups);
    if (body === null) return;
    const owners = Array.isArray(asRecord(body).owners) ? ids(asRecord(body).owners as unknown[]) : [];
    if (owners.length >= EXPAND_LIMIT) full.push(id);
    groups.set(id, { group: toGroup(body), ownerIds: owners, ownerCount: owners.length });
  });
  if (full.length > 0) {
    const { responses } = await http.batch(full.map((id, i) => ownersStep(`o${i}`, id)));
    full.forEach((id, i) => {
      const ownerIds = ids(values(ok(responses, `o${i}`, NEEDS.groups)));
      groups.set(id, { ...groups.get(id)!, ownerIds, ownerCount: ownerIds.length });
    });
  }
  return groups;
}

/** authorizationPolicy.allowInvitesFrom (authorizationpolicy-get.md). */
export async function getAllowInvitesFrom(http: GraphHttp): Promise<string | null> {
  const response = await needing(NEEDS.policy, () => http.get(POLICY_URL));
  return str(asRecord(response.body).allowInvitesFrom);
}

/** The tenant's id, name and verified domains (organization-list.md). */
export async function getTenantInfo(http: GraphHttp): Promise<TenantInfo> {
  const response = await needing(NEEDS.organization, () => http.get(ORGANIZATION_URL));
  return toTenant(values(response.body)[0]);
}

/**
 * Holders of the admin roles: `/directoryRoles(roleTemplateId='…')/members` (directoryrole-list-members.md;
 * a role that was never activated answers 404 and has no holders). A role held through a role-assignable group
 * lists the group; its members hold the role (role-assignable groups cannot contain groups).
 */
export async function listRoleMembers(http: GraphHttp, roleTemplateIds: readonly string[]): Promise<Set<string>> {
  const roles = await http.batch(
    roleTemplateIds.map((id, i) => ({
      id: `r${i}`,
      method: 'GET' as const,
      url: `/directoryRoles(roleTemplateId=${q(odataString(id))})/members?$select=id`,
    })),
  );
  const users = new Set<string>();
  const groups = new Set<string>();
  roleTemplateIds.forEach((_, i) => {
    for (const raw of values(okOrNull(roles.responses, `r${i}`, NEEDS.roles))) {
      const member = asRecord(raw);
      if (typeof member.id !== 'string') continue;
      if (member['@odata.type'] === '#microsoft.graph.group') groups.add(member.id);
      else if (isUser(member)) users.add(member.id);
    }
  });
  for (const id of await roleGroupMembers(http, [...groups])) users.add(id);
  return users;
}

/** The members (not groups) of the role-assignable groups that hold a role. */
async function roleGroupMembers(http: GraphHttp, groupIds: string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const { responses } = await http.batch(
    groupIds.map((id, i) => ({
      id: `m${i}`,
      method: 'GET' as const,
      url: `/groups/${q(id)}/members?$select=id&$top=999`,
    })),
  );
  return groupIds.flatMap((_, i) =>
    values(ok(responses, `m${i}`, NEEDS.groups))
      .map(asRecord)
      .filter((m) => typeof m.id === 'string' && m['@odata.type'] !== '#microsoft.graph.group')
      .map((m) => m.id as string),
  );
}

const NO_INVITE_CONTEXT = {
  group: null,
  app: null,
  actorIsOwner: false,
  groupAssignedToApp: false,
  existingUser: null,
  allowInvitesFrom: null,
  tenant: null,
} as const;

/**
 * One `$batch` of plain reads: the group, all its owners, the app's assignments (paged inside the batch), the app,
 * a user with that address, the guest invite setting and the verified domains.
 */
export async function getInviteContext(
  http: GraphHttp,
  query: { actorId: string; groupId: string; appId: string; email: string },
): Promise<InviteContext> {
  const { responses, requestId } = await http.batch([
    { id: 'group', method: 'GET', url: `/groups/${q(query.groupId)}?$select=${GROUP_SELECT}` },
    ownersStep('owners', query.groupId),
    { id: 'assignments', method: 'GET', url: assignmentsUrl(query.appId) },
    { id: 'app', method: 'GET', url: `/servicePrincipals/${q(query.appId)}?$select=${APP_SELECT}` },
    { id: 'user', method: 'GET', url: `/users?$filter=${byAddress(query.email)}&$select=${USER_SELECT}` },
    { id: 'policy', method: 'GET', url: POLICY_URL },
    { id: 'org', method: 'GET', url: ORGANIZATION_URL },
  ]);
  const groupBody = okOrNull(responses, 'group', NEEDS.groups);
  if (groupBody === null) return { ...NO_INVITE_CONTEXT, requestId };
  const appBody = okOrNull(responses, 'app', NEEDS.apps);
  return {
    group: toGroup(groupBody),
    app: appBody === null ? null : toApp(appBody),
    actorIsOwner: ids(values(ok(responses, 'owners', NEEDS.groups))).includes(query.actorId),
    groupAssignedToApp:
      appBody !== null && assignedGroupIds(ok(responses, 'assignments', NEEDS.apps)).includes(query.groupId),
    existingUser: firstUser(ok(responses, 'user', NEEDS.users)),
    allowInvitesFrom: readablePolicy(responses.get('policy')),
    tenant: toTenant(values(ok(responses, 'org', NEEDS.organization))[0]),
    requestId,
  };
}

/** The guest invite setting when the policy read succeeded; null when it was refused or failed. */
function readablePolicy(policy: GraphResponse | undefined): string | null {
  return policy && policy.status < 400 ? str(asRecord(policy.body).allowInvitesFrom) : null;
}
