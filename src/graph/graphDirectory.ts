/**
 * The directory port over Microsoft Graph v1.0, through the real Graph client. Every call is one the docs support
 * with application permissions (src/graph/permissions.ts); authorization reads (owners, assignments, membership)
 * are plain reads, never the eventually consistent advanced-query index (group-list-owners.md).
 */
import {
  DirectoryError,
  type AddMemberResult,
  type AppInfo,
  type CatalogApp,
  type CatalogGroup,
  type DecisionContext,
  type Directory,
  type GroupOwner,
  type GuestMember,
  type DirectoryUser,
  type GroupInfo,
  type InvitationResult,
  type InviteContext,
  type TenantInfo,
} from './directory';
import { asRecord, batchOnce, ok, okOrNull, str, values, type BatchStep, type GraphHttp } from './graphHttp';
import { fromODataResponse } from './errors';
import { addSponsor, listGuestMembers, listSponsors, needing, removeGroupMember } from './guestCalls';
import { NEEDS } from './permissions';

export { GraphHttp } from './graphHttp';

export const GROUP_SELECT =
  'id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole';
const APP_SELECT = 'id,appId,displayName,homepage,loginUrl';
const USER_SELECT = 'id,displayName,mail,userPrincipalName,userType,externalUserState';
/** `$expand` of a directory-object relation returns at most 20 (concepts/query-parameters.md). */
const EXPAND_LIMIT = 20;
const MAX_CHECK_GROUPS = 20;

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function q(value: string): string {
  return encodeURIComponent(value);
}

function toGroup(raw: unknown): GroupInfo {
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

function toApp(raw: unknown): AppInfo {
  const s = asRecord(raw);
  return {
    id: String(s.id),
    appId: str(s.appId) ?? '',
    displayName: str(s.displayName) ?? String(s.id),
    homepage: str(s.homepage),
    loginUrl: str(s.loginUrl),
  };
}

function toUser(raw: unknown): DirectoryUser {
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

const ids = (items: unknown[]): string[] =>
  items.map((o) => asRecord(o).id).filter((id): id is string => typeof id === 'string');

/** `mail eq '…' or otherMails/any(m:m eq '…')`: a plain filter, no advanced query needed (user-list.md, filter-directory-objects.md). */
function byAddress(email: string): string {
  const literal = q(odataString(email));
  return `mail eq ${literal} or otherMails/any(m:m eq ${literal})`;
}

/** The group ids an app is assigned to, from its appRoleAssignedTo collection. */
function assignedGroupIds(body: unknown): string[] {
  const out = new Set<string>();
  for (const raw of values(body)) {
    const a = asRecord(raw);
    if (a.principalType === 'Group' && typeof a.principalId === 'string') out.add(a.principalId);
  }
  return [...out];
}

/** Plain read of all owners (paged through the batch; no $filter, so not the advanced-query index). */
const ownersStep = (id: string, groupId: string): BatchStep => ({
  id,
  method: 'GET',
  url: `/groups/${q(groupId)}/owners?$select=id&$top=999`,
});

const checkMembersStep = (id: string, userId: string, groupIds: readonly string[]): BatchStep => ({
  id,
  method: 'POST',
  url: `/users/${q(userId)}/checkMemberGroups`,
  body: { groupIds },
});

/**
 * The body of `POST /invitations` (invitation-post.md). `send: false` (a row of Entra's bulk template saying so)
 * sends no invitation email: the guest is created and can still redeem through the app or My Apps.
 */
function invitationBody(input: {
  email: string;
  redirectUrl: string;
  message: string | null;
  language?: string | null;
  send?: boolean;
}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    invitedUserEmailAddress: input.email,
    inviteRedirectUrl: input.redirectUrl,
    sendInvitationMessage: input.send ?? true,
  };
  // invitedusermessageinfo.md: messageLanguage is the language of Microsoft's invitation email (default en-US); a
  // customizedMessageBody is sent as written, whatever the language.
  const messageInfo: Record<string, unknown> = {};
  if (input.language) messageInfo.messageLanguage = input.language;
  if (input.message) messageInfo.customizedMessageBody = input.message;
  if (Object.keys(messageInfo).length > 0) body.invitedUserMessageInfo = messageInfo;
  return body;
}

export class GraphDirectory implements Directory {
  constructor(private readonly http: GraphHttp) {}

  /**
   * The self-service catalog, walked from the apps (ownedObjects is not supported app-only:
   * includes/permissions/user-list-ownedobjects-permissions.md): integrated service principals →
   * appRoleAssignedTo (groups) → each group with `$expand=owners` (at most 20; a group showing 20 has its owners
   * read in full). Groups synced from on-premises list no owners (group-list-owners.md).
   */
  async listCatalog(): Promise<CatalogApp[]> {
    const principals = await needing(NEEDS.apps, () =>
      this.http.getAll(
        `/servicePrincipals?$filter=${q("tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')")}&$select=id,displayName&$top=999`,
      ),
    );
    const apps = principals.map((raw) => ({
      id: String(asRecord(raw).id),
      displayName: str(asRecord(raw).displayName) ?? '',
    }));
    if (apps.length === 0) return [];
    const assigned = await this.http.batch(
      apps.map((app, i) => ({
        id: `a${i}`,
        method: 'GET' as const,
        url: `/servicePrincipals/${q(app.id)}/appRoleAssignedTo?$select=principalId,principalType&$top=999`,
      })),
    );
    const groupIdsByApp = apps.map((_, i) => assignedGroupIds(ok(assigned.responses, `a${i}`, NEEDS.apps)));
    const groupIds = [...new Set(groupIdsByApp.flat())];
    const details = await this.http.batch(
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
      const { responses } = await this.http.batch(full.map((id, i) => ownersStep(`o${i}`, id)));
      full.forEach((id, i) => {
        const ownerIds = ids(values(ok(responses, `o${i}`, NEEDS.groups)));
        groups.set(id, { ...groups.get(id)!, ownerIds, ownerCount: ownerIds.length });
      });
    }
    return apps
      .map((app, i) => ({
        ...app,
        groups: groupIdsByApp[i].map((id) => groups.get(id)).filter((g): g is CatalogGroup => g !== undefined),
      }))
      .filter((app) => app.groups.length > 0);
  }

  async getAllowInvitesFrom(): Promise<string | null> {
    const response = await needing(NEEDS.policy, () =>
      this.http.get('/policies/authorizationPolicy?$select=id,allowInvitesFrom'),
    );
    return str(asRecord(response.body).allowInvitesFrom);
  }

  /**
   * Holders of the admin roles: `/directoryRoles(roleTemplateId='…')/members` (directoryrole-list-members.md;
   * a role that was never activated answers 404 and has no holders). A role held through a role-assignable group
   * lists the group; its members hold the role (role-assignable groups cannot contain groups).
   */
  async listRoleMembers(roleTemplateIds: readonly string[]): Promise<Set<string>> {
    const roles = await this.http.batch(
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
        else if (member['@odata.type'] === undefined || member['@odata.type'] === '#microsoft.graph.user')
          users.add(member.id);
      }
    });
    if (groups.size > 0) {
      const list = [...groups];
      const { responses } = await this.http.batch(
        list.map((id, i) => ({
          id: `m${i}`,
          method: 'GET' as const,
          url: `/groups/${q(id)}/members?$select=id&$top=999`,
        })),
      );
      list.forEach((_, i) => {
        for (const raw of values(ok(responses, `m${i}`, NEEDS.groups))) {
          const member = asRecord(raw);
          if (typeof member.id === 'string' && member['@odata.type'] !== '#microsoft.graph.group') users.add(member.id);
        }
      });
    }
    return users;
  }

  /** `POST /users/{id}/checkMemberGroups`, 20 groups a request (directoryobject-checkmembergroups.md). A user that does not exist is in no group. */
  async checkMemberGroups(userId: string, groupIds: readonly string[]): Promise<Set<string>> {
    const chunks: string[][] = [];
    for (let i = 0; i < groupIds.length; i += MAX_CHECK_GROUPS) chunks.push(groupIds.slice(i, i + MAX_CHECK_GROUPS));
    if (chunks.length === 0) return new Set();
    const { responses } = await this.http.batch(chunks.map((chunk, i) => checkMembersStep(`c${i}`, userId, chunk)));
    const member = new Set<string>();
    chunks.forEach((_, i) => {
      for (const id of values(okOrNull(responses, `c${i}`, NEEDS.checkMembers)))
        if (typeof id === 'string') member.add(id);
    });
    return member;
  }

  async listGroupOwners(groupId: string): Promise<GroupOwner[]> {
    const owners = await needing(NEEDS.groups, () =>
      this.http.getAll(`/groups/${q(groupId)}/owners?$select=id,displayName&$top=999`),
    );
    return owners
      .map((raw) => asRecord(raw))
      .filter((o) => o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.user')
      .map((o) => ({ id: String(o.id), displayName: str(o.displayName) ?? '' }));
  }

  async getDecisionContext(query: {
    deciderId: string;
    requesterId: string;
    groupId: string;
  }): Promise<DecisionContext> {
    const { responses, requestId } = await this.http.batch([
      { id: 'group', method: 'GET', url: `/groups/${q(query.groupId)}?$select=${GROUP_SELECT}` },
      ownersStep('owners', query.groupId),
      checkMembersStep('member', query.requesterId, [query.groupId]),
    ]);
    const groupBody = okOrNull(responses, 'group', NEEDS.groups);
    if (groupBody === null) return { group: null, deciderIsOwner: false, requesterIsMember: false, requestId };
    return {
      group: toGroup(groupBody),
      deciderIsOwner: ids(values(ok(responses, 'owners', NEEDS.groups))).includes(query.deciderId),
      requesterIsMember: values(okOrNull(responses, 'member', NEEDS.checkMembers)).includes(query.groupId),
      requestId,
    };
  }

  async getTenantInfo(): Promise<TenantInfo> {
    const response = await needing(NEEDS.organization, () =>
      this.http.get('/organization?$select=id,displayName,verifiedDomains'),
    );
    return toTenant(values(response.body)[0]);
  }

  /**
   * One `$batch` of plain reads: the group, all its owners, the app's assignments (paged inside the batch), the app,
   * a user with that address, the guest invite setting and the verified domains.
   */
  async getInviteContext(query: {
    actorId: string;
    groupId: string;
    appId: string;
    email: string;
  }): Promise<InviteContext> {
    const { responses, requestId } = await this.http.batch([
      { id: 'group', method: 'GET', url: `/groups/${q(query.groupId)}?$select=${GROUP_SELECT}` },
      ownersStep('owners', query.groupId),
      {
        id: 'assignments',
        method: 'GET',
        url: `/servicePrincipals/${q(query.appId)}/appRoleAssignedTo?$select=principalId,principalType&$top=999`,
      },
      { id: 'app', method: 'GET', url: `/servicePrincipals/${q(query.appId)}?$select=${APP_SELECT}` },
      { id: 'user', method: 'GET', url: `/users?$filter=${byAddress(query.email)}&$select=${USER_SELECT}` },
      { id: 'policy', method: 'GET', url: '/policies/authorizationPolicy?$select=id,allowInvitesFrom' },
      { id: 'org', method: 'GET', url: '/organization?$select=id,displayName,verifiedDomains' },
    ]);
    const groupBody = okOrNull(responses, 'group', NEEDS.groups);
    if (groupBody === null) {
      return {
        group: null,
        app: null,
        actorIsOwner: false,
        groupAssignedToApp: false,
        existingUser: null,
        allowInvitesFrom: null,
        tenant: null,
        requestId,
      };
    }
    const appBody = okOrNull(responses, 'app', NEEDS.apps);
    let allowInvitesFrom: string | null = null;
    const policy = responses.get('policy');
    if (policy && policy.status < 400) allowInvitesFrom = str(asRecord(policy.body).allowInvitesFrom);
    return {
      group: toGroup(groupBody),
      app: appBody === null ? null : toApp(appBody),
      actorIsOwner: ids(values(ok(responses, 'owners', NEEDS.groups))).includes(query.actorId),
      groupAssignedToApp:
        appBody !== null && assignedGroupIds(ok(responses, 'assignments', NEEDS.apps)).includes(query.groupId),
      existingUser: values(ok(responses, 'user', NEEDS.users)).map(toUser)[0] ?? null,
      allowInvitesFrom,
      tenant: toTenant(values(ok(responses, 'org', NEEDS.organization))[0]),
      requestId,
    };
  }

  async findUserByEmail(email: string): Promise<DirectoryUser | null> {
    const response = await needing(NEEDS.users, () =>
      this.http.get(`/users?$filter=${byAddress(email)}&$select=${USER_SELECT}`),
    );
    return values(response.body).map(toUser)[0] ?? null;
  }

  async inviteGuest(input: {
    email: string;
    redirectUrl: string;
    message: string | null;
    language?: string | null;
  }): Promise<InvitationResult> {
    const response = await needing(NEEDS.invite, () => this.http.send('POST', '/invitations', invitationBody(input)));
    const invitation = asRecord(response.body);
    return {
      userId: String(asRecord(invitation.invitedUser).id),
      redeemUrl: str(invitation.inviteRedeemUrl),
      status: str(invitation.status),
      requestId: response.requestId,
    };
  }

  /**
   * `POST /groups/{id}/members/$ref` (group-post-members.md: 400 when the member is already there). The docs do not
   * promise that error's wording, so a 400 is settled by reading membership: a member gives `added: false`.
   */
  async addGroupMember(groupId: string, userId: string): Promise<AddMemberResult> {
    try {
      const response = await needing(NEEDS.memberWrite, () =>
        this.http.send('POST', `/groups/${q(groupId)}/members/$ref`, {
          '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userId}`,
        }),
      );
      return { added: true, requestId: response.requestId };
    } catch (err) {
      if (
        err instanceof DirectoryError &&
        err.kind === 'badRequest' &&
        (await this.checkMemberGroups(userId, [groupId])).has(groupId)
      ) {
        return { added: false, requestId: err.requestId };
      }
      throw err;
    }
  }

  /** `GET /users?$filter=mail eq … or otherMails/any(…)` per address, in `$batch` (user-list.md; concepts/json-batching.md). */
  async findUsersByEmails(emails: readonly string[]): Promise<Map<string, DirectoryUser | null>> {
    const found = new Map<string, DirectoryUser | null>();
    if (emails.length === 0) return found;
    const { responses } = await this.http.batch(
      emails.map((email, i) => ({
        id: `u${i}`,
        method: 'GET' as const,
        url: `/users?$filter=${byAddress(email)}&$select=${USER_SELECT}`,
      })),
    );
    emails.forEach((email, i) => found.set(email, values(ok(responses, `u${i}`, NEEDS.users)).map(toUser)[0] ?? null));
    return found;
  }

  /** `POST /users/{id}/checkMemberGroups` per user, in `$batch` (directoryobject-checkmembergroups.md). */
  async membersAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>> {
    const members = new Set<string>();
    if (userIds.length === 0) return members;
    const { responses } = await this.http.batch(
      userIds.map((userId, i) => checkMembersStep(`m${i}`, userId, [groupId])),
    );
    userIds.forEach((userId, i) => {
      if (values(okOrNull(responses, `m${i}`, NEEDS.checkMembers)).includes(groupId)) members.add(userId);
    });
    return members;
  }

  /** `POST /invitations` (invitation-post.md) as items of one `$batch`, each answered on its own. */
  async inviteGuests(
    inputs: ReadonlyArray<{
      key: string;
      email: string;
      redirectUrl: string;
      message: string | null;
      language?: string | null;
      send?: boolean;
    }>,
  ): Promise<Map<string, InvitationResult | DirectoryError>> {
    const steps: BatchStep[] = inputs.map((input, i) => ({
      id: `i${i}`,
      method: 'POST',
      url: '/invitations',
      body: invitationBody(input),
    }));
    const responses = await needing(NEEDS.invite, () => batchOnce(this.http, steps));
    const out = new Map<string, InvitationResult | DirectoryError>();
    inputs.forEach((input, i) => {
      const response = responses.get(`i${i}`);
      if (!response) {
        out.set(
          input.key,
          new DirectoryError('unavailable', 504, 'MissingBatchResponse', `No response for batch item i${i}`),
        );
      } else if (response.status >= 300) {
        const error = fromODataResponse(response.status, response.body, response.headers);
        out.set(input.key, error.kind === 'forbidden' ? error.needing(NEEDS.invite) : error);
      } else {
        const invitation = asRecord(response.body);
        out.set(input.key, {
          userId: String(asRecord(invitation.invitedUser).id),
          redeemUrl: str(invitation.inviteRedeemUrl),
          status: str(invitation.status),
          requestId: response.requestId,
        });
      }
    });
    return out;
  }

  /**
   * `PATCH /groups/{id}` with `members@odata.bind`, up to 20 (group-post-members.md, "add multiple members in a single
   * request"; all or none). Its permission is not settled by the docs (permissions.md note 11); a refusal is thrown.
   */
  async addGroupMembers(groupId: string, userIds: readonly string[]): Promise<{ requestId: string | null }> {
    const binds = userIds.map((id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`);
    const response = await needing(NEEDS.memberWrite, () =>
      this.http.send('PATCH', `/groups/${q(groupId)}`, { 'members@odata.bind': binds }),
    );
    return { requestId: response.requestId };
  }

  removeGroupMember(groupId: string, userId: string): Promise<{ removed: boolean; requestId: string | null }> {
    return removeGroupMember(this.http, groupId, userId);
  }

  listGuestMembers(groupId: string): Promise<GuestMember[]> {
    return listGuestMembers(this.http, groupId);
  }

  async getUser(userId: string): Promise<DirectoryUser | null> {
    try {
      const response = await needing(NEEDS.users, () => this.http.get(`/users/${q(userId)}?$select=${USER_SELECT}`));
      return toUser(response.body);
    } catch (err) {
      if (err instanceof DirectoryError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  listSponsors(userId: string): Promise<GroupOwner[]> {
    return listSponsors(this.http, userId);
  }

  addSponsor(userId: string, sponsorId: string): Promise<AddMemberResult> {
    return addSponsor(this.http, userId, sponsorId);
  }
}

function toTenant(raw: unknown): TenantInfo {
  const org = asRecord(raw);
  const domains = Array.isArray(org.verifiedDomains) ? org.verifiedDomains : [];
  return {
    id: String(org.id ?? ''),
    displayName: str(org.displayName) ?? '',
    verifiedDomains: domains.map((d) => str(asRecord(d).name)).filter((d): d is string => d !== null),
  };
}
