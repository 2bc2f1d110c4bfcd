import type { JsonObject, JsonValue } from './json';
import { RelationLog, type Relation } from './relationLog';
import type { TenantSeed } from './seed';
import {
  authorizationPolicyObject,
  directoryRoleObject,
  groupObject,
  newAssignmentId,
  organizationObject,
  servicePrincipalObject,
  userObject,
} from './tenantObjects';
import {
  DEFAULT_APP_ROLE_ID,
  base64url,
  guidBytes,
  lower,
  seededTime,
  type AssignmentRecord,
  type Clock,
  type DirectoryEntry,
} from './tenantShapes';

/** The in-memory directory of one tenant, with Graph-shaped objects, and its queries. Writes are in `tenant.ts`. */
export class TenantDirectory {
  readonly id: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly defaultDomain: string;
  protected readonly users = new Map<string, JsonObject>();
  protected readonly groups = new Map<string, JsonObject>();
  protected readonly servicePrincipals = new Map<string, JsonObject>();
  protected readonly roles = new Map<string, JsonObject>();
  protected readonly owners = new Map<string, string[]>();
  protected readonly members = new Map<string, string[]>();
  protected readonly roleMembers = new Map<string, string[]>();
  protected readonly assignments: AssignmentRecord[] = [];
  protected readonly organization: JsonObject;
  protected readonly authorizationPolicy: JsonObject;
  protected readonly allowedDomains?: string[];
  protected readonly blockedDomains?: string[];
  /** Membership and ownership changes and user creations (for the advanced-query index lag). */
  protected readonly log: RelationLog;
  /** A user's sponsors (user or group ids), api-reference/v1.0/api/user-list-sponsors.md. */
  protected readonly sponsors = new Map<string, string[]>();

  /**
   * @param now the simulator's clock
   * @param indexLagMs how far the advanced-query index trails the directory (read on every change, to prune the log)
   */
  constructor(
    seed: TenantSeed,
    protected readonly now: Clock = Date.now,
    indexLagMs: () => number = () => 0,
  ) {
    this.log = new RelationLog(now, indexLagMs);
    this.id = seed.tenant.id.toLowerCase();
    this.displayName = seed.tenant.displayName;
    this.domains = seed.tenant.verifiedDomains.map(lower);
    this.defaultDomain = this.domains[0];
    let clock = 0;
    for (const u of seed.users) {
      this.users.set(lower(u.id), userObject(u, seededTime(clock++), this.defaultDomain));
    }
    for (const g of seed.groups) {
      this.groups.set(lower(g.id), groupObject(g, seededTime(clock++), this.mailDomain(), this.groups.size));
      this.owners.set(lower(g.id), g.owners.map(lower));
      this.members.set(lower(g.id), g.members.map(lower));
    }
    for (const sp of seed.servicePrincipals) {
      this.servicePrincipals.set(lower(sp.id), servicePrincipalObject(sp, this.id));
    }
    for (const sp of seed.servicePrincipals) {
      for (const a of sp.appRoleAssignedTo) {
        this.assignments.push({
          id: a.id ?? newAssignmentId(a.principalId),
          appRoleId: lower(a.appRoleId ?? DEFAULT_APP_ROLE_ID),
          createdDateTime: seededTime(clock++),
          principalId: lower(a.principalId),
          principalType: a.principalType,
          resourceId: lower(sp.id),
        });
      }
    }
    for (const r of seed.directoryRoles ?? []) {
      const role = directoryRoleObject(r);
      this.roles.set(String(role.id), role);
      this.roleMembers.set(String(role.id), r.members.map(lower));
    }
    this.organization = organizationObject(this.id, this.displayName, this.domains);
    this.authorizationPolicy = authorizationPolicyObject(seed.authorizationPolicy?.allowInvitesFrom ?? 'everyone');
    this.allowedDomains = seed.b2bDomains?.allowedDomains;
    this.blockedDomains = seed.b2bDomains?.blockedDomains;
  }

  /** The first verified domain that is not *.onmicrosoft.com (groups' mail addresses). */
  protected mailDomain(): string {
    return this.domains.find((d) => !d.endsWith('.onmicrosoft.com')) ?? this.defaultDomain;
  }

  // ---- reads --------------------------------------------------------------

  listUsers(): JsonObject[] {
    return [...this.users.values()];
  }

  listGroups(): JsonObject[] {
    return [...this.groups.values()];
  }

  listServicePrincipals(): JsonObject[] {
    return [...this.servicePrincipals.values()];
  }

  listDirectoryRoles(): JsonObject[] {
    return [...this.roles.values()];
  }

  getOrganization(): JsonObject {
    return this.organization;
  }

  getAuthorizationPolicy(): JsonObject {
    return this.authorizationPolicy;
  }

  findUser(idOrUpn: string): JsonObject | undefined {
    const key = lower(idOrUpn);
    const byId = this.users.get(key);
    if (byId) return byId;
    for (const u of this.users.values()) {
      if (typeof u.userPrincipalName === 'string' && lower(u.userPrincipalName) === key) return u;
    }
    return undefined;
  }

  findGroup(id: string): JsonObject | undefined {
    return this.groups.get(lower(id));
  }

  findServicePrincipal(id: string): JsonObject | undefined {
    return this.servicePrincipals.get(lower(id));
  }

  findDirectoryRole(id: string): JsonObject | undefined {
    return this.roles.get(lower(id));
  }

  findObject(id: string): DirectoryEntry | undefined {
    const key = lower(id);
    const user = this.users.get(key);
    if (user) return { kind: 'user', props: user };
    const group = this.groups.get(key);
    if (group) return { kind: 'group', props: group };
    const sp = this.servicePrincipals.get(key);
    if (sp) return { kind: 'servicePrincipal', props: sp };
    const role = this.roles.get(key);
    if (role) return { kind: 'directoryRole', props: role };
    return undefined;
  }

  protected entries(ids: string[]): DirectoryEntry[] {
    const out: DirectoryEntry[] = [];
    for (const id of ids) {
      const e = this.findObject(id);
      if (e) out.push(e);
    }
    return out;
  }

  // ---- relations, as the directory has them or as the lagging index saw them at `asOf` ----------

  /** False for users created after `asOf` (the index has not seen them yet). */
  existedAt(objectId: string, asOf: number | undefined): boolean {
    return this.log.existedAt(objectId, asOf);
  }

  /** Object ids of a group's members or owners; with `asOf`, as they were then (later changes undone). */
  private relationIds(relation: Relation, groupId: string, asOf?: number): string[] {
    const ids = [...((relation === 'members' ? this.members : this.owners).get(lower(groupId)) ?? [])];
    return asOf === undefined ? ids : this.log.asOf(relation, groupId, ids, asOf);
  }

  groupOwners(groupId: string, asOf?: number): DirectoryEntry[] {
    return this.entries(this.relationIds('owners', groupId, asOf));
  }

  groupMembers(groupId: string, asOf?: number): DirectoryEntry[] {
    return this.entries(this.relationIds('members', groupId, asOf));
  }

  roleMembersOf(roleId: string): DirectoryEntry[] {
    return this.entries(this.roleMembers.get(lower(roleId)) ?? []);
  }

  /** Ids of the groups the object is a direct member of. */
  private directGroupIds(objectId: string, asOf?: number): string[] {
    const key = lower(objectId);
    return [...this.groups.keys()].filter((gid) => this.relationIds('members', gid, asOf).includes(key));
  }

  /** Ids of the groups the object is a member of, directly or through nested groups. */
  transitiveGroupIds(objectId: string, asOf?: number): string[] {
    const found = new Set<string>();
    const queue = [lower(objectId)];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const gid of this.directGroupIds(current, asOf)) {
        if (!found.has(gid)) {
          found.add(gid);
          queue.push(gid);
        }
      }
    }
    return [...found];
  }

  private rolesHeldBy(principalIds: string[]): DirectoryEntry[] {
    const out: DirectoryEntry[] = [];
    for (const [rid, ids] of this.roleMembers) {
      const r = this.roles.get(rid);
      if (r && ids.some((id) => principalIds.includes(id))) out.push({ kind: 'directoryRole', props: r });
    }
    return out;
  }

  /** Groups and directory roles the object is a direct member of. */
  memberOf(objectId: string, asOf?: number): DirectoryEntry[] {
    const groups = this.entries(this.directGroupIds(objectId, asOf));
    return [...groups, ...this.rolesHeldBy([lower(objectId)])];
  }

  /**
   * Groups and directory roles the object is a member of, also through groups (roles held by role-assignable
   * groups).
   */
  transitiveMemberOf(objectId: string, asOf?: number): DirectoryEntry[] {
    const groupIds = this.transitiveGroupIds(objectId, asOf);
    return [...this.entries(groupIds), ...this.rolesHeldBy([lower(objectId), ...groupIds])];
  }

  ownedObjects(userId: string): DirectoryEntry[] {
    const key = lower(userId);
    const out: DirectoryEntry[] = [];
    for (const [gid, ids] of this.owners) {
      const g = this.groups.get(gid);
      if (g && ids.includes(key)) out.push({ kind: 'group', props: g });
    }
    return out;
  }

  protected assignmentObject(a: AssignmentRecord): JsonObject {
    const principal = this.findObject(a.principalId);
    const resource = this.servicePrincipals.get(a.resourceId);
    return {
      id: a.id,
      deletedDateTime: null,
      appRoleId: a.appRoleId,
      createdDateTime: a.createdDateTime,
      principalDisplayName: principal ? (principal.props.displayName as JsonValue) : null,
      principalId: a.principalId,
      principalType: a.principalType,
      resourceDisplayName: resource ? (resource.displayName as JsonValue) : null,
      resourceId: a.resourceId,
    };
  }

  appRoleAssignmentsOf(principalId: string): JsonObject[] {
    const key = lower(principalId);
    return this.assignments.filter((a) => a.principalId === key).map((a) => this.assignmentObject(a));
  }

  appRoleAssignedTo(resourceId: string): JsonObject[] {
    const key = lower(resourceId);
    return this.assignments.filter((a) => a.resourceId === key).map((a) => this.assignmentObject(a));
  }

  /** unifiedRoleAssignment objects for every directory role membership (directory-wide scope). */
  roleAssignments(): JsonObject[] {
    const out: JsonObject[] = [];
    for (const [rid, ids] of this.roleMembers) {
      const role = this.roles.get(rid);
      if (!role) continue;
      const template = String(role.roleTemplateId);
      for (const principalId of ids) {
        out.push({
          id: `${base64url(guidBytes(template))}${base64url(guidBytes(principalId))}-1`,
          directoryScopeId: '/',
          principalId,
          roleDefinitionId: template,
          appScopeId: null,
          condition: null,
        });
      }
    }
    return out;
  }
}
