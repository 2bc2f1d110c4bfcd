/** The directory port over Microsoft Graph v1.0, through the real Graph client. */
import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import {
  DirectoryError,
  type AddMemberResult,
  type AppInfo,
  type CatalogApp,
  type DecisionContext,
  type Directory,
  type GroupOwner,
  type DirectoryUser,
  type GroupInfo,
  type InvitationResult,
  type InviteContext,
  type OwnedGroup,
  type TenantInfo,
} from './directory';
import { fromODataResponse, toDirectoryError } from './errors';

export const GROUP_SELECT = 'id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled';
const APP_SELECT = 'id,appId,displayName,homepage,loginUrl';
const USER_SELECT = 'id,displayName,mail,userPrincipalName,userType,externalUserState';
const MAX_BATCH = 20;

export interface GraphResponse {
  status: number;
  body: unknown;
  requestId: string | null;
  headers: Record<string, string>;
}

export interface BatchStep {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root, starting with '/'. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function q(value: string): string {
  return encodeURIComponent(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
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

function values(body: unknown): unknown[] {
  const v = asRecord(body).value;
  return Array.isArray(v) ? v : [];
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

/**
 * A nextLink is absolute; the Graph client only treats https:// URLs as absolute, so it is sent as a path
 * relative to the version root (the same request against the same host).
 */
function relativeToVersion(link: string): string {
  const url = new URL(link);
  return `${url.pathname.replace(/^\/(v1\.0|beta)(?=\/)/, '')}${url.search}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thin typed transport on the Graph client: raw responses, one error mapping, paging and JSON batching. */
export class GraphHttp {
  constructor(
    private readonly client: Client,
    private readonly options: { batchRetries?: number; maxRetryAfterSeconds?: number } = {},
  ) {}

  async send(method: BatchStep['method'], url: string, body?: unknown, headers: Record<string, string> = {}): Promise<GraphResponse> {
    let response: Response;
    try {
      const request = this.client.api(url).headers(headers).responseType(ResponseType.RAW);
      response = (await (method === 'GET'
        ? request.get()
        : method === 'POST'
          ? request.post(body ?? {})
          : method === 'PATCH'
            ? request.patch(body ?? {})
            : request.delete())) as Response;
    } catch (err) {
      throw toDirectoryError(err);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const responseHeaders = headerRecord(response.headers);
    if (!response.ok) throw fromODataResponse(response.status, parsed, responseHeaders);
    return { status: response.status, body: parsed, requestId: responseHeaders['request-id'] ?? null, headers: responseHeaders };
  }

  async get(url: string, headers?: Record<string, string>): Promise<GraphResponse> {
    return this.send('GET', url, undefined, headers);
  }

  /** Follows @odata.nextLink to the end. */
  async getAll(url: string, headers?: Record<string, string>): Promise<unknown[]> {
    const items: unknown[] = [];
    let next: string | null = url;
    while (next) {
      const page: GraphResponse = await this.get(next, headers);
      items.push(...values(page.body));
      const link = str(asRecord(page.body)['@odata.nextLink']);
      next = link === null ? null : relativeToVersion(link);
    }
    return items;
  }

  /**
   * Sends independent requests as JSON batches of at most 20, in parallel. Sub-requests answered with
   * 429/503/504 are sent again after their Retry-After (the SDK's retry handler does not look inside a batch).
   * Returns each step's response by id; failed steps come back as their status and OData error body.
   */
  async batch(steps: readonly BatchStep[]): Promise<{ responses: Map<string, GraphResponse>; requestId: string | null }> {
    const responses = new Map<string, GraphResponse>();
    let requestId: string | null = null;
    let pending = [...steps];
    const retries = this.options.batchRetries ?? 3;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const chunks: BatchStep[][] = [];
      for (let i = 0; i < pending.length; i += MAX_BATCH) chunks.push(pending.slice(i, i + MAX_BATCH));
      const answers = await Promise.all(chunks.map((chunk) => this.send('POST', '/$batch', { requests: chunk.map(toBatchItem) })));
      requestId ??= answers[0]?.requestId ?? null;
      const retry: BatchStep[] = [];
      let waitSeconds = 0;
      for (const answer of answers) {
        for (const raw of asRecord(answer.body).responses as unknown[] ?? []) {
          const item = asRecord(raw);
          const id = String(item.id);
          const status = Number(item.status);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(asRecord(item.headers))) headers[k.toLowerCase()] = String(v);
          const step = pending.find((s) => s.id === id);
          if (step && (status === 429 || status === 503 || status === 504) && attempt < retries) {
            retry.push(step);
            waitSeconds = Math.max(waitSeconds, Number(headers['retry-after']) || 2 ** attempt);
            continue;
          }
          responses.set(id, { status, body: item.body, requestId: headers['request-id'] ?? answer.requestId, headers });
        }
      }
      if (retry.length > 0) await sleep(Math.min(waitSeconds, this.options.maxRetryAfterSeconds ?? 30) * 1000);
      pending = retry;
    }
    return { responses, requestId };
  }
}

function toBatchItem(step: BatchStep): Record<string, unknown> {
  const item: Record<string, unknown> = { id: step.id, method: step.method, url: step.url };
  if (step.body !== undefined) {
    item.body = step.body;
    item.headers = { 'Content-Type': 'application/json', ...(step.headers ?? {}) };
  } else if (step.headers) {
    item.headers = step.headers;
  }
  return item;
}

/** The successful body of a batch step, or the mapped error. */
function ok(responses: Map<string, GraphResponse>, id: string): unknown {
  const response = responses.get(id);
  if (!response) throw new DirectoryError('unknown', 0, 'MissingBatchResponse', `No response for batch step '${id}'`);
  if (response.status >= 400) throw fromODataResponse(response.status, response.body, response.headers);
  return response.body;
}

/** Like ok(), but a 404 becomes null. */
function okOrNull(responses: Map<string, GraphResponse>, id: string): unknown {
  const response = responses.get(id);
  if (response?.status === 404) return null;
  return ok(responses, id);
}

const eventual = { ConsistencyLevel: 'eventual' };

export class GraphDirectory implements Directory {
  constructor(private readonly http: GraphHttp) {}

  async listOwnedGroupsWithApps(userId: string): Promise<OwnedGroup[]> {
    const owned = (
      await this.http.getAll(`/users/${q(userId)}/ownedObjects/microsoft.graph.group?$select=${GROUP_SELECT}&$top=999`)
    ).map(toGroup);
    if (owned.length === 0) return [];
    const { responses } = await this.http.batch(
      owned.map((group, i) => ({
        id: String(i),
        method: 'GET' as const,
        url: `/groups/${q(group.id)}/appRoleAssignments?$select=resourceId,resourceDisplayName,principalType`,
      })),
    );
    return owned.map((group, i) => {
      const apps = new Map<string, string>();
      for (const raw of values(ok(responses, String(i)))) {
        const a = asRecord(raw);
        if (typeof a.resourceId === 'string') apps.set(a.resourceId, str(a.resourceDisplayName) ?? a.resourceId);
      }
      return { group, apps: [...apps].map(([id, displayName]) => ({ id, displayName })) };
    });
  }

  async listCatalog(): Promise<CatalogApp[]> {
    const principals = await this.http.getAll(
      `/servicePrincipals?$filter=${q("tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')")}&$select=id,displayName&$top=999`,
    );
    const apps = principals.map((raw) => ({ id: String(asRecord(raw).id), displayName: str(asRecord(raw).displayName) ?? '' }));
    if (apps.length === 0) return [];
    const assigned = await this.http.batch(
      apps.map((app, i) => ({ id: `a${i}`, method: 'GET' as const, url: `/servicePrincipals/${q(app.id)}/appRoleAssignedTo?$select=principalId,principalType&$top=999` })),
    );
    const groupIdsByApp = apps.map((_, i) => {
      const ids = new Set<string>();
      for (const raw of values(ok(assigned.responses, `a${i}`))) {
        const a = asRecord(raw);
        if (a.principalType === 'Group' && typeof a.principalId === 'string') ids.add(a.principalId);
      }
      return [...ids];
    });
    const groupIds = [...new Set(groupIdsByApp.flat())];
    const details = await this.http.batch(
      groupIds.map((id, i) => ({ id: `g${i}`, method: 'GET' as const, url: `/groups/${q(id)}?$select=${GROUP_SELECT}&$expand=owners($select=id)` })),
    );
    const groups = new Map<string, { group: GroupInfo; ownerCount: number }>();
    groupIds.forEach((id, i) => {
      const body = okOrNull(details.responses, `g${i}`);
      if (body === null) return;
      const owners = asRecord(body).owners;
      groups.set(id, { group: toGroup(body), ownerCount: Array.isArray(owners) ? owners.length : 0 });
    });
    return apps
      .map((app, i) => ({ ...app, groups: groupIdsByApp[i].map((id) => groups.get(id)).filter((g): g is { group: GroupInfo; ownerCount: number } => g !== undefined) }))
      .filter((app) => app.groups.length > 0);
  }

  async getAllowInvitesFrom(): Promise<string | null> {
    const response = await this.http.get('/policies/authorizationPolicy?$select=id,allowInvitesFrom');
    return str(asRecord(response.body).allowInvitesFrom);
  }

  async listRoleTemplateIds(userId: string): Promise<string[]> {
    const roles = await this.http.getAll(`/users/${q(userId)}/memberOf/microsoft.graph.directoryRole?$select=id,roleTemplateId`);
    return roles.map((r) => str(asRecord(r).roleTemplateId)).filter((id): id is string => id !== null);
  }

  async listRoleMembers(roleTemplateIds: readonly string[]): Promise<Set<string>> {
    const roles = (await this.http.getAll('/directoryRoles?$select=id,roleTemplateId'))
      .map((r) => asRecord(r))
      .filter((r) => typeof r.roleTemplateId === 'string' && roleTemplateIds.includes(r.roleTemplateId));
    if (roles.length === 0) return new Set();
    const { responses } = await this.http.batch(roles.map((r, i) => ({ id: `r${i}`, method: 'GET' as const, url: `/directoryRoles/${q(String(r.id))}/members?$select=id&$top=999` })));
    const ids = new Set<string>();
    roles.forEach((_, i) => {
      for (const m of values(ok(responses, `r${i}`))) ids.add(String(asRecord(m).id));
    });
    return ids;
  }

  async listMemberGroupIds(userId: string): Promise<Set<string>> {
    const groups = await this.http.getAll(`/users/${q(userId)}/memberOf/microsoft.graph.group?$select=id&$top=999`);
    return new Set(groups.map((g) => String(asRecord(g).id)));
  }

  async listGroupOwners(groupId: string): Promise<GroupOwner[]> {
    const owners = await this.http.getAll(`/groups/${q(groupId)}/owners?$select=id,displayName&$top=999`);
    return owners
      .map((raw) => asRecord(raw))
      .filter((o) => o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.user')
      .map((o) => ({ id: String(o.id), displayName: str(o.displayName) ?? '' }));
  }

  async getDecisionContext(query: { deciderId: string; requesterId: string; groupId: string }): Promise<DecisionContext> {
    const group = q(query.groupId);
    const { responses, requestId } = await this.http.batch([
      { id: 'group', method: 'GET', url: `/groups/${group}?$select=${GROUP_SELECT}` },
      { id: 'owner', method: 'GET', url: `/groups/${group}/owners?$filter=id eq ${q(odataString(query.deciderId))}&$count=true&$select=id`, headers: eventual },
      { id: 'member', method: 'GET', url: `/groups/${group}/members?$filter=id eq ${q(odataString(query.requesterId))}&$count=true&$select=id`, headers: eventual },
    ]);
    const groupBody = okOrNull(responses, 'group');
    if (groupBody === null) return { group: null, deciderIsOwner: false, requesterIsMember: false, requestId };
    return {
      group: toGroup(groupBody),
      deciderIsOwner: values(ok(responses, 'owner')).some((o) => asRecord(o).id === query.deciderId),
      requesterIsMember: values(ok(responses, 'member')).some((m) => asRecord(m).id === query.requesterId),
      requestId,
    };
  }

  async getTenantInfo(): Promise<TenantInfo> {
    const response = await this.http.get('/organization?$select=id,displayName,verifiedDomains');
    return toTenant(values(response.body)[0]);
  }

  async getInviteContext(query: { actorId: string; groupId: string; appId: string; email: string }): Promise<InviteContext> {
    const group = q(query.groupId);
    const email = q(odataString(query.email));
    const byAddress = `mail eq ${email} or otherMails/any(m:m eq ${email})`;
    const { responses, requestId } = await this.http.batch([
      { id: 'group', method: 'GET', url: `/groups/${group}?$select=${GROUP_SELECT}` },
      {
        id: 'owner',
        method: 'GET',
        url: `/groups/${group}/owners?$filter=id eq ${q(odataString(query.actorId))}&$count=true&$select=id`,
        headers: eventual,
      },
      { id: 'assignments', method: 'GET', url: `/groups/${group}/appRoleAssignments?$select=resourceId,principalType` },
      { id: 'app', method: 'GET', url: `/servicePrincipals/${q(query.appId)}?$select=${APP_SELECT}` },
      { id: 'user', method: 'GET', url: `/users?$filter=${byAddress}&$count=true&$select=${USER_SELECT}`, headers: eventual },
      { id: 'member', method: 'GET', url: `/groups/${group}/members?$filter=${byAddress}&$count=true&$select=id`, headers: eventual },
      { id: 'policy', method: 'GET', url: '/policies/authorizationPolicy?$select=id,allowInvitesFrom' },
      { id: 'org', method: 'GET', url: '/organization?$select=id,displayName,verifiedDomains' },
    ]);
    const groupBody = okOrNull(responses, 'group');
    if (groupBody === null) {
      return { group: null, app: null, actorIsOwner: false, groupAssignedToApp: false, existingUser: null, existingUserIsMember: false, allowInvitesFrom: null, tenant: null, requestId };
    }
    const appBody = okOrNull(responses, 'app');
    const users = values(ok(responses, 'user')).map(toUser);
    let allowInvitesFrom: string | null = null;
    const policy = responses.get('policy');
    if (policy && policy.status < 400) allowInvitesFrom = str(asRecord(policy.body).allowInvitesFrom);
    return {
      group: toGroup(groupBody),
      app: appBody === null ? null : toApp(appBody),
      actorIsOwner: values(ok(responses, 'owner')).some((o) => asRecord(o).id === query.actorId),
      groupAssignedToApp: values(ok(responses, 'assignments')).some((a) => asRecord(a).resourceId === query.appId),
      existingUser: users[0] ?? null,
      existingUserIsMember: values(ok(responses, 'member')).length > 0,
      allowInvitesFrom,
      tenant: toTenant(values(ok(responses, 'org'))[0]),
      requestId,
    };
  }

  async inviteGuest(input: { email: string; redirectUrl: string; message: string | null }): Promise<InvitationResult> {
    const body: Record<string, unknown> = {
      invitedUserEmailAddress: input.email,
      inviteRedirectUrl: input.redirectUrl,
      sendInvitationMessage: true,
    };
    if (input.message) body.invitedUserMessageInfo = { customizedMessageBody: input.message };
    const response = await this.http.send('POST', '/invitations', body);
    const invitation = asRecord(response.body);
    return {
      userId: String(asRecord(invitation.invitedUser).id),
      redeemUrl: str(invitation.inviteRedeemUrl),
      status: str(invitation.status),
      requestId: response.requestId,
    };
  }

  async addGroupMember(groupId: string, userId: string): Promise<AddMemberResult> {
    try {
      const response = await this.http.send('POST', `/groups/${q(groupId)}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userId}`,
      });
      return { added: true, requestId: response.requestId };
    } catch (err) {
      if (err instanceof DirectoryError && err.kind === 'alreadyExists') return { added: false, requestId: err.requestId };
      throw err;
    }
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
