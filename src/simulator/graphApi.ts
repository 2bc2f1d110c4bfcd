import { badRequest, methodNotAllowed, notFound, segmentNotFound } from './errors';
import { permissionRow, type PermissionRow } from './permissions';
import { versionSegments, type Handler } from './pipeline';
import { groupRoutes } from './api/groups';
import { invitationRoutes } from './api/invitations';
import { organizationRoutes } from './api/organization';
import { Resources } from './api/resources';
import { servicePrincipalRoutes } from './api/servicePrincipals';
import { insufficientPrivileges, type ApiContext, type RouteHandler, type RouteTable } from './api/support';
import { teamworkRoutes } from './api/teamwork';
import { userRoutes } from './api/users';
import type { Tenant } from './tenant';

/* The router of the Graph v1.0 endpoints; the handlers are in the route tables of `api/`, one file per resource. */

interface Route {
  method: string;
  pattern: string[];
  permissions: PermissionRow;
  handle: RouteHandler;
}

function segmentKey(segment: string): string {
  const cast = /^(?:microsoft\.)?graph\.([A-Za-z]+)$/i.exec(segment);
  if (cast) return `cast:${cast[1].toLowerCase()}`;
  return segment.toLowerCase();
}

/** `directoryRoles(roleTemplateId='{id}')` (api-reference/v1.0/api/directoryrole-list-members.md). */
const ROLE_TEMPLATE_SEGMENT = /^directoryRoles\(roleTemplateId='([^']*)'\)$/i;

function matchSegment(patternSeg: string, key: string): boolean {
  return patternSeg === '{id}' ? !key.startsWith('cast:') && key !== '$ref' : patternSeg === key;
}

/** `endpoint` as in the permission table, e.g. 'GET /users/{id}/memberOf/microsoft.graph.group'. */
function route(endpoint: string, handle: RouteHandler): Route {
  const permissions = permissionRow(endpoint);
  if (!permissions) throw new Error(`No permission row for ${endpoint}`);
  const [method, path] = endpoint.split(' ');
  const pattern = path
    .split('/')
    .filter((seg) => seg.length > 0)
    .map((seg) => (seg === '{id}' ? seg : segmentKey(seg)));
  return { method, pattern, permissions, handle };
}

function decodeSegments(path: string): string[] {
  return versionSegments(path, (s) => {
    throw badRequest(`Invalid URL segment '${s}'.`);
  });
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
    pageSize: number,
    maxPageSize: number,
    private readonly context: ApiContext,
  ) {
    const resources = new Resources(tenant, context, { pageSize, maxPageSize });
    const tables: RouteTable[] = [
      userRoutes(resources),
      groupRoutes(resources),
      servicePrincipalRoutes(resources),
      organizationRoutes(resources),
      invitationRoutes(resources),
      teamworkRoutes(resources),
    ];
    this.routes = tables.flat().map(([endpoint, handle]) => route(endpoint, handle));
  }

  /** Endpoints served, as named in the permission table. */
  endpoints(): string[] {
    return this.routes.map((r) => r.permissions.endpoint);
  }

  /** Answers one request whose path starts with /v1.0 (the $batch endpoint is served elsewhere). */
  readonly handle: Handler = async (req) => {
    const segments = decodeSegments(req.path);
    if (segments.length === 0) throw segmentNotFound('');
    const byTemplate = ROLE_TEMPLATE_SEGMENT.exec(segments[0]);
    if (byTemplate) segments.splice(0, 1, 'directoryRoles', this.roleIdByTemplate(byTemplate[1]));
    const keys = segments.map(segmentKey);
    const matching = this.routes.filter(
      (r) => r.pattern.length === keys.length && r.pattern.every((p, i) => matchSegment(p, keys[i])),
    );
    if (matching.length === 0) throw segmentNotFound(this.unknownSegment(segments, keys));
    const found = matching.find((m) => m.method === req.method);
    if (!found) throw methodNotAllowed();
    // Authorization comes first: Graph refuses a call the app may not make before looking anything up.
    if (!this.context.grant().allows(found.permissions)) throw insufficientPrivileges();
    const params = found.pattern.flatMap((p, i) => (p === '{id}' ? [segments[i]] : []));
    return found.handle({ req, params });
  };

  /** The id of the activated role with this template id; 404 when the role is not activated. */
  private roleIdByTemplate(templateId: string): string {
    const role = this.tenant.listDirectoryRoles().find((r) => String(r.roleTemplateId) === templateId.toLowerCase());
    if (!role) throw notFound(templateId);
    return String(role.id);
  }

  private unknownSegment(segments: string[], keys: string[]): string {
    for (let i = 0; i < keys.length; i += 1) {
      const prefixOk = this.routes.some(
        (r) => r.pattern.length > i && r.pattern.slice(0, i + 1).every((p, j) => matchSegment(p, keys[j])),
      );
      if (!prefixOk) return segments[i];
    }
    return segments[segments.length - 1];
  }
}
