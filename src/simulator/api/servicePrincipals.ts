import { badRequest } from '../errors';
import { isJsonObject } from '../json';
import { METADATA_URL } from '../odata';
import type { SimResponse } from '../pipeline';
import { GUID_PATTERN } from '../tenantShapes';
import type { Resources } from './resources';
import { isHidden, lagRefusal, ok, type Call, type RouteTable } from './support';

function listServicePrincipals(r: Resources, { req }: Call): SimResponse {
  return r.list(req, r.kindSpec('servicePrincipal', r.tenant.listServicePrincipals(), 'servicePrincipals'));
}

function getServicePrincipal(r: Resources, { req, params }: Call): SimResponse {
  const sp = r.requireServicePrincipal(params[0]);
  return r.entity(req, sp, 'servicePrincipal', 'servicePrincipals', r.knownProperties(['servicePrincipal']));
}

function appRoleAssignedTo(r: Resources, { req, params }: Call): SimResponse {
  const sp = r.requireServicePrincipal(params[0]);
  const id = String(sp.id);
  return r.appRoleAssignmentList(req, r.tenant.appRoleAssignedTo(id), `servicePrincipals('${id}')/appRoleAssignedTo`);
}

function assignAppRole(r: Resources, { req, params }: Call): SimResponse {
  const sp = r.requireServicePrincipal(params[0]);
  if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON object.');
  const body = req.body;
  const field = (name: string): string => {
    const v = body[name];
    if (typeof v !== 'string' || !GUID_PATTERN.test(v)) {
      throw badRequest(
        `Invalid value specified for property '${name}' of resource 'AppRoleAssignment'.`,
        'Request_BadRequest',
      );
    }
    return v;
  };
  const principalId = field('principalId');
  if (isHidden(req, principalId)) throw lagRefusal(req, principalId);
  const assignment = r.tenant.addAppRoleAssignment(params[0], {
    principalId,
    resourceId: field('resourceId'),
    appRoleId: field('appRoleId'),
  });
  const context = `${METADATA_URL}#servicePrincipals('${String(sp.id)}')/appRoleAssignedTo/$entity`;
  return ok({ '@odata.context': context, ...assignment }, 201);
}

/** Service principals and their app role assignments. */
export function servicePrincipalRoutes(r: Resources): RouteTable {
  return [
    ['GET /servicePrincipals', (c) => listServicePrincipals(r, c)],
    ['GET /servicePrincipals/{id}', (c) => getServicePrincipal(r, c)],
    ['GET /servicePrincipals/{id}/appRoleAssignedTo', (c) => appRoleAssignedTo(r, c)],
    ['POST /servicePrincipals/{id}/appRoleAssignedTo', (c) => assignAppRole(r, c)],
  ];
}
