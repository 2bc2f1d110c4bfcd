import { GraphError, badRequest, invalidObjectId, methodNotAllowed, notFound, segmentNotFound } from './errors';
import { isJsonObject, type JsonObject } from './json';
import {
  METADATA_URL,
  advancedOperators,
  decodeSkipToken,
  encodeSkipToken,
  filterProperties,
  matchesFilter,
  parseExpand,
  parseFilter,
  parseOrderBy,
  parseSearch,
  parseSelect,
  parseTop,
  project,
  resolveSelect,
  sortBy,
} from './odata';
import { ROLE_ASSIGNABLE_GROUP_WRITE, permissionRow, type Grant, type PermissionRow } from './permissions';
import { headerValue, queryValue, type Handler, type SimRequest, type SimResponse } from './pipeline';
import { callerAppId, type TeamsApps } from './teamsApps';
import { GUID_PATTERN, USER_DEFAULT_PROPERTIES, type Clock, type DirectoryEntry, type ObjectKind, type Tenant } from './tenant';

export const JSON_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

const MAX_EXPAND = 20;
const MAX_BIND = 20;
/** directoryobject-checkmembergroups.md: "Up to 20 groups may be specified." */
const MAX_CHECK_GROUPS = 20;

interface Row {
  kind: string;
  props: JsonObject;
}

interface ListSpec {
  rows: Row[];
  /** Entity set or navigation path used in @odata.context, e.g. "users" or "directoryObjects". */
  context: string;
  /** Type named in error messages, e.g. "user" or "directoryObject". */
  typeName: string;
  known: Set<string>;
  /** Tag each item with its @odata.type (collections typed as directoryObject). */
  tagTypes: boolean;
  /** Directory objects: $count needs ConsistencyLevel, some operators are advanced-only. */
  directory: boolean;
  /** Rows the request may not see yet (replication lag); applied after $filter and $search. */
  hidden?: (row: Row) => boolean;
  /**
   * $filter needs ConsistencyLevel: eventual and $count=true whatever the operator (group-list-members.md,
   * group-list-owners.md: query parameters on these relations are advanced queries).
   */
  filterIsAdvanced?: boolean;
}

/** What the API needs from the simulator besides the tenant. */
export interface ApiContext {
  /** The application permissions granted (read per request: tests may change them). */
  grant: () => Grant;
  now: Clock;
  /** How far the advanced-query index trails the directory, in milliseconds. */
  indexLag: () => number;
  /** The org app catalog and personal installations. */
  teamsApps: TeamsApps;
}

interface Call {
  req: SimRequest;
  params: string[];
}

type RouteHandler = (call: Call) => SimResponse;

interface Route {
  method: string;
  pattern: string[];
  permissions: PermissionRow;
  handle: RouteHandler;
}

const INSUFFICIENT_PRIVILEGES = 'Insufficient privileges to complete the operation.';

/** 403 as Graph answers a call the app's permissions do not allow (concepts/json-batching.md example). */
function insufficientPrivileges(): GraphError {
  return new GraphError(403, 'Authorization_RequestDenied', INSUFFICIENT_PRIVILEGES);
}

const APP_ROLE_ASSIGNMENT_PROPERTIES = [
  'id',
  'deletedDateTime',
  'appRoleId',
  'createdDateTime',
  'principalDisplayName',
  'principalId',
  'principalType',
  'resourceDisplayName',
  'resourceId',
];

const ROLE_ASSIGNMENT_PROPERTIES = ['id', 'directoryScopeId', 'principalId', 'roleDefinitionId', 'appScopeId', 'condition'];

const WRITABLE_GROUP_PROPERTIES = new Set([
  'description',
  'displayName',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'visibility',
]);

function ok(body: JsonObject, status = 200): SimResponse {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body };
}

function noContent(): SimResponse {
  return { status: 204, headers: {} };
}

function odataType(kind: string): string {
  return `#microsoft.graph.${kind}`;
}

function contextUrl(path: string, select: string[] | undefined, entity: boolean): string {
  const sel = select ? `(${select.join(',')})` : '';
  return `${METADATA_URL}#${path}${sel}${entity ? '/$entity' : ''}`;
}

function isEventual(req: SimRequest): boolean {
  return (headerValue(req.headers, 'consistencylevel') ?? '').toLowerCase() === 'eventual';
}

function countRequested(req: SimRequest): boolean {
  return (queryValue(req.query, '$count') ?? '').toLowerCase() === 'true';
}

function defaultsFor(kind: string): string[] | undefined {
  return kind === 'user' ? USER_DEFAULT_PROPERTIES : undefined;
}

function segmentKey(segment: string): string {
  const cast = /^(?:microsoft\.)?graph\.([A-Za-z]+)$/i.exec(segment);
  if (cast) return `cast:${cast[1].toLowerCase()}`;
  return segment.toLowerCase();
}

/** True when replication lag hides the object from this request. */
function isHidden(req: SimRequest, objectId: string): boolean {
  return req.visibility?.isHidden(objectId) ?? false;
}

/** The error a write naming an object hidden by replication lag gets. */
function lagRefusal(req: SimRequest, objectId: string): GraphError {
  return req.visibility?.writeRefusal(objectId) ?? notFound(objectId);
}

/**
 * Owners are not listed for groups synchronized from on-premises nor for mail-enabled groups created in Exchange
 * (distribution and mail-enabled security groups) (api-reference/v1.0/api/group-list-owners.md).
 */
function ownersUnlisted(group: JsonObject): boolean {
  const types = Array.isArray(group.groupTypes) ? group.groupTypes : [];
  return group.onPremisesSyncEnabled === true || (group.mailEnabled === true && !types.includes('Unified'));
}

/** `directoryRoles(roleTemplateId='{id}')` (api-reference/v1.0/api/directoryrole-list-members.md). */
const ROLE_TEMPLATE_SEGMENT = /^directoryRoles\(roleTemplateId='([^']*)'\)$/i;

function matchSegment(patternSeg: string, key: string): boolean {
  return patternSeg === '{id}' ? !key.startsWith('cast:') && key !== '$ref' : patternSeg === key;
}

/** The Graph v1.0 endpoints of the simulated tenant. */
export class GraphApi {
  private readonly routes: Route[];

  /**
   * @param pageSize page size when the client gives no $top
   * @param maxPageSize largest page the server returns, whatever $top asks (server-driven paging)
   */
  constructor(
    private readonly tenant: Tenant,
    private readonly pageSize: number,
    private readonly maxPageSize: number,
    private readonly context: ApiContext,
  ) {
    /** `endpoint` as in the permission table, e.g. 'GET /users/{id}/memberOf/microsoft.graph.group'. */
    const r = (endpoint: string, handle: RouteHandler): Route => {
      const permissions = permissionRow(endpoint);
      if (!permissions) throw new Error(`No permission row for ${endpoint}`);
      const [method, path] = endpoint.split(' ');
      const pattern = path
        .split('/')
        .filter((seg) => seg.length > 0)
        .map((seg) => (seg === '{id}' ? seg : segmentKey(seg)));
      return { method, pattern, permissions, handle };
    };
    this.routes = [
      r('GET /users', (c) => this.listUsers(c)),
      r('GET /users/{id}', (c) => this.getUser(c)),
      r('GET /users/{id}/ownedObjects', (c) => this.ownedObjects(c, false)),
      r('GET /users/{id}/ownedObjects/microsoft.graph.group', (c) => this.ownedObjects(c, true)),
      r('GET /users/{id}/appRoleAssignments', (c) => this.userAppRoleAssignments(c)),
      r('GET /users/{id}/memberOf', (c) => this.memberOf(c, undefined, false)),
      r('GET /users/{id}/memberOf/microsoft.graph.group', (c) => this.memberOf(c, 'group', false)),
      r('GET /users/{id}/memberOf/microsoft.graph.directoryRole', (c) => this.memberOf(c, 'directoryRole', false)),
      r('GET /users/{id}/transitiveMemberOf', (c) => this.memberOf(c, undefined, true)),
      r('GET /users/{id}/transitiveMemberOf/microsoft.graph.group', (c) => this.memberOf(c, 'group', true)),
      r('GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole', (c) => this.memberOf(c, 'directoryRole', true)),
      r('GET /users/{id}/sponsors', (c) => this.sponsors(c)),
      r('POST /users/{id}/sponsors/$ref', (c) => this.sponsorRef(c, 'add')),
      r('DELETE /users/{id}/sponsors/{id}/$ref', (c) => this.sponsorRef(c, 'remove')),
      r('POST /users/{id}/checkMemberGroups', (c) => this.checkMemberGroups(c, 'user')),
      r('POST /directoryObjects/{id}/checkMemberGroups', (c) => this.checkMemberGroups(c, 'any')),
      r('GET /groups/{id}', (c) => this.getGroup(c)),
      r('PATCH /groups/{id}', (c) => this.patchGroup(c)),
      r('GET /groups/{id}/appRoleAssignments', (c) => this.groupAppRoleAssignments(c)),
      r('GET /groups/{id}/members', (c) => this.groupRelation(c, 'members')),
      r('POST /groups/{id}/members/$ref', (c) => this.addRef(c, 'members')),
      r('DELETE /groups/{id}/members/{id}/$ref', (c) => this.removeMemberRef(c)),
      r('GET /groups/{id}/owners', (c) => this.groupRelation(c, 'owners')),
      r('GET /groups/{id}/owners/$ref', (c) => this.ownerRefs(c)),
      r('POST /groups/{id}/owners/$ref', (c) => this.addRef(c, 'owners')),
      r('GET /groups/{id}/owners/{id}/microsoft.graph.user', (c) => this.ownerAsUser(c)),
      r('DELETE /groups/{id}/owners/{id}/$ref', (c) => this.removeOwnerRef(c)),
      r('GET /servicePrincipals', (c) => this.listServicePrincipals(c)),
      r('GET /servicePrincipals/{id}', (c) => this.getServicePrincipal(c)),
      r('GET /servicePrincipals/{id}/appRoleAssignedTo', (c) => this.appRoleAssignedTo(c)),
      r('POST /servicePrincipals/{id}/appRoleAssignedTo', (c) => this.assignAppRole(c)),
      r('GET /directoryRoles', (c) => this.listDirectoryRoles(c)),
      r('GET /directoryRoles/{id}/members', (c) => this.directoryRoleMembers(c)),
      r('GET /roleManagement/directory/roleAssignments', (c) => this.roleAssignments(c)),
      r('GET /organization', (c) => this.organization(c)),
      r('GET /policies/authorizationPolicy', (c) => this.authorizationPolicy(c)),
      r('POST /invitations', (c) => this.invite(c)),
      r('GET /users/{id}/teamwork/installedApps', (c) => this.installedApps(c)),
      r('POST /users/{id}/teamwork/installedApps', (c) => this.installApp(c)),
      r('GET /users/{id}/teamwork/installedApps/{id}/chat', (c) => this.installationChat(c)),
    ];
  }

  /** Endpoints served, as named in the permission table. */
  endpoints(): string[] {
    return this.routes.map((route) => route.permissions.endpoint);
  }

  /** Answers one request whose path starts with /v1.0 (the $batch endpoint is served elsewhere). */
  readonly handle: Handler = async (req) => {
    const raw = req.path.replace(/^\/v1\.0\/?/i, '');
    const segments = raw
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw badRequest(`Invalid URL segment '${s}'.`);
        }
      });
    if (segments.length === 0) throw segmentNotFound('');
    const byTemplate = ROLE_TEMPLATE_SEGMENT.exec(segments[0]);
    if (byTemplate) segments.splice(0, 1, 'directoryRoles', this.roleIdByTemplate(byTemplate[1]));
    const keys = segments.map(segmentKey);
    const matching = this.routes.filter(
      (route) => route.pattern.length === keys.length && route.pattern.every((p, i) => matchSegment(p, keys[i])),
    );
    if (matching.length === 0) throw segmentNotFound(this.unknownSegment(segments, keys));
    const route = matching.find((m) => m.method === req.method);
    if (!route) throw methodNotAllowed();
    // Authorization comes first: Graph refuses a call the app may not make before looking anything up.
    if (!this.context.grant().allows(route.permissions)) throw insufficientPrivileges();
    const params = route.pattern.flatMap((p, i) => (p === '{id}' ? [segments[i]] : []));
    return route.handle({ req, params });
  };

  /** The id of the activated role with this template id; 404 when the role is not activated. */
  private roleIdByTemplate(templateId: string): string {
    const role = this.tenant.listDirectoryRoles().find((r) => String(r.roleTemplateId) === templateId.toLowerCase());
    if (!role) throw notFound(templateId);
    return String(role.id);
  }

  /** The time the lagging advanced-query index has reached, for requests that read from it; else undefined. */
  private indexTime(req: SimRequest): number | undefined {
    const lag = this.context.indexLag();
    return isEventual(req) && lag > 0 ? this.context.now() - lag : undefined;
  }

  private unknownSegment(segments: string[], keys: string[]): string {
    for (let i = 0; i < keys.length; i += 1) {
      const prefixOk = this.routes.some(
        (route) => route.pattern.length > i && route.pattern.slice(0, i + 1).every((p, j) => matchSegment(p, keys[j])),
      );
      if (!prefixOk) return segments[i];
    }
    return segments[segments.length - 1];
  }

  // ---- helpers -----------------------------------------------------------------

  private knownProperties(kinds: string[]): Set<string> {
    const out = new Set<string>();
    const add = (objects: JsonObject[]): void => {
      for (const o of objects) for (const k of Object.keys(o)) out.add(k);
    };
    for (const kind of kinds) {
      if (kind === 'user') add(this.tenant.listUsers());
      else if (kind === 'group') add(this.tenant.listGroups());
      else if (kind === 'servicePrincipal') add(this.tenant.listServicePrincipals());
      else if (kind === 'directoryRole') {
        add(this.tenant.listDirectoryRoles());
        for (const k of ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId']) out.add(k);
      }
    }
    out.add('id');
    return out;
  }

  private requireUser(req: SimRequest, id: string): JsonObject {
    const user = this.tenant.findUser(id);
    if (!user || isHidden(req, String(user.id))) throw notFound(id);
    return user;
  }

  private requireGuid(id: string): void {
    if (!GUID_PATTERN.test(id)) throw invalidObjectId(id);
  }

  private requireGroup(id: string): JsonObject {
    this.requireGuid(id);
    const group = this.tenant.findGroup(id);
    if (!group) throw notFound(id);
    return group;
  }

  private requireServicePrincipal(id: string): JsonObject {
    this.requireGuid(id);
    const sp = this.tenant.findServicePrincipal(id);
    if (!sp) throw notFound(id);
    return sp;
  }

  private selectFor(req: SimRequest, known: Set<string>, typeName: string): string[] | undefined {
    const select = parseSelect(queryValue(req.query, '$select'));
    return select ? resolveSelect(select, known, typeName) : undefined;
  }

  private list(req: SimRequest, spec: ListSpec): SimResponse {
    const select = this.selectFor(req, spec.known, spec.typeName);
    const eventual = isEventual(req);
    const count = countRequested(req);
    let rows = spec.rows;

    const filterText = queryValue(req.query, '$filter');
    if (filterText !== null) {
      const expr = parseFilter(filterText);
      if (spec.filterIsAdvanced && !(eventual && count)) {
        // Graph's answer quoted in microsoft-graph-docs issue 3112 and docs-contrib issue 8757.
        throw new GraphError(400, 'Request_UnsupportedQuery', 'The specified filter to the reference property query is currently not supported.');
      }
      if (spec.directory && !(eventual && count)) {
        const advanced = advancedOperators(expr);
        if (advanced.length > 0) {
          throw new GraphError(
            400,
            'Request_UnsupportedQuery',
            `Operator '${advanced[0]}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
          );
        }
      }
      for (const property of filterProperties(expr)) {
        const known = [...spec.known].some((k) => k.toLowerCase() === property.toLowerCase());
        if (!known) {
          throw badRequest(`Could not find a property named '${property}' on type 'microsoft.graph.${spec.typeName}'.`);
        }
      }
      rows = rows.filter((row) => matchesFilter(expr, row.props));
    }

    const searchText = queryValue(req.query, '$search');
    if (searchText !== null) {
      if (spec.directory && !eventual) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        );
      }
      const matches = parseSearch(searchText);
      rows = rows.filter((row) => matches(row.props));
    }

    const hidden = spec.hidden;
    if (hidden) rows = rows.filter((row) => !hidden(row));

    const orderText = queryValue(req.query, '$orderby');
    if (orderText !== null) {
      const order = parseOrderBy(orderText);
      for (const o of order) {
        if (![...spec.known].includes(o.property)) {
          throw badRequest(`Could not find a property named '${o.property}' on type 'microsoft.graph.${spec.typeName}'.`);
        }
      }
      rows = sortBy(rows, order, (r) => r.props);
    }

    const top = parseTop(queryValue(req.query, '$top'));
    const size = top === undefined ? this.pageSize : Math.min(top, this.maxPageSize);
    const skipToken = queryValue(req.query, '$skiptoken');
    const offset = skipToken === null ? 0 : decodeSkipToken(skipToken);
    const pageRows = rows.slice(offset, offset + size);

    const body: JsonObject = { '@odata.context': contextUrl(spec.context, select, false) };
    // @odata.count comes with the first page only (concepts/aad-advanced-queries.md, field notes).
    if (count && (eventual || !spec.directory) && offset === 0) body['@odata.count'] = rows.length;
    if (offset + size < rows.length) body['@odata.nextLink'] = this.nextLink(req, offset + size);
    body.value = pageRows.map((row) =>
      project(row.props, select, select ? undefined : defaultsFor(row.kind), spec.tagTypes ? odataType(row.kind) : undefined),
    );
    return ok(body);
  }

  private nextLink(req: SimRequest, offset: number): string {
    const params = new URLSearchParams();
    for (const [k, v] of req.query) if (k.toLowerCase() !== '$skiptoken') params.append(k, v);
    params.append('$skiptoken', encodeSkipToken(offset));
    const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
    const query = params.toString().replace(/%24/g, '$').replace(/%2C/gi, ',');
    return `${req.baseUrl}${path}?${query}`;
  }

  private entity(req: SimRequest, props: JsonObject, kind: string, context: string, known: Set<string>): SimResponse {
    const select = this.selectFor(req, known, kind);
    const body: JsonObject = { '@odata.context': contextUrl(context, select, true) };
    return ok({ ...body, ...project(props, select, select ? undefined : defaultsFor(kind)) });
  }

  private directoryRows(entries: DirectoryEntry[]): Row[] {
    return entries.map((e) => ({ kind: e.kind, props: e.props }));
  }

  private directorySpec(rows: Row[], kinds: ObjectKind[], context = 'directoryObjects'): ListSpec {
    return {
      rows,
      context,
      typeName: 'directoryObject',
      known: this.knownProperties(kinds),
      tagTypes: true,
      directory: true,
    };
  }

  // ---- users -----------------------------------------------------------------------

  private listUsers({ req }: Call): SimResponse {
    const asOf = this.indexTime(req);
    return this.list(req, {
      rows: this.tenant.listUsers().map((props) => ({ kind: 'user', props })),
      context: 'users',
      typeName: 'user',
      known: this.knownProperties(['user']),
      tagTypes: false,
      directory: true,
      hidden: (row) => isHidden(req, String(row.props.id)) || !this.tenant.existedAt(String(row.props.id), asOf),
    });
  }

  private getUser({ req, params }: Call): SimResponse {
    const user = this.requireUser(req, params[0]);
    return this.entity(req, user, 'user', 'users', this.knownProperties(['user']));
  }

  private ownedObjects({ req, params }: Call, groupsOnly: boolean): SimResponse {
    this.requireUser(req, params[0]);
    const owned = this.tenant.ownedObjects(params[0]).filter((e) => !groupsOnly || e.kind === 'group');
    if (groupsOnly) {
      return this.list(req, { ...this.directorySpec(this.directoryRows(owned), ['group'], 'groups'), typeName: 'group' });
    }
    return this.list(req, this.directorySpec(this.directoryRows(owned), ['group', 'servicePrincipal']));
  }

  /**
   * memberOf (direct; api-reference/v1.0/api/user-list-memberof.md) or transitiveMemberOf (groups through nested
   * groups and directory roles held through role-assignable groups; api-reference/v1.0/api/user-list-transitivememberof.md).
   */
  private memberOf({ req, params }: Call, cast: 'group' | 'directoryRole' | undefined, transitive: boolean): SimResponse {
    this.requireUser(req, params[0]);
    const asOf = this.indexTime(req);
    const all = transitive ? this.tenant.transitiveMemberOf(params[0], asOf) : this.tenant.memberOf(params[0], asOf);
    const entries = all.filter((e) => !cast || e.kind === cast);
    if (cast) {
      return this.list(req, {
        ...this.directorySpec(this.directoryRows(entries), [cast], cast === 'group' ? 'groups' : 'directoryRoles'),
        typeName: cast,
      });
    }
    return this.list(req, this.directorySpec(this.directoryRows(entries), ['group', 'directoryRole']));
  }

  /** POST /users|directoryObjects/{id}/checkMemberGroups (api-reference/v1.0/api/directoryobject-checkmembergroups.md). */
  private checkMemberGroups({ req, params }: Call, kind: 'user' | 'any'): SimResponse {
    const id = params[0];
    if (kind === 'user') {
      this.requireUser(req, id);
    } else {
      this.requireGuid(id);
      const entry = this.tenant.findObject(id);
      if (!entry || entry.kind === 'directoryRole' || isHidden(req, id)) throw notFound(id);
    }
    const body = req.body;
    if (!isJsonObject(body) || !Array.isArray(body.groupIds) || body.groupIds.some((g) => typeof g !== 'string')) {
      throw badRequest("The request body must have a 'groupIds' collection of strings.", 'Request_BadRequest');
    }
    const groupIds = body.groupIds as string[];
    if (groupIds.length > MAX_CHECK_GROUPS) {
      throw badRequest(`At most ${MAX_CHECK_GROUPS} groups can be checked per request.`, 'Request_BadRequest');
    }
    for (const g of groupIds) if (!GUID_PATTERN.test(g)) throw invalidObjectId(g);
    const memberOf = new Set(this.tenant.transitiveGroupIds(id, this.indexTime(req)));
    return ok({
      '@odata.context': `${METADATA_URL}#Collection(Edm.String)`,
      value: groupIds.filter((g) => memberOf.has(g.toLowerCase())),
    });
  }

  private appRoleAssignmentList(req: SimRequest, items: JsonObject[], context: string): SimResponse {
    return this.list(req, {
      rows: items.map((props) => ({ kind: 'appRoleAssignment', props })),
      context,
      typeName: 'appRoleAssignment',
      known: new Set(APP_ROLE_ASSIGNMENT_PROPERTIES),
      tagTypes: false,
      directory: true,
    });
  }

  private userAppRoleAssignments({ req, params }: Call): SimResponse {
    const user = this.requireUser(req, params[0]);
    const id = String(user.id);
    return this.appRoleAssignmentList(req, this.tenant.appRoleAssignmentsOf(id), `users('${id}')/appRoleAssignments`);
  }

  // ---- groups ----------------------------------------------------------------------

  private getGroup({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    const known = this.knownProperties(['group']);
    const select = this.selectFor(req, known, 'group');
    const expand = parseExpand(queryValue(req.query, '$expand'));
    const body: JsonObject = {};
    const expandContext: string[] = [];
    const result = project(group, select);
    for (const item of expand) {
      const relation = item.property.toLowerCase();
      if (relation !== 'owners' && relation !== 'members') {
        throw badRequest(
          `Parsing OData Select and Expand failed: Could not find a property named '${item.property}' on type 'microsoft.graph.group'.`,
        );
      }
      const entries = this.relationEntries(req, group, relation);
      const innerKnown = this.knownProperties(['user', 'group', 'servicePrincipal']);
      const innerSelect = item.select ? resolveSelect(item.select, innerKnown, 'directoryObject') : undefined;
      result[relation] = entries
        .slice(0, MAX_EXPAND)
        .map((e) => project(e.props, innerSelect, innerSelect ? undefined : defaultsFor(e.kind), odataType(e.kind)));
      expandContext.push(innerSelect ? `${relation}(${innerSelect.join(',')})` : `${relation}()`);
    }
    const selectPart = [...(select ?? []), ...expandContext];
    body['@odata.context'] = `${METADATA_URL}#groups${selectPart.length ? `(${selectPart.join(',')})` : ''}/$entity`;
    return ok({ ...body, ...result });
  }

  /** Resolves a reference URL such as https://graph.microsoft.com/v1.0/directoryObjects/{id} to an object id. */
  private resolveReference(req: SimRequest, value: unknown, badFormat: () => GraphError): string {
    const id = this.referencedId(value, badFormat);
    if (isHidden(req, id)) throw lagRefusal(req, id);
    return id;
  }

  private referencedId(value: unknown, badFormat: () => GraphError): string {
    if (typeof value !== 'string') throw badFormat();
    const m = /(?:^|\/)(directoryObjects|users|groups|servicePrincipals)\/([^/?#]+)\/?$/i.exec(value.trim());
    if (!m) throw badFormat();
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      throw badFormat();
    }
    if (GUID_PATTERN.test(id)) return id;
    if (m[1].toLowerCase() === 'users') {
      const user = this.tenant.findUser(id);
      if (user) return String(user.id);
      throw notFound(id);
    }
    throw invalidObjectId(id);
  }

  /**
   * Member writes on a role-assignable group also need RoleManagement.ReadWrite.Directory
   * (api-reference/v1.0/api/group-post-members.md; permissions.md note 10).
   */
  private requireRoleAssignableGrant(group: JsonObject): void {
    if (group.isAssignableToRole === true && !this.context.grant().has(ROLE_ASSIGNABLE_GROUP_WRITE)) throw insufficientPrivileges();
  }

  private patchGroup({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    if (isJsonObject(req.body) && Object.keys(req.body).some((k) => /^members@odata\.bind$/i.test(k))) {
      this.requireRoleAssignableGrant(group);
    }
    if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON object.');
    const body = req.body;
    const binds: Array<{ relation: 'members' | 'owners'; ids: string[] }> = [];
    const changes: JsonObject = {};
    for (const [key, value] of Object.entries(body)) {
      const bind = /^(members|owners)@odata\.bind$/i.exec(key);
      if (bind) {
        const relation = bind[1].toLowerCase() as 'members' | 'owners';
        if (!Array.isArray(value)) throw badRequest(`The value of '${key}' must be an array of URLs.`, 'Request_BadRequest');
        if (value.length > MAX_BIND) {
          throw badRequest(
            `The number of references in '${key}' exceeds the limit of ${MAX_BIND} per request.`,
            'Request_BadRequest',
          );
        }
        const badFormat = (): GraphError =>
          badRequest(`Invalid URL format specified in @odata.bind for ${relation}`, 'Request_BadRequest');
        binds.push({ relation, ids: value.map((v) => this.resolveReference(req, v, badFormat)) });
      } else if (WRITABLE_GROUP_PROPERTIES.has(key)) {
        changes[key] = value;
      } else if (key === '@odata.type') {
        continue;
      } else {
        throw badRequest(`Property '${key}' is read-only or does not exist on type 'microsoft.graph.group'.`, 'Request_BadRequest');
      }
    }
    for (const b of binds) this.tenant.addReferences(b.relation, params[0], b.ids, false);
    for (const b of binds) this.tenant.addReferences(b.relation, params[0], b.ids, true);
    if (Object.keys(changes).length > 0) this.tenant.updateGroupProperties(params[0], changes);
    return noContent();
  }

  private groupAppRoleAssignments({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    const id = String(group.id);
    return this.appRoleAssignmentList(req, this.tenant.appRoleAssignmentsOf(id), `groups('${id}')/appRoleAssignments`);
  }

  /** A group's members or owners as this request sees them (index lag; owners unlisted for synced/Exchange groups). */
  private relationEntries(req: SimRequest, group: JsonObject, relation: 'members' | 'owners'): DirectoryEntry[] {
    const id = String(group.id);
    const asOf = this.indexTime(req);
    if (relation === 'members') return this.tenant.groupMembers(id, asOf);
    return ownersUnlisted(group) ? [] : this.tenant.groupOwners(id, asOf);
  }

  private groupRelation({ req, params }: Call, relation: 'members' | 'owners'): SimResponse {
    const group = this.requireGroup(params[0]);
    const entries = this.relationEntries(req, group, relation);
    const spec = this.directorySpec(this.directoryRows(entries), ['user', 'group', 'servicePrincipal']);
    return this.list(req, { ...spec, filterIsAdvanced: true });
  }

  private ownerRefs({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    const spec = this.directorySpec(this.directoryRows(this.relationEntries(req, group, 'owners')), ['user', 'servicePrincipal']);
    const listed = this.list(req, { ...spec, known: new Set(['id']) });
    const body = listed.body as JsonObject;
    const typeNames: Record<string, string> = { user: 'User', group: 'Group', servicePrincipal: 'ServicePrincipal' };
    const value = Array.isArray(body.value) ? body.value : [];
    body['@odata.context'] = `${METADATA_URL}#directoryObjects`;
    body.value = value.map((item) => {
      const obj = item as JsonObject;
      const kind = String(obj['@odata.type']).replace('#microsoft.graph.', '');
      return {
        '@odata.id': `https://graph.microsoft.com/v2/${this.tenant.id}/directoryObjects/${String(obj.id)}/Microsoft.DirectoryServices.${typeNames[kind] ?? 'User'}`,
      };
    });
    return listed;
  }

  private addRef({ req, params }: Call, relation: 'members' | 'owners'): SimResponse {
    const group = this.requireGroup(params[0]);
    if (relation === 'members') this.requireRoleAssignableGrant(group);
    if (!isJsonObject(req.body) || typeof req.body['@odata.id'] !== 'string') {
      throw badRequest("The request body must contain an '@odata.id' reference.", 'Request_BadRequest');
    }
    const reference = req.body['@odata.id'];
    const id = this.resolveReference(req, reference, () => invalidObjectId(reference));
    this.tenant.addReferences(relation, params[0], [id]);
    return noContent();
  }

  /**
   * DELETE /groups/{id}/members/{id}/$ref (api-reference/v1.0/api/group-delete-members.md): 204; 404 when the
   * object is not a member; refused like adds for dynamic, Exchange and synced groups.
   */
  private removeMemberRef({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    this.requireRoleAssignableGrant(group);
    this.tenant.assertMembersWritable(params[0]);
    this.requireGuid(params[1]);
    if (isHidden(req, params[1])) throw lagRefusal(req, params[1]);
    this.tenant.removeMember(params[0], params[1]);
    return noContent();
  }

  /** GET /users/{id}/sponsors (api-reference/v1.0/api/user-list-sponsors.md). */
  private sponsors({ req, params }: Call): SimResponse {
    if (!this.tenant.findUser(params[0])) throw notFound(params[0]);
    return this.list(req, this.directorySpec(this.directoryRows(this.tenant.sponsorsOf(params[0])), ['user', 'group']));
  }

  /** POST /users/{id}/sponsors/$ref, DELETE /users/{id}/sponsors/{id}/$ref (user-post-sponsors.md, user-delete-sponsors.md): 204. */
  private sponsorRef({ req, params }: Call, op: 'add' | 'remove'): SimResponse {
    if (!this.tenant.findUser(params[0])) throw notFound(params[0]);
    if (op === 'remove') {
      this.tenant.removeSponsor(params[0], params[1]);
      return noContent();
    }
    if (!isJsonObject(req.body) || typeof req.body['@odata.id'] !== 'string') {
      throw badRequest("The request body must contain an '@odata.id' reference.", 'Request_BadRequest');
    }
    const reference = req.body['@odata.id'];
    this.tenant.addSponsor(params[0], this.resolveReference(req, reference, () => invalidObjectId(reference)));
    return noContent();
  }

  private removeOwnerRef({ params }: Call): SimResponse {
    this.requireGroup(params[0]);
    this.requireGuid(params[1]);
    this.tenant.removeOwner(params[0], params[1]);
    return noContent();
  }

  private ownerAsUser({ req, params }: Call): SimResponse {
    const group = this.requireGroup(params[0]);
    const owner = this.relationEntries(req, group, 'owners').find((e) => String(e.props.id) === params[1].toLowerCase());
    if (!owner || owner.kind !== 'user') throw notFound(params[1]);
    return this.entity(req, owner.props, 'user', 'users', this.knownProperties(['user']));
  }

  // ---- service principals ------------------------------------------------------------

  private listServicePrincipals({ req }: Call): SimResponse {
    return this.list(req, {
      rows: this.tenant.listServicePrincipals().map((props) => ({ kind: 'servicePrincipal', props })),
      context: 'servicePrincipals',
      typeName: 'servicePrincipal',
      known: this.knownProperties(['servicePrincipal']),
      tagTypes: false,
      directory: true,
    });
  }

  private getServicePrincipal({ req, params }: Call): SimResponse {
    const sp = this.requireServicePrincipal(params[0]);
    return this.entity(req, sp, 'servicePrincipal', 'servicePrincipals', this.knownProperties(['servicePrincipal']));
  }

  private appRoleAssignedTo({ req, params }: Call): SimResponse {
    const sp = this.requireServicePrincipal(params[0]);
    const id = String(sp.id);
    return this.appRoleAssignmentList(req, this.tenant.appRoleAssignedTo(id), `servicePrincipals('${id}')/appRoleAssignedTo`);
  }

  private assignAppRole({ req, params }: Call): SimResponse {
    const sp = this.requireServicePrincipal(params[0]);
    if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON object.');
    const body = req.body;
    const field = (name: string): string => {
      const v = body[name];
      if (typeof v !== 'string' || !GUID_PATTERN.test(v)) {
        throw badRequest(`Invalid value specified for property '${name}' of resource 'AppRoleAssignment'.`, 'Request_BadRequest');
      }
      return v;
    };
    const principalId = field('principalId');
    if (isHidden(req, principalId)) throw lagRefusal(req, principalId);
    const assignment = this.tenant.addAppRoleAssignment(params[0], {
      principalId,
      resourceId: field('resourceId'),
      appRoleId: field('appRoleId'),
    });
    const context = `${METADATA_URL}#servicePrincipals('${String(sp.id)}')/appRoleAssignedTo/$entity`;
    return ok({ '@odata.context': context, ...assignment }, 201);
  }

  // ---- directory roles -------------------------------------------------------------------

  private listDirectoryRoles({ req }: Call): SimResponse {
    return this.list(req, {
      rows: this.tenant.listDirectoryRoles().map((props) => ({ kind: 'directoryRole', props })),
      context: 'directoryRoles',
      typeName: 'directoryRole',
      known: this.knownProperties(['directoryRole']),
      tagTypes: false,
      directory: true,
    });
  }

  private directoryRoleMembers({ req, params }: Call): SimResponse {
    this.requireGuid(params[0]);
    if (!this.tenant.findDirectoryRole(params[0])) throw notFound(params[0]);
    const rows = this.directoryRows(this.tenant.roleMembersOf(params[0]));
    return this.list(req, this.directorySpec(rows, ['user', 'group', 'servicePrincipal']));
  }

  private roleAssignments({ req }: Call): SimResponse {
    return this.list(req, {
      rows: this.tenant.roleAssignments().map((props) => ({ kind: 'unifiedRoleAssignment', props })),
      context: 'roleManagement/directory/roleAssignments',
      typeName: 'unifiedRoleAssignment',
      known: new Set(ROLE_ASSIGNMENT_PROPERTIES),
      tagTypes: false,
      directory: false,
    });
  }

  // ---- tenant --------------------------------------------------------------------------

  private organization({ req }: Call): SimResponse {
    const org = this.tenant.getOrganization();
    return this.list(req, {
      rows: [{ kind: 'organization', props: org }],
      context: 'organization',
      typeName: 'organization',
      known: new Set(Object.keys(org)),
      tagTypes: false,
      directory: true,
    });
  }

  private authorizationPolicy({ req }: Call): SimResponse {
    const policy = this.tenant.getAuthorizationPolicy();
    return this.entity(req, policy, 'authorizationPolicy', 'policies/authorizationPolicy', new Set(Object.keys(policy)));
  }

  // ---- invitations ---------------------------------------------------------------------

  private invite({ req }: Call): SimResponse {
    if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON invitation object.');
    const body = req.body;
    const email = body.invitedUserEmailAddress;
    if (typeof email !== 'string' || email.trim() === '') {
      throw badRequest('The invitedUserEmailAddress property is required.');
    }
    const local = email.trim().split('@')[0] ?? '';
    if (
      !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()) ||
      /[~!#$%^&*()+=[\]{}\\/|;:"<>?,]/.test(local) ||
      /^[.-]|[.-]$/.test(local)
    ) {
      throw badRequest(`The invitedUserEmailAddress '${email}' is not a valid email address.`);
    }
    const redirect = body.inviteRedirectUrl;
    if (typeof redirect !== 'string' || redirect.trim() === '') {
      throw badRequest('The inviteRedirectUrl property is required.');
    }
    const invitedUserType = body.invitedUserType;
    if (invitedUserType !== undefined && invitedUserType !== null && invitedUserType !== 'Guest' && invitedUserType !== 'Member') {
      throw badRequest(`Invalid invitedUserType '${String(invitedUserType)}'.`);
    }
    const messageInfo = body.invitedUserMessageInfo;
    const sent = this.tenant.invite({
      invitedUserEmailAddress: email,
      inviteRedirectUrl: redirect,
      invitedUserDisplayName: typeof body.invitedUserDisplayName === 'string' ? body.invitedUserDisplayName : null,
      sendInvitationMessage: typeof body.sendInvitationMessage === 'boolean' ? body.sendInvitationMessage : false,
      invitedUserMessageInfo: isJsonObject(messageInfo) ? messageInfo : null,
      invitedUserType: typeof invitedUserType === 'string' ? invitedUserType : 'Guest',
      invitedUserSponsors: Array.isArray(body.invitedUserSponsors)
        ? body.invitedUserSponsors.map((s) => (isJsonObject(s) && typeof s.id === 'string' ? s.id : '')).filter((id) => id !== '')
        : [],
    });
    const response = ok({ '@odata.context': `${METADATA_URL}#invitations/$entity`, ...sent.invitation }, 201);
    if (sent.createdUser) response.createdObjects = [{ kind: 'user', id: sent.userId }];
    return response;
  }

  // ---- Teams apps (teamsApps.ts) ---------------------------------------------------------

  private caller(req: SimRequest): string | undefined {
    return callerAppId(headerValue(req.headers, 'authorization'), this.context.teamsApps.callingAppId);
  }

  private installedApps({ req, params }: Call): SimResponse {
    const user = this.requireUser(req, params[0]);
    return ok(this.context.teamsApps.list(String(user.id), req.query, this.context.grant(), this.caller(req)));
  }

  private installApp({ req, params }: Call): SimResponse {
    const user = this.requireUser(req, params[0]);
    this.context.teamsApps.install(String(user.id), req.body, this.context.grant(), this.caller(req));
    // userteamwork-post-installedapps.md: 201 Created, nothing in the body.
    return { status: 201, headers: {} };
  }

  private installationChat({ req, params }: Call): SimResponse {
    const user = this.requireUser(req, params[0]);
    return ok(this.context.teamsApps.chat(String(user.id), params[1], req.query, this.context.grant(), this.caller(req), this.tenant.id));
  }
}
