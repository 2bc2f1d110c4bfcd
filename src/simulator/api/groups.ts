import { badRequest, invalidObjectId, notFound, type GraphError } from '../errors';
import { isJsonObject, type JsonObject } from '../json';
import { METADATA_URL, parseExpand, project, resolveSelect } from '../odata';
import { queryValue, type SimResponse } from '../pipeline';
import { selectFor } from './query';
import type { Resources } from './resources';
import { defaultsFor, isHidden, lagRefusal, noContent, odataType, ok, type Call, type RouteTable } from './support';

const MAX_EXPAND = 20;
const MAX_BIND = 20;

const WRITABLE_GROUP_PROPERTIES = new Set([
  'description',
  'displayName',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'visibility',
]);

function getGroup(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  const known = r.knownProperties(['group']);
  const select = selectFor(req, known, 'group');
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
    const entries = r.relationEntries(req, group, relation);
    const innerKnown = r.knownProperties(['user', 'group', 'servicePrincipal']);
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

function patchGroup(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  if (isJsonObject(req.body) && Object.keys(req.body).some((k) => /^members@odata\.bind$/i.test(k))) {
    r.requireRoleAssignableGrant(group);
  }
  if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON object.');
  const body = req.body;
  const binds: Array<{ relation: 'members' | 'owners'; ids: string[] }> = [];
  const changes: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    const bind = /^(members|owners)@odata\.bind$/i.exec(key);
    if (bind) {
      const relation = bind[1].toLowerCase() as 'members' | 'owners';
      if (!Array.isArray(value)) {
        throw badRequest(`The value of '${key}' must be an array of URLs.`, 'Request_BadRequest');
      }
      if (value.length > MAX_BIND) {
        throw badRequest(
          `The number of references in '${key}' exceeds the limit of ${MAX_BIND} per request.`,
          'Request_BadRequest',
        );
      }
      const badFormat = (): GraphError =>
        badRequest(`Invalid URL format specified in @odata.bind for ${relation}`, 'Request_BadRequest');
      binds.push({ relation, ids: value.map((v) => r.resolveReference(req, v, badFormat)) });
    } else if (WRITABLE_GROUP_PROPERTIES.has(key)) {
      changes[key] = value;
    } else if (key === '@odata.type') {
      continue;
    } else {
      throw badRequest(
        `Property '${key}' is read-only or does not exist on type 'microsoft.graph.group'.`,
        'Request_BadRequest',
      );
    }
  }
  for (const b of binds) r.tenant.addReferences(b.relation, params[0], b.ids, false);
  for (const b of binds) r.tenant.addReferences(b.relation, params[0], b.ids, true);
  if (Object.keys(changes).length > 0) r.tenant.updateGroupProperties(params[0], changes);
  return noContent();
}

function groupAppRoleAssignments(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  const id = String(group.id);
  return r.appRoleAssignmentList(req, r.tenant.appRoleAssignmentsOf(id), `groups('${id}')/appRoleAssignments`);
}

function groupRelation(r: Resources, { req, params }: Call, relation: 'members' | 'owners'): SimResponse {
  const group = r.requireGroup(params[0]);
  const entries = r.relationEntries(req, group, relation);
  const spec = r.directorySpec(r.directoryRows(entries), ['user', 'group', 'servicePrincipal']);
  return r.list(req, { ...spec, filterIsAdvanced: true });
}

function ownerRefs(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  const spec = r.directorySpec(r.directoryRows(r.relationEntries(req, group, 'owners')), ['user', 'servicePrincipal']);
  const listed = r.list(req, { ...spec, known: new Set(['id']) });
  const body = listed.body as JsonObject;
  const typeNames: Record<string, string> = { user: 'User', group: 'Group', servicePrincipal: 'ServicePrincipal' };
  const value = Array.isArray(body.value) ? body.value : [];
  body['@odata.context'] = `${METADATA_URL}#directoryObjects`;
  body.value = value.map((item) => {
    const obj = item as JsonObject;
    const kind = String(obj['@odata.type']).replace('#microsoft.graph.', '');
    return {
      '@odata.id':
        `https://graph.microsoft.com/v2/${r.tenant.id}/directoryObjects/${String(obj.id)}` +
        `/Microsoft.DirectoryServices.${typeNames[kind] ?? 'User'}`,
    };
  });
  return listed;
}

function addRef(r: Resources, { req, params }: Call, relation: 'members' | 'owners'): SimResponse {
  const group = r.requireGroup(params[0]);
  if (relation === 'members') r.requireRoleAssignableGrant(group);
  if (!isJsonObject(req.body) || typeof req.body['@odata.id'] !== 'string') {
    throw badRequest("The request body must contain an '@odata.id' reference.", 'Request_BadRequest');
  }
  const reference = req.body['@odata.id'];
  const id = r.resolveReference(req, reference, () => invalidObjectId(reference));
  r.tenant.addReferences(relation, params[0], [id]);
  return noContent();
}

/**
 * DELETE /groups/{id}/members/{id}/$ref (api-reference/v1.0/api/group-delete-members.md): 204; 404 when the
 * object is not a member; refused like adds for dynamic, Exchange and synced groups.
 */
function removeMemberRef(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  r.requireRoleAssignableGrant(group);
  r.tenant.assertMembersWritable(params[0]);
  r.requireGuid(params[1]);
  if (isHidden(req, params[1])) throw lagRefusal(req, params[1]);
  r.tenant.removeMember(params[0], params[1]);
  return noContent();
}

function removeOwnerRef(r: Resources, { params }: Call): SimResponse {
  r.requireGroup(params[0]);
  r.requireGuid(params[1]);
  r.tenant.removeOwner(params[0], params[1]);
  return noContent();
}

function ownerAsUser(r: Resources, { req, params }: Call): SimResponse {
  const group = r.requireGroup(params[0]);
  const owner = r.relationEntries(req, group, 'owners').find((e) => String(e.props.id) === params[1].toLowerCase());
  if (!owner || owner.kind !== 'user') throw notFound(params[1]);
  return r.entity(req, owner.props, 'user', 'users', r.knownProperties(['user']));
}

/** Groups: reads with $expand, PATCH with binds, members and owners and their references. */
export function groupRoutes(r: Resources): RouteTable {
  return [
    ['GET /groups/{id}', (c) => getGroup(r, c)],
    ['PATCH /groups/{id}', (c) => patchGroup(r, c)],
    ['GET /groups/{id}/appRoleAssignments', (c) => groupAppRoleAssignments(r, c)],
    ['GET /groups/{id}/members', (c) => groupRelation(r, c, 'members')],
    ['POST /groups/{id}/members/$ref', (c) => addRef(r, c, 'members')],
    ['DELETE /groups/{id}/members/{id}/$ref', (c) => removeMemberRef(r, c)],
    ['GET /groups/{id}/owners', (c) => groupRelation(r, c, 'owners')],
    ['GET /groups/{id}/owners/$ref', (c) => ownerRefs(r, c)],
    ['POST /groups/{id}/owners/$ref', (c) => addRef(r, c, 'owners')],
    ['GET /groups/{id}/owners/{id}/microsoft.graph.user', (c) => ownerAsUser(r, c)],
    ['DELETE /groups/{id}/owners/{id}/$ref', (c) => removeOwnerRef(r, c)],
  ];
}
