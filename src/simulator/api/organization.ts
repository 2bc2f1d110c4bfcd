import { notFound } from '../errors';
import type { SimResponse } from '../pipeline';
import type { Resources } from './resources';
import type { Call, RouteTable } from './support';

const ROLE_ASSIGNMENT_PROPERTIES = [
  'id',
  'directoryScopeId',
  'principalId',
  'roleDefinitionId',
  'appScopeId',
  'condition',
];

function listDirectoryRoles(r: Resources, { req }: Call): SimResponse {
  return r.list(req, r.kindSpec('directoryRole', r.tenant.listDirectoryRoles(), 'directoryRoles'));
}

function directoryRoleMembers(r: Resources, { req, params }: Call): SimResponse {
  r.requireGuid(params[0]);
  if (!r.tenant.findDirectoryRole(params[0])) throw notFound(params[0]);
  const rows = r.directoryRows(r.tenant.roleMembersOf(params[0]));
  return r.list(req, r.directorySpec(rows, ['user', 'group', 'servicePrincipal']));
}

function roleAssignments(r: Resources, { req }: Call): SimResponse {
  const context = 'roleManagement/directory/roleAssignments';
  const known = new Set(ROLE_ASSIGNMENT_PROPERTIES);
  return r.list(req, r.kindSpec('unifiedRoleAssignment', r.tenant.roleAssignments(), context, known, false));
}

// ---- tenant --------------------------------------------------------------------------

function organization(r: Resources, { req }: Call): SimResponse {
  const org = r.tenant.getOrganization();
  return r.list(req, r.kindSpec('organization', [org], 'organization', new Set(Object.keys(org))));
}

function authorizationPolicy(r: Resources, { req }: Call): SimResponse {
  const policy = r.tenant.getAuthorizationPolicy();
  return r.entity(req, policy, 'authorizationPolicy', 'policies/authorizationPolicy', new Set(Object.keys(policy)));
}

/** Directory roles, role assignments, the organization and its authorization policy. */
export function organizationRoutes(r: Resources): RouteTable {
  return [
    ['GET /directoryRoles', (c) => listDirectoryRoles(r, c)],
    ['GET /directoryRoles/{id}/members', (c) => directoryRoleMembers(r, c)],
    ['GET /roleManagement/directory/roleAssignments', (c) => roleAssignments(r, c)],
    ['GET /organization', (c) => organization(r, c)],
    ['GET /policies/authorizationPolicy', (c) => authorizationPolicy(r, c)],
  ];
}
