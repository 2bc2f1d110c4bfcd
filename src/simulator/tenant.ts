import { randomBytes, randomUUID } from 'node:crypto';
import { GraphError, badRequest, notFound } from './errors';
import { cloneJson, toJsonValue, type JsonObject, type JsonValue } from './json';
import type { AllowInvitesFrom, SeedGroup, SeedServicePrincipal, SeedUser, TenantSeed } from './seed';

export type ObjectKind = 'user' | 'group' | 'servicePrincipal' | 'directoryRole';

export interface DirectoryEntry {
  kind: ObjectKind;
  props: JsonObject;
}

interface AssignmentRecord {
  id: string;
  appRoleId: string;
  createdDateTime: string;
  principalId: string;
  principalType: string;
  resourceId: string;
}

export interface InvitationInput {
  invitedUserEmailAddress: string;
  inviteRedirectUrl: string;
  invitedUserDisplayName?: string | null;
  sendInvitationMessage?: boolean | null;
  invitedUserMessageInfo?: JsonObject | null;
  invitedUserType?: string | null;
  /** Sponsor ids set on the invited user (beta invitation page; v1.0 metadata). */
  invitedUserSponsors?: string[];
}

export interface SentInvitation {
  invitation: JsonObject;
  userId: string;
  createdUser: boolean;
}

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_APP_ROLE_ID = '00000000-0000-0000-0000-000000000000';
const GUEST_USER_ROLE_ID = '10dae51f-b6af-4016-8d66-8c2a99b929b3';

const ROLE_DESCRIPTIONS: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10':
    'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  'fe930be7-5e62-47db-91af-98c3a49a38b1':
    'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  'fdd7a751-b60b-444a-984c-02652fe8fa1c':
    'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.',
  '95e79109-95c0-4d8e-aee3-d01accf2d47b':
    'Can invite guest users independent of the \'members can invite guests\' setting.',
};

/** Properties a user returns when no $select is given (Graph v1.0 default set). */
export const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

const RELATIONSHIP_FIELDS = new Set(['owners', 'members', 'appRoleAssignedTo']);

function base64url(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function guidBytes(guid: string): Buffer {
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}

function seededTime(index: number): string {
  const base = Date.UTC(2024, 0, 15, 9, 0, 0);
  return new Date(base + index * 60_000).toISOString().replace(/\.000Z$/, 'Z');
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A clock in milliseconds since the epoch (tests inject a fake one). */
export type Clock = () => number;

type Relation = 'members' | 'owners';

/** One change of a group's members or owners, kept so that reads from the lagging index can undo it. */
interface RelationChange {
  at: number;
  relation: Relation;
  groupId: string;
  objectId: string;
  op: 'add' | 'remove';
}

/** Changes older than this (or than the index lag, when longer) are visible to every read and are dropped. */
const MIN_CHANGE_RETENTION_MS = 60_000;

function securityIdentifier(id: string): string {
  const b = guidBytes(id);
  const parts = [0, 4, 8, 12].map((o) => b.readUInt32LE(o));
  return `S-1-12-1-${parts.join('-')}`;
}

function extraProperties(source: Record<string, unknown>, known: Set<string>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) {
    if (known.has(k) || RELATIONSHIP_FIELDS.has(k) || v === undefined) continue;
    out[k] = toJsonValue(v);
  }
  return out;
}

function lower(s: string): string {
  return s.toLowerCase();
}

function splitName(displayName: string): { givenName: string | null; surname: string | null } {
  const parts = displayName.trim().split(/\s+/);
  if (parts.length < 2) return { givenName: parts[0] || null, surname: null };
  return { givenName: parts[0], surname: parts.slice(1).join(' ') };
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

function domainMatches(domain: string, entry: string): boolean {
  const e = entry.trim().toLowerCase();
  if (e.startsWith('*.')) return domain.endsWith(e.slice(1));
  return domain === e;
}

/** The in-memory directory of one tenant, with Graph-shaped objects. */
export class Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly defaultDomain: string;
  private readonly users = new Map<string, JsonObject>();
  private readonly groups = new Map<string, JsonObject>();
  private readonly servicePrincipals = new Map<string, JsonObject>();
  private readonly roles = new Map<string, JsonObject>();
  private readonly owners = new Map<string, string[]>();
  private readonly members = new Map<string, string[]>();
  private readonly roleMembers = new Map<string, string[]>();
  private readonly assignments: AssignmentRecord[] = [];
  private readonly organization: JsonObject;
  private readonly authorizationPolicy: JsonObject;
  private readonly allowedDomains?: string[];
  private readonly blockedDomains?: string[];
  /** Membership and ownership changes, oldest first (for the advanced-query index lag). */
  private readonly changes: RelationChange[] = [];
  /** When users were created by this simulator (seeded users have always existed). */
  private readonly userCreatedAt = new Map<string, number>();
  /** POST /invitations that took effect, per lower-cased address. */
  private readonly invitationsByAddress = new Map<string, number>();
  /** A user's sponsors (user or group ids), api-reference/v1.0/api/user-list-sponsors.md. */
  private readonly sponsors = new Map<string, string[]>();

  /**
   * @param now the simulator's clock
   * @param indexLagMs how far the advanced-query index trails the directory (read on every change, to prune the log)
   */
  constructor(
    seed: TenantSeed,
    private readonly now: Clock = Date.now,
    private readonly indexLagMs: () => number = () => 0,
  ) {
    this.id = seed.tenant.id.toLowerCase();
    this.displayName = seed.tenant.displayName;
    this.domains = seed.tenant.verifiedDomains.map(lower);
    this.defaultDomain = this.domains[0];
    let clock = 0;
    for (const u of seed.users) this.users.set(lower(u.id), this.userFromSeed(u, seededTime(clock++)));
    for (const g of seed.groups) {
      this.groups.set(lower(g.id), this.groupFromSeed(g, seededTime(clock++)));
      this.owners.set(lower(g.id), g.owners.map(lower));
      this.members.set(lower(g.id), g.members.map(lower));
    }
    for (const sp of seed.servicePrincipals) {
      this.servicePrincipals.set(lower(sp.id), this.servicePrincipalFromSeed(sp));
    }
    for (const sp of seed.servicePrincipals) {
      for (const a of sp.appRoleAssignedTo) {
        this.assignments.push({
          id: a.id ?? this.newAssignmentId(a.principalId),
          appRoleId: lower(a.appRoleId ?? DEFAULT_APP_ROLE_ID),
          createdDateTime: seededTime(clock++),
          principalId: lower(a.principalId),
          principalType: a.principalType,
          resourceId: lower(sp.id),
        });
      }
    }
    for (const r of seed.directoryRoles ?? []) {
      const id = lower(r.id ?? randomUUID());
      this.roles.set(id, {
        id,
        deletedDateTime: null,
        description: ROLE_DESCRIPTIONS[lower(r.roleTemplateId)] ?? null,
        displayName: r.displayName,
        roleTemplateId: lower(r.roleTemplateId),
      });
      this.roleMembers.set(id, r.members.map(lower));
    }
    this.organization = this.organizationObject();
    this.authorizationPolicy = this.authorizationPolicyObject(seed.authorizationPolicy?.allowInvitesFrom ?? 'everyone');
    this.allowedDomains = seed.b2bDomains?.allowedDomains;
    this.blockedDomains = seed.b2bDomains?.blockedDomains;
  }

  // ---- construction -------------------------------------------------------

  private mailDomain(): string {
    return this.domains.find((d) => !d.endsWith('.onmicrosoft.com')) ?? this.defaultDomain;
  }

  private userFromSeed(u: SeedUser, created: string): JsonObject {
    const known = new Set([
      'id',
      'displayName',
      'userPrincipalName',
      'userType',
      'mail',
      'otherMails',
      'accountEnabled',
      'externalUserState',
      'preferredLanguage',
    ]);
    const guest = u.userType === 'Guest';
    const names = guest ? { givenName: null, surname: null } : splitName(u.displayName);
    const mail = u.mail === undefined ? (guest ? null : u.userPrincipalName) : u.mail;
    const base: JsonObject = {
      id: lower(u.id),
      deletedDateTime: null,
      accountEnabled: u.accountEnabled ?? true,
      ageGroup: null,
      businessPhones: [],
      city: null,
      companyName: null,
      country: null,
      createdDateTime: created,
      creationType: guest ? 'Invitation' : null,
      department: null,
      displayName: u.displayName,
      employeeId: null,
      employeeType: null,
      externalUserState: guest ? (u.externalUserState ?? 'PendingAcceptance') : null,
      externalUserStateChangeDateTime: guest ? created : null,
      givenName: names.givenName,
      identities: [
        { signInType: 'userPrincipalName', issuer: this.defaultDomain, issuerAssignedId: u.userPrincipalName },
      ],
      jobTitle: null,
      mail,
      mailNickname: u.userPrincipalName.split('@')[0].replace(/#EXT#$/i, ''),
      mobilePhone: null,
      officeLocation: null,
      onPremisesSyncEnabled: null,
      otherMails: u.otherMails ?? [],
      preferredLanguage: u.preferredLanguage ?? (guest ? null : 'en-US'),
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      surname: names.surname,
      usageLocation: null,
      userPrincipalName: u.userPrincipalName,
      userType: u.userType,
    };
    return { ...base, ...extraProperties(u, known) };
  }

  private groupFromSeed(g: SeedGroup, created: string): JsonObject {
    const known = new Set([
      'id',
      'displayName',
      'description',
      'securityEnabled',
      'mailEnabled',
      'groupTypes',
      'membershipRule',
      'membershipRuleProcessingState',
      'onPremisesSyncEnabled',
      'isAssignableToRole',
    ]);
    const nickname = g.displayName.replace(/[^A-Za-z0-9]/g, '') || 'group';
    const mail = g.mailEnabled ? `${nickname}@${this.mailDomain()}` : null;
    const synced = g.onPremisesSyncEnabled === true;
    const base: JsonObject = {
      id: lower(g.id),
      deletedDateTime: null,
      classification: null,
      createdDateTime: created,
      description: g.description ?? null,
      displayName: g.displayName,
      expirationDateTime: null,
      groupTypes: [...g.groupTypes],
      isAssignableToRole: g.isAssignableToRole ?? null,
      mail,
      mailEnabled: g.mailEnabled,
      mailNickname: nickname,
      membershipRule: g.membershipRule ?? null,
      membershipRuleProcessingState: g.membershipRuleProcessingState ?? null,
      onPremisesDomainName: synced ? this.mailDomain() : null,
      onPremisesLastSyncDateTime: synced ? created : null,
      onPremisesNetBiosName: synced ? this.mailDomain().split('.')[0].toUpperCase() : null,
      onPremisesSamAccountName: synced ? nickname : null,
      onPremisesSecurityIdentifier: synced ? `S-1-5-21-1004336348-1177238915-682003330-${1000 + this.groups.size}` : null,
      onPremisesSyncEnabled: g.onPremisesSyncEnabled ?? null,
      onPremisesProvisioningErrors: [],
      preferredDataLocation: null,
      preferredLanguage: null,
      proxyAddresses: mail ? [`SMTP:${mail}`] : [],
      renewedDateTime: created,
      resourceBehaviorOptions: [],
      resourceProvisioningOptions: [],
      securityEnabled: g.securityEnabled,
      securityIdentifier: securityIdentifier(g.id),
      serviceProvisioningErrors: [],
      theme: null,
      visibility: g.groupTypes.includes('Unified') ? 'Private' : null,
    };
    return { ...base, ...extraProperties(g, known) };
  }

  private servicePrincipalFromSeed(sp: SeedServicePrincipal): JsonObject {
    const known = new Set(['id', 'appId', 'displayName', 'homepage', 'loginUrl', 'appRoleAssignmentRequired', 'tags']);
    const base: JsonObject = {
      id: lower(sp.id),
      deletedDateTime: null,
      accountEnabled: true,
      addIns: [],
      alternativeNames: [],
      appDescription: null,
      appDisplayName: sp.displayName,
      appId: lower(sp.appId),
      applicationTemplateId: null,
      appOwnerOrganizationId: this.id,
      appRoleAssignmentRequired: sp.appRoleAssignmentRequired ?? false,
      appRoles: [],
      description: null,
      disabledByMicrosoftStatus: null,
      displayName: sp.displayName,
      homepage: sp.homepage ?? null,
      keyCredentials: [],
      loginUrl: sp.loginUrl ?? null,
      logoutUrl: null,
      notes: null,
      notificationEmailAddresses: [],
      oauth2PermissionScopes: [],
      passwordCredentials: [],
      preferredSingleSignOnMode: null,
      preferredTokenSigningKeyThumbprint: null,
      replyUrls: [],
      resourceSpecificApplicationPermissions: [],
      samlSingleSignOnSettings: null,
      servicePrincipalNames: [lower(sp.appId)],
      servicePrincipalType: 'Application',
      signInAudience: 'AzureADMyOrg',
      tags: sp.tags ?? [],
      tokenEncryptionKeyId: null,
      verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    };
    return { ...base, ...extraProperties(sp, known) };
  }

  private organizationObject(): JsonObject {
    return {
      id: this.id,
      deletedDateTime: null,
      assignedPlans: [],
      businessPhones: [],
      city: null,
      country: null,
      countryLetterCode: 'US',
      createdDateTime: seededTime(-60 * 24 * 30),
      defaultUsageLocation: null,
      displayName: this.displayName,
      marketingNotificationEmails: [],
      onPremisesLastSyncDateTime: null,
      onPremisesSyncEnabled: null,
      partnerTenantType: null,
      postalCode: null,
      preferredLanguage: 'en',
      privacyProfile: null,
      provisionedPlans: [],
      securityComplianceNotificationMails: [],
      securityComplianceNotificationPhones: [],
      state: null,
      street: null,
      technicalNotificationMails: [],
      tenantType: 'AAD',
      verifiedDomains: this.domains.map((name, i) => ({
        capabilities: name.endsWith('.onmicrosoft.com') ? 'Email, OfficeCommunicationsOnline' : 'Email',
        isDefault: i === 0,
        isInitial: name.endsWith('.onmicrosoft.com') && this.domains.findIndex((d) => d.endsWith('.onmicrosoft.com')) === i,
        name,
        type: 'Managed',
      })),
    };
  }

  private authorizationPolicyObject(allowInvitesFrom: AllowInvitesFrom): JsonObject {
    return {
      id: 'authorizationPolicy',
      allowInvitesFrom,
      allowedToSignUpEmailBasedSubscriptions: true,
      allowedToUseSSPR: true,
      allowEmailVerifiedUsersToJoinOrganization: false,
      allowUserConsentForRiskyApps: null,
      blockMsolPowerShell: false,
      defaultUserRolePermissions: {
        allowedToCreateApps: true,
        allowedToCreateSecurityGroups: true,
        allowedToCreateTenants: true,
        allowedToReadBitlockerKeysForOwnedDevice: true,
        allowedToReadOtherUsers: true,
        permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'],
      },
      deletedDateTime: null,
      description: 'Used to manage authorization related settings across the company.',
      displayName: 'Authorization Policy',
      guestUserRoleId: GUEST_USER_ROLE_ID,
    };
  }

  private newAssignmentId(principalId: string): string {
    return base64url(Buffer.concat([guidBytes(principalId), randomBytes(16)]));
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

  private entries(ids: string[]): DirectoryEntry[] {
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
    if (asOf === undefined) return true;
    const created = this.userCreatedAt.get(lower(objectId));
    return created === undefined || created <= asOf;
  }

  /** Object ids of a group's members or owners; with `asOf`, as they were then (later changes undone). */
  private relationIds(relation: Relation, groupId: string, asOf?: number): string[] {
    const key = lower(groupId);
    const ids = [...((relation === 'members' ? this.members : this.owners).get(key) ?? [])];
    if (asOf === undefined) return ids;
    for (let i = this.changes.length - 1; i >= 0 && this.changes[i].at > asOf; i -= 1) {
      const c = this.changes[i];
      if (c.relation !== relation || c.groupId !== key) continue;
      const at = ids.indexOf(c.objectId);
      if (c.op === 'add' && at >= 0) ids.splice(at, 1);
      else if (c.op === 'remove' && at < 0) ids.push(c.objectId);
    }
    return ids.filter((id) => this.existedAt(id, asOf));
  }

  private recordChange(relation: Relation, groupId: string, objectId: string, op: 'add' | 'remove'): void {
    const at = this.now();
    this.changes.push({ at, relation, groupId: lower(groupId), objectId: lower(objectId), op });
    const horizon = at - Math.max(this.indexLagMs(), MIN_CHANGE_RETENTION_MS);
    let drop = 0;
    while (drop < this.changes.length && this.changes[drop].at < horizon) drop += 1;
    if (drop > 0) this.changes.splice(0, drop);
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

  /** Groups and directory roles the object is a member of, also through groups (roles held by role-assignable groups). */
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

  /** POST /invitations that took effect, per lower-cased invited address. */
  invitationCounts(): Record<string, number> {
    return Object.fromEntries(this.invitationsByAddress);
  }

  private assignmentObject(a: AssignmentRecord): JsonObject {
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

  // ---- writes -------------------------------------------------------------

  /** Refuses membership writes on groups Graph cannot change. */
  private assertMembershipWritable(group: JsonObject): void {
    const types = Array.isArray(group.groupTypes) ? group.groupTypes : [];
    if (types.includes('DynamicMembership')) {
      throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    this.assertNotExchangeOrSynced(group);
  }

  private assertNotExchangeOrSynced(group: JsonObject): void {
    const types = Array.isArray(group.groupTypes) ? group.groupTypes : [];
    if (group.mailEnabled === true && !types.includes('Unified')) {
      throw new GraphError(400, 'Request_BadRequest', 'Cannot Update a mail-enabled security groups and or distribution list.');
    }
    if (group.onPremisesSyncEnabled === true) {
      throw new GraphError(
        400,
        'Request_BadRequest',
        'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
      );
    }
  }

  private requireGroup(groupId: string): JsonObject {
    const group = this.findGroup(groupId);
    if (!group) throw notFound(groupId);
    return group;
  }

  /** Adds directory objects to a group's members or owners: all or none. */
  addReferences(relation: 'members' | 'owners', groupId: string, objectIds: string[], apply = true): void {
    const group = this.requireGroup(groupId);
    if (relation === 'members') this.assertMembershipWritable(group);
    else this.assertNotExchangeOrSynced(group);
    const map = relation === 'members' ? this.members : this.owners;
    const current = map.get(lower(groupId)) ?? [];
    const seen = new Set<string>();
    for (const id of objectIds) {
      const entry = this.findObject(id);
      if (!entry || entry.kind === 'directoryRole') throw notFound(id);
      if (relation === 'owners' && entry.kind === 'group') {
        throw badRequest('Invalid object type for owners. Only users and service principals can be owners of a group.', 'Request_BadRequest');
      }
      const key = lower(id);
      if (current.includes(key) || seen.has(key)) {
        throw new GraphError(
          400,
          'Request_BadRequest',
          `One or more added object references already exist for the following modified properties: '${relation}'.`,
        );
      }
      seen.add(key);
    }
    if (!apply) return;
    map.set(lower(groupId), [...current, ...seen]);
    for (const id of seen) this.recordChange(relation, groupId, id, 'add');
  }

  /** Checks that the group's members can be written at all (dynamic, Exchange and synced groups cannot). */
  assertMembersWritable(groupId: string): void {
    this.assertMembershipWritable(this.requireGroup(groupId));
  }

  /** Removes a member (api-reference/v1.0/api/group-delete-members.md): 404 when it is not a member. */
  removeMember(groupId: string, objectId: string): void {
    this.assertMembershipWritable(this.requireGroup(groupId));
    this.removeRelation('members', groupId, objectId);
  }

  /** Removes an owner (api-reference/v1.0/api/group-delete-owners.md): 404 when it is not an owner. */
  removeOwner(groupId: string, objectId: string): void {
    this.requireGroup(groupId);
    this.removeRelation('owners', groupId, objectId);
  }

  private removeRelation(relation: Relation, groupId: string, objectId: string): void {
    const map = relation === 'members' ? this.members : this.owners;
    const current = map.get(lower(groupId)) ?? [];
    const key = lower(objectId);
    if (!current.includes(key)) throw notFound(objectId);
    map.set(lower(groupId), current.filter((id) => id !== key));
    this.recordChange(relation, groupId, key, 'remove');
  }

  updateGroupProperties(groupId: string, changes: JsonObject): void {
    const group = this.requireGroup(groupId);
    for (const [k, v] of Object.entries(changes)) group[k] = cloneJson(v);
  }

  addAppRoleAssignment(resourceId: string, body: { principalId: string; resourceId: string; appRoleId: string }): JsonObject {
    const resource = this.findServicePrincipal(resourceId);
    if (!resource) throw notFound(resourceId);
    if (lower(body.resourceId) !== lower(resourceId)) {
      throw badRequest(`Invalid resourceId '${body.resourceId}': it must be the id of the service principal in the URL.`, 'Request_BadRequest');
    }
    const principal = this.findObject(body.principalId);
    if (!principal || principal.kind === 'directoryRole') throw notFound(body.principalId);
    const roles = Array.isArray(resource.appRoles) ? resource.appRoles : [];
    const roleIds = roles.map((r) => (typeof r === 'object' && r !== null && !Array.isArray(r) ? String(r.id).toLowerCase() : ''));
    const appRoleId = lower(body.appRoleId);
    if (appRoleId !== DEFAULT_APP_ROLE_ID && !roleIds.includes(appRoleId)) {
      throw badRequest(`Permission being assigned was not found on application '${String(resource.appId)}'.`, 'Request_BadRequest');
    }
    const principalId = lower(body.principalId);
    if (this.assignments.some((a) => a.principalId === principalId && a.resourceId === lower(resourceId) && a.appRoleId === appRoleId)) {
      throw badRequest('Permission being assigned already exists on the object', 'Request_BadRequest');
    }
    const principalType =
      principal.kind === 'user' ? 'User' : principal.kind === 'group' ? 'Group' : 'ServicePrincipal';
    const record: AssignmentRecord = {
      id: this.newAssignmentId(principalId),
      appRoleId,
      createdDateTime: new Date(this.now()).toISOString(),
      principalId,
      principalType,
      resourceId: lower(resourceId),
    };
    this.assignments.push(record);
    return this.assignmentObject(record);
  }

  // ---- sponsors and redemption ---------------------------------------------

  /** GET /users/{id}/sponsors (api-reference/v1.0/api/user-list-sponsors.md): users and groups. */
  sponsorsOf(userId: string): DirectoryEntry[] {
    return this.entries(this.sponsors.get(lower(userId)) ?? []);
  }

  /**
   * POST /users/{id}/sponsors/$ref (api-reference/v1.0/api/user-post-sponsors.md): a user or a group; the same
   * sponsor twice is refused like a duplicate member reference.
   */
  addSponsor(userId: string, sponsorId: string): void {
    const current = this.sponsors.get(lower(userId)) ?? [];
    const sponsor = this.findObject(sponsorId);
    if (!sponsor || (sponsor.kind !== 'user' && sponsor.kind !== 'group')) throw notFound(sponsorId);
    if (current.includes(lower(sponsorId))) {
      throw new GraphError(400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'sponsors'.");
    }
    this.sponsors.set(lower(userId), [...current, lower(sponsorId)]);
  }

  /** DELETE /users/{id}/sponsors/{id}/$ref (api-reference/v1.0/api/user-delete-sponsors.md): 404 when not a sponsor. */
  removeSponsor(userId: string, sponsorId: string): void {
    const current = this.sponsors.get(lower(userId)) ?? [];
    if (!current.includes(lower(sponsorId))) throw notFound(sponsorId);
    this.sponsors.set(lower(userId), current.filter((id) => id !== lower(sponsorId)));
  }

  /** Test-only: the guest redeemed their invitation (externalUserState Accepted, since now). */
  redeem(userId: string): JsonObject {
    const user = this.findUser(userId);
    if (!user || user.userType !== 'Guest') throw notFound(userId);
    user.externalUserState = 'Accepted';
    user.externalUserStateChangeDateTime = isoSeconds(this.now());
    return user;
  }

  // ---- invitations --------------------------------------------------------

  private findUserByAddress(address: string): JsonObject | undefined {
    const key = lower(address);
    for (const u of this.users.values()) {
      if (typeof u.mail === 'string' && lower(u.mail) === key) return u;
      if (Array.isArray(u.otherMails) && u.otherMails.some((m) => typeof m === 'string' && lower(m) === key)) return u;
      if (typeof u.userPrincipalName === 'string' && lower(u.userPrincipalName) === key) return u;
    }
    return undefined;
  }

  private checkInvitationPolicy(address: string): void {
    const allowInvitesFrom = String(this.authorizationPolicy.allowInvitesFrom);
    if (allowInvitesFrom === 'none' || allowInvitesFrom === 'adminsAndGuestInviters') {
      throw new GraphError(
        403,
        'Forbidden',
        'Guest invitations not allowed for your company. Contact your company administrator for more details.',
      );
    }
    const domain = domainOf(address);
    if (this.domains.includes(domain)) {
      throw badRequest(
        `The invited user's email address '${address}' is in a verified domain of this organization (${domain}); add the user as a member instead of inviting them as a guest.`,
      );
    }
    const blocked =
      (this.blockedDomains && this.blockedDomains.some((d) => domainMatches(domain, d))) ||
      (this.allowedDomains !== undefined && !this.allowedDomains.some((d) => domainMatches(domain, d)));
    if (blocked) {
      throw badRequest(
        `The invitation to '${address}' is blocked: the domain '${domain}' is not allowed by this organization's B2B collaboration restrictions (allowed/blocked domains).`,
      );
    }
  }

  private guestUpn(address: string): string {
    const base = address.replace('@', '_');
    let candidate = `${base}#EXT#@${this.defaultDomain}`;
    let n = 1;
    while (this.findUser(candidate)) {
      candidate = `${base}${n}#EXT#@${this.defaultDomain}`;
      n += 1;
    }
    return candidate;
  }

  private redeemUrl(invitationId: string): string {
    const ticket = base64url(randomBytes(24));
    const inner = `https://invitations.microsoft.com/redeem/?tenant=${this.id}&user=${invitationId}&ticket=${ticket}&ver=2.0`;
    return `https://login.microsoftonline.com/redeem?rd=${encodeURIComponent(inner)}`;
  }

  invite(input: InvitationInput): SentInvitation {
    const address = input.invitedUserEmailAddress.trim();
    this.checkInvitationPolicy(address);
    let user = this.findUserByAddress(address);
    let createdUser = false;
    if (user && user.userType !== 'Guest' && user.creationType !== 'Invitation') {
      throw badRequest(`The invited user already exists in the directory as object ${String(user.id)} and is not a guest.`);
    }
    if (!user) {
      const id = randomUUID();
      const created = isoSeconds(this.now());
      const upn = this.guestUpn(address);
      const local = address.split('@')[0];
      const displayName = input.invitedUserDisplayName?.trim() || local;
      user = this.userFromSeed(
        {
          id,
          displayName,
          userPrincipalName: upn,
          userType: input.invitedUserType === 'Member' ? 'Member' : 'Guest',
          mail: address,
          otherMails: [],
          externalUserState: 'PendingAcceptance',
        },
        created,
      );
      user.identities = [{ signInType: 'userPrincipalName', issuer: this.defaultDomain, issuerAssignedId: upn }];
      user.creationType = 'Invitation';
      user.externalUserState = 'PendingAcceptance';
      user.externalUserStateChangeDateTime = created;
      this.users.set(id, user);
      this.userCreatedAt.set(id, this.now());
      createdUser = true;
    }
    for (const sponsorId of input.invitedUserSponsors ?? []) {
      if (!(this.sponsors.get(lower(String(user.id))) ?? []).includes(lower(sponsorId))) this.addSponsor(String(user.id), sponsorId);
    }
    const key = lower(address);
    this.invitationsByAddress.set(key, (this.invitationsByAddress.get(key) ?? 0) + 1);
    const invitationId = randomUUID();
    const accepted = user.externalUserState === 'Accepted';
    const messageInfo = input.invitedUserMessageInfo ?? {};
    const invitation: JsonObject = {
      id: invitationId,
      inviteRedeemUrl: this.redeemUrl(invitationId),
      invitedUserDisplayName: (input.invitedUserDisplayName ?? (createdUser ? null : user.displayName)) as JsonValue,
      invitedUserType: input.invitedUserType ?? 'Guest',
      invitedUserEmailAddress: address,
      sendInvitationMessage: input.sendInvitationMessage ?? false,
      resetRedemption: false,
      inviteRedirectUrl: input.inviteRedirectUrl,
      status: accepted ? 'Completed' : 'PendingAcceptance',
      invitedUserMessageInfo: {
        messageLanguage: (messageInfo.messageLanguage ?? null) as JsonValue,
        ccRecipients: Array.isArray(messageInfo.ccRecipients)
          ? messageInfo.ccRecipients
          : [{ emailAddress: { name: null, address: null } }],
        customizedMessageBody: (messageInfo.customizedMessageBody ?? null) as JsonValue,
      },
      invitedUser: { id: String(user.id) },
    };
    return { invitation, userId: String(user.id), createdUser };
  }
}
