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
import { headerValue, queryValue, type Handler, type SimRequest, type SimResponse } from './pipeline';
import { GUID_PATTERN, USER_DEFAULT_PROPERTIES, type DirectoryEntry, type ObjectKind, type Tenant } from './tenant';

export const JSON_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

const MAX_EXPAND = 20;
const MAX_BIND = 20;

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
}

interface Call {
  req: SimRequest;
  params: string[];
}

type RouteHandler = (call: Call) => SimResponse;

interface Route {
  method: string;
  pattern: string[];
  handle: RouteHandler;
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
  ) {
    const r = (method: string, pattern: string, handle: RouteHandler): Route => ({
      method,
      pattern: pattern.split('/').map((s) => (s === '{id}' ? s : s.toLowerCase())),
      handle,
    });
    this.routes = [
      r('GET', 'users', (c) => this.listUsers(c)),
      r('GET', 'users/{id}', (c) => this.getUser(c)),
      r('GET', 'users/{id}/ownedObjects', (c) => this.ownedObjects(c, false)),
      r('GET', 'users/{id}/ownedObjects/cast:group', (c) => this.ownedObjects(c, true)),
      r('GET', 'users/{id}/appRoleAssignments', (c) => this.userAppRoleAssignments(c)),
      r('GET', 'users/{id}/memberOf', (c) => this.memberOf(c, undefined)),
      r('GET', 'users/{id}/memberOf/cast:group', (c) => this.memberOf(c, 'group')),
      r('GET', 'users/{id}/memberOf/cast:directoryrole', (c) => this.memberOf(c, 'directoryRole')),
      r('GET', 'groups/{id}', (c) => this.getGroup(c)),
      r('PATCH', 'groups/{id}', (c) => this.patchGroup(c)),
      r('GET', 'groups/{id}/appRoleAssignments', (c) => this.groupAppRoleAssignments(c)),
      r('GET', 'groups/{id}/members', (c) => this.groupRelation(c, 'members')),
      r('POST', 'groups/{id}/members/$ref', (c) => this.addRef(c, 'members')),
      r('GET', 'groups/{id}/owners', (c) => this.groupRelation(c, 'owners')),
      r('GET', 'groups/{id}/owners/$ref', (c) => this.ownerRefs(c)),
      r('POST', 'groups/{id}/owners/$ref', (c) => this.addRef(c, 'owners')),
      r('GET', 'groups/{id}/owners/{id}/cast:user', (c) => this.ownerAsUser(c)),
      r('GET', 'servicePrincipals', (c) => this.listServicePrincipals(c)),
      r('GET', 'servicePrincipals/{id}', (c) => this.getServicePrincipal(c)),
      r('GET', 'servicePrincipals/{id}/appRoleAssignedTo', (c) => this.appRoleAssignedTo(c)),
      r('POST', 'servicePrincipals/{id}/appRoleAssignedTo', (c) => this.assignAppRole(c)),
      r('GET', 'directoryRoles', (c) => this.listDirectoryRoles(c)),
      r('GET', 'directoryRoles/{id}/members', (c) => this.directoryRoleMembers(c)),
      r('GET', 'roleManagement/directory/roleAssignments', (c) => this.roleAssignments(c)),
      r('GET', 'organization', (c) => this.organization(c)),
      r('GET', 'policies/authorizationPolicy', (c) => this.authorizationPolicy(c)),
      r('POST', 'invitations', (c) => this.invite(c)),
    ];
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
    const keys = segments.map(segmentKey);
    const matching = this.routes.filter(
      (route) => route.pattern.length === keys.length && route.pattern.every((p, i) => matchSegment(p, keys[i])),
    );
    if (matching.length === 0) throw segmentNotFound(this.unknownSegment(segments, keys));
    const route = matching.find((m) => m.method === req.method);
    if (!route) throw methodNotAllowed();
    const params = route.pattern.flatMap((p, i) => (p === '{id}' ? [segments[i]] : []));
    return route.handle({ req, params });
  };

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
    if (count && (eventual || !spec.directory)) body['@odata.count'] = rows.length;
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
    return this.list(req, {
      rows: this.tenant.listUsers().map((props) => ({ kind: 'user', props })),
      context: 'users',
      typeName: 'user',
      known: this.knownProperties(['user']),
      tagTypes: false,
      directory: true,
      hidden: (row) => isHidden(req, String(row.props.id)),
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

  private memberOf({ req, params }: Call, cast: 'group' | 'directoryRole' | undefined): SimResponse {
    this.requireUser(req, params[0]);
    const entries = this.tenant.memberOf(params[0]).filter((e) => !cast || e.kind === cast);
    if (cast) {
      return this.list(req, {
        ...this.directorySpec(this.directoryRows(entries), [cast], cast === 'group' ? 'groups' : 'directoryRoles'),
        typeName: cast,
      });
    }
    return this.list(req, this.directorySpec(this.directoryRows(entries), ['group', 'directoryRole']));
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
      const entries = relation === 'owners' ? this.tenant.groupOwners(params[0]) : this.tenant.groupMembers(params[0]);
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
    if (isHidden(req, id)) throw notFound(id);
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

  private patchGroup({ req, params }: Call): SimResponse {
    this.requireGroup(params[0]);
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

  private groupRelation({ req, params }: Call, relation: 'members' | 'owners'): SimResponse {
    this.requireGroup(params[0]);
    const entries = relation === 'members' ? this.tenant.groupMembers(params[0]) : this.tenant.groupOwners(params[0]);
    return this.list(req, this.directorySpec(this.directoryRows(entries), ['user', 'group', 'servicePrincipal']));
  }

  private ownerRefs({ req, params }: Call): SimResponse {
    this.requireGroup(params[0]);
    const spec = this.directorySpec(this.directoryRows(this.tenant.groupOwners(params[0])), ['user', 'servicePrincipal']);
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
    this.requireGroup(params[0]);
    if (!isJsonObject(req.body) || typeof req.body['@odata.id'] !== 'string') {
      throw badRequest("The request body must contain an '@odata.id' reference.", 'Request_BadRequest');
    }
    const reference = req.body['@odata.id'];
    const id = this.resolveReference(req, reference, () => invalidObjectId(reference));
    this.tenant.addReferences(relation, params[0], [id]);
    return noContent();
  }

  private ownerAsUser({ req, params }: Call): SimResponse {
    this.requireGroup(params[0]);
    const owner = this.tenant.groupOwners(params[0]).find((e) => String(e.props.id) === params[1].toLowerCase());
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
    if (isHidden(req, principalId)) throw notFound(principalId);
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
    });
    const response = ok({ '@odata.context': `${METADATA_URL}#invitations/$entity`, ...sent.invitation }, 201);
    if (sent.createdUser) response.createdObjects = [{ kind: 'user', id: sent.userId }];
    return response;
  }
}
