import { invalidObjectId, notFound, type GraphError } from '../errors';
import type { JsonObject } from '../json';
import { ROLE_ASSIGNABLE_GROUP_WRITE } from '../permissions';
import type { SimRequest, SimResponse } from '../pipeline';
import type { Tenant } from '../tenant';
import { GUID_PATTERN, type DirectoryEntry, type ObjectKind } from '../tenantShapes';
import { entityResponse, listResponse, type ListSpec, type Paging, type Row } from './query';
import { insufficientPrivileges, isEventual, isHidden, lagRefusal, ownersUnlisted, type ApiContext } from './support';

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

/**
 * What the route tables share: the tenant, the simulator's context, lookups that refuse like Graph (404, invalid
 * object id, lag), and collections and entities answered with this API's paging.
 */
export class Resources {
  constructor(
    readonly tenant: Tenant,
    readonly context: ApiContext,
    private readonly paging: Paging,
  ) {}

  /** The time the lagging advanced-query index has reached, for requests that read from it; else undefined. */
  indexTime(req: SimRequest): number | undefined {
    const lag = this.context.indexLag();
    return isEventual(req) && lag > 0 ? this.context.now() - lag : undefined;
  }

  knownProperties(kinds: string[]): Set<string> {
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

  requireUser(req: SimRequest, id: string): JsonObject {
    const user = this.tenant.findUser(id);
    if (!user || isHidden(req, String(user.id))) throw notFound(id);
    return user;
  }

  requireGuid(id: string): void {
    if (!GUID_PATTERN.test(id)) throw invalidObjectId(id);
  }

  requireGroup(id: string): JsonObject {
    this.requireGuid(id);
    const group = this.tenant.findGroup(id);
    if (!group) throw notFound(id);
    return group;
  }

  requireServicePrincipal(id: string): JsonObject {
    this.requireGuid(id);
    const sp = this.tenant.findServicePrincipal(id);
    if (!sp) throw notFound(id);
    return sp;
  }

  list(req: SimRequest, spec: ListSpec): SimResponse {
    return listResponse(req, spec, this.paging);
  }

  entity(req: SimRequest, props: JsonObject, kind: string, context: string, known: Set<string>): SimResponse {
    return entityResponse(req, props, kind, context, known);
  }

  directoryRows(entries: DirectoryEntry[]): Row[] {
    return entries.map((e) => ({ kind: e.kind, props: e.props }));
  }

  directorySpec(rows: Row[], kinds: ObjectKind[], context = 'directoryObjects'): ListSpec {
    return {
      rows,
      context,
      typeName: 'directoryObject',
      known: this.knownProperties(kinds),
      tagTypes: true,
      directory: true,
    };
  }

  /** A collection of one kind of object (e.g. `/users`): items without `@odata.type`, properties of that kind. */
  kindSpec(
    kind: string,
    items: JsonObject[],
    context: string,
    known = this.knownProperties([kind]),
    directory = true,
  ): ListSpec {
    return {
      rows: items.map((props) => ({ kind, props })),
      context,
      typeName: kind,
      known,
      tagTypes: false,
      directory,
    };
  }

  appRoleAssignmentList(req: SimRequest, items: JsonObject[], context: string): SimResponse {
    return this.list(req, this.kindSpec('appRoleAssignment', items, context, new Set(APP_ROLE_ASSIGNMENT_PROPERTIES)));
  }

  /** A group's members or owners as this request sees them (index lag; owners unlisted for synced/Exchange groups). */
  relationEntries(req: SimRequest, group: JsonObject, relation: 'members' | 'owners'): DirectoryEntry[] {
    const id = String(group.id);
    const asOf = this.indexTime(req);
    if (relation === 'members') return this.tenant.groupMembers(id, asOf);
    return ownersUnlisted(group) ? [] : this.tenant.groupOwners(id, asOf);
  }

  /** Resolves a reference URL such as https://graph.microsoft.com/v1.0/directoryObjects/{id} to an object id. */
  resolveReference(req: SimRequest, value: unknown, badFormat: () => GraphError): string {
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
  requireRoleAssignableGrant(group: JsonObject): void {
    if (group.isAssignableToRole === true && !this.context.grant().has(ROLE_ASSIGNABLE_GROUP_WRITE)) {
      throw insufficientPrivileges();
    }
  }
}
