import { badRequest, invalidObjectId, notFound } from '../errors';
import { isJsonObject } from '../json';
import { METADATA_URL } from '../odata';
import type { SimResponse } from '../pipeline';
import { GUID_PATTERN } from '../tenantShapes';
import type { Resources } from './resources';
import { isHidden, noContent, ok, type Call, type RouteTable } from './support';

/** directoryobject-checkmembergroups.md: "Up to 20 groups may be specified." */
const MAX_CHECK_GROUPS = 20;

function listUsers(r: Resources, { req }: Call): SimResponse {
  const asOf = r.indexTime(req);
  return r.list(req, {
    ...r.kindSpec('user', r.tenant.listUsers(), 'users'),
    hidden: (row) => isHidden(req, String(row.props.id)) || !r.tenant.existedAt(String(row.props.id), asOf),
  });
}

function getUser(r: Resources, { req, params }: Call): SimResponse {
  const user = r.requireUser(req, params[0]);
  return r.entity(req, user, 'user', 'users', r.knownProperties(['user']));
}

function ownedObjects(r: Resources, { req, params }: Call, groupsOnly: boolean): SimResponse {
  r.requireUser(req, params[0]);
  const owned = r.tenant.ownedObjects(params[0]).filter((e) => !groupsOnly || e.kind === 'group');
  if (groupsOnly) {
    return r.list(req, { ...r.directorySpec(r.directoryRows(owned), ['group'], 'groups'), typeName: 'group' });
  }
  return r.list(req, r.directorySpec(r.directoryRows(owned), ['group', 'servicePrincipal']));
}

/**
 * memberOf (direct; api-reference/v1.0/api/user-list-memberof.md) or transitiveMemberOf (groups through nested
 * groups and directory roles held through role-assignable groups;
 * api-reference/v1.0/api/user-list-transitivememberof.md).
 */
function memberOf(
  r: Resources,
  { req, params }: Call,
  cast: 'group' | 'directoryRole' | undefined,
  transitive: boolean,
): SimResponse {
  r.requireUser(req, params[0]);
  const asOf = r.indexTime(req);
  const all = transitive ? r.tenant.transitiveMemberOf(params[0], asOf) : r.tenant.memberOf(params[0], asOf);
  const entries = all.filter((e) => !cast || e.kind === cast);
  if (cast) {
    return r.list(req, {
      ...r.directorySpec(r.directoryRows(entries), [cast], cast === 'group' ? 'groups' : 'directoryRoles'),
      typeName: cast,
    });
  }
  return r.list(req, r.directorySpec(r.directoryRows(entries), ['group', 'directoryRole']));
}

/**
 * POST /users|directoryObjects/{id}/checkMemberGroups
 * (api-reference/v1.0/api/directoryobject-checkmembergroups.md).
 */
function checkMemberGroups(r: Resources, { req, params }: Call, kind: 'user' | 'any'): SimResponse {
  const id = params[0];
  if (kind === 'user') {
    r.requireUser(req, id);
  } else {
    r.requireGuid(id);
    const entry = r.tenant.findObject(id);
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
  const memberOf = new Set(r.tenant.transitiveGroupIds(id, r.indexTime(req)));
  return ok({
    '@odata.context': `${METADATA_URL}#Collection(Edm.String)`,
    value: groupIds.filter((g) => memberOf.has(g.toLowerCase())),
  });
}

function userAppRoleAssignments(r: Resources, { req, params }: Call): SimResponse {
  const user = r.requireUser(req, params[0]);
  const id = String(user.id);
  return r.appRoleAssignmentList(req, r.tenant.appRoleAssignmentsOf(id), `users('${id}')/appRoleAssignments`);
}

/** GET /users/{id}/sponsors (api-reference/v1.0/api/user-list-sponsors.md). */
function sponsors(r: Resources, { req, params }: Call): SimResponse {
  if (!r.tenant.findUser(params[0])) throw notFound(params[0]);
  return r.list(req, r.directorySpec(r.directoryRows(r.tenant.sponsorsOf(params[0])), ['user', 'group']));
}

/**
 * POST /users/{id}/sponsors/$ref, DELETE /users/{id}/sponsors/{id}/$ref (user-post-sponsors.md,
 * user-delete-sponsors.md): 204.
 */
function sponsorRef(r: Resources, { req, params }: Call, op: 'add' | 'remove'): SimResponse {
  if (!r.tenant.findUser(params[0])) throw notFound(params[0]);
  if (op === 'remove') {
    r.tenant.removeSponsor(params[0], params[1]);
    return noContent();
  }
  if (!isJsonObject(req.body) || typeof req.body['@odata.id'] !== 'string') {
    throw badRequest("The request body must contain an '@odata.id' reference.", 'Request_BadRequest');
  }
  const reference = req.body['@odata.id'];
  r.tenant.addSponsor(
    params[0],
    r.resolveReference(req, reference, () => invalidObjectId(reference)),
  );
  return noContent();
}

/** Users and directory objects: reads, memberships, app role assignments, sponsors, checkMemberGroups. */
export function userRoutes(r: Resources): RouteTable {
  return [
    ['GET /users', (c) => listUsers(r, c)],
    ['GET /users/{id}', (c) => getUser(r, c)],
    ['GET /users/{id}/ownedObjects', (c) => ownedObjects(r, c, false)],
    ['GET /users/{id}/ownedObjects/microsoft.graph.group', (c) => ownedObjects(r, c, true)],
    ['GET /users/{id}/appRoleAssignments', (c) => userAppRoleAssignments(r, c)],
    ['GET /users/{id}/memberOf', (c) => memberOf(r, c, undefined, false)],
    ['GET /users/{id}/memberOf/microsoft.graph.group', (c) => memberOf(r, c, 'group', false)],
    ['GET /users/{id}/memberOf/microsoft.graph.directoryRole', (c) => memberOf(r, c, 'directoryRole', false)],
    ['GET /users/{id}/transitiveMemberOf', (c) => memberOf(r, c, undefined, true)],
    ['GET /users/{id}/transitiveMemberOf/microsoft.graph.group', (c) => memberOf(r, c, 'group', true)],
    ['GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole', (c) => memberOf(r, c, 'directoryRole', true)],
    ['GET /users/{id}/sponsors', (c) => sponsors(r, c)],
    ['POST /users/{id}/sponsors/$ref', (c) => sponsorRef(r, c, 'add')],
    ['DELETE /users/{id}/sponsors/{id}/$ref', (c) => sponsorRef(r, c, 'remove')],
    ['POST /users/{id}/checkMemberGroups', (c) => checkMemberGroups(r, c, 'user')],
    ['POST /directoryObjects/{id}/checkMemberGroups', (c) => checkMemberGroups(r, c, 'any')],
  ];
}
