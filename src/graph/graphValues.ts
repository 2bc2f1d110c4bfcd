/**
 * What the Graph adapter's parts share: URL pieces (escaping, `$select` lists, address filters), the batch steps
 * several reads use, and the conversions from Graph's JSON to the directory port's types.
 */
import type { AppInfo, DirectoryUser, GroupInfo, TenantInfo } from './directory';
import { asRecord, str, values, type BatchStep } from './graphHttp';

export const GROUP_SELECT =
  'id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole';
export const APP_SELECT = 'id,appId,displayName,homepage,loginUrl';
export const USER_SELECT = 'id,displayName,mail,userPrincipalName,userType,externalUserState';

/** A value in a URL path or query. */
export const q = encodeURIComponent;

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * `mail eq '…' or otherMails/any(m:m eq '…')`: a plain filter, no advanced query needed (user-list.md,
 * filter-directory-objects.md).
 */
export function byAddress(email: string): string {
  const literal = q(odataString(email));
  return `mail eq ${literal} or otherMails/any(m:m eq ${literal})`;
}

/** A user found by address: the first of a `GET /users?$filter=…` answer, or null. */
export function firstUser(body: unknown): DirectoryUser | null {
  return values(body).map(toUser)[0] ?? null;
}

/** The string ids of a list of directory objects. */
export const ids = (items: unknown[]): string[] =>
  items.map((o) => asRecord(o).id).filter((id): id is string => typeof id === 'string');

/** True for an item of a directory-object list that is a user (an item without `@odata.type` counts as one). */
export function isUser(item: Record<string, unknown>): boolean {
  return item['@odata.type'] === undefined || item['@odata.type'] === '#microsoft.graph.user';
}

/** The group ids an app is assigned to, from its appRoleAssignedTo collection. */
export function assignedGroupIds(body: unknown): string[] {
  const out = new Set<string>();
  for (const raw of values(body)) {
    const a = asRecord(raw);
    if (a.principalType === 'Group' && typeof a.principalId === 'string') out.add(a.principalId);
  }
  return [...out];
}

/** Plain read of all owners (paged through the batch; no $filter, so not the advanced-query index). */
export const ownersStep = (id: string, groupId: string): BatchStep => ({
  id,
  method: 'GET',
  url: `/groups/${q(groupId)}/owners?$select=id&$top=999`,
});

export const checkMembersStep = (id: string, userId: string, groupIds: readonly string[]): BatchStep => ({
  id,
  method: 'POST',
  url: `/users/${q(userId)}/checkMemberGroups`,
  body: { groupIds },
});

/** `@odata.id` of a directory object, for `$ref` writes and `@odata.bind`. */
export function directoryObjectRef(id: string, collection = 'directoryObjects'): string {
  return `https://graph.microsoft.com/v1.0/${collection}/${id}`;
}

export function toGroup(raw: unknown): GroupInfo {
  const g = asRecord(raw);
  return {
    id: String(g.id),
    displayName: str(g.displayName) ?? String(g.id),
    groupTypes: Array.isArray(g.groupTypes) ? g.groupTypes.map(String) : [],
    mailEnabled: g.mailEnabled === true,
    securityEnabled: g.securityEnabled === true,
    onPremisesSyncEnabled: typeof g.onPremisesSyncEnabled === 'boolean' ? g.onPremisesSyncEnabled : null,
    isAssignableToRole: g.isAssignableToRole === true,
  };
}

export function toApp(raw: unknown): AppInfo {
  const s = asRecord(raw);
  return {
    id: String(s.id),
    appId: str(s.appId) ?? '',
    displayName: str(s.displayName) ?? String(s.id),
    homepage: str(s.homepage),
    loginUrl: str(s.loginUrl),
  };
}

export function toUser(raw: unknown): DirectoryUser {
  const u = asRecord(raw);
  const userType = str(u.userType);
  return {
    id: String(u.id),
    displayName: str(u.displayName) ?? '',
    mail: str(u.mail),
    userPrincipalName: str(u.userPrincipalName) ?? '',
    userType: userType === 'Member' || userType === 'Guest' ? userType : null,
    externalUserState: str(u.externalUserState),
  };
}

export function toTenant(raw: unknown): TenantInfo {
  const org = asRecord(raw);
  const domains = Array.isArray(org.verifiedDomains) ? org.verifiedDomains : [];
  return {
    id: String(org.id ?? ''),
    displayName: str(org.displayName) ?? '',
    verifiedDomains: domains.map((d) => str(asRecord(d).name)).filter((d): d is string => d !== null),
  };
}

/** An id and display name (owners, sponsors). */
export function toNamed(raw: unknown): { id: string; displayName: string } {
  const o = asRecord(raw);
  return { id: String(o.id), displayName: str(o.displayName) ?? '' };
}
