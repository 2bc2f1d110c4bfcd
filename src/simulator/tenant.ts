import { randomUUID } from 'node:crypto';
import { GraphError, badRequest, notFound } from './errors';
import { cloneJson, type JsonObject } from './json';
import { newAssignmentId, userObject } from './tenantObjects';
import { TenantDirectory } from './tenantDirectory';
import {
  checkInvitationPolicy,
  findUserByAddress,
  guestUpn,
  invitationObject,
  type InvitationPolicy,
} from './tenantInvitations';
import {
  DEFAULT_APP_ROLE_ID,
  isoSeconds,
  lower,
  type AssignmentRecord,
  type DirectoryEntry,
  type InvitationInput,
  type SentInvitation,
} from './tenantShapes';

export {
  GUID_PATTERN,
  USER_DEFAULT_PROPERTIES,
  domainOf,
  type Clock,
  type DirectoryEntry,
  type InvitationInput,
  type ObjectKind,
  type SentInvitation,
} from './tenantShapes';

/** 400 for a reference added twice (Graph's answer quoted in CIPP issue 1607). */
function referenceExists(property: string): GraphError {
  const message = `One or more added object references already exist for the following modified properties: '${property}'.`;
  return new GraphError(400, 'Request_BadRequest', message);
}

/**
 * The in-memory directory of one tenant and its writes: members and owners, app role assignments, sponsors,
 * redemption and invitations. Reads are in `tenantDirectory.ts`, object shapes in `tenantObjects.ts`.
 */
export class Tenant extends TenantDirectory {
  /** POST /invitations that took effect, per lower-cased address. */
  private readonly invitationsByAddress = new Map<string, number>();

  /** POST /invitations that took effect, per lower-cased invited address. */
  invitationCounts(): Record<string, number> {
    return Object.fromEntries(this.invitationsByAddress);
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
      throw new GraphError(
        400,
        'Request_BadRequest',
        'Cannot Update a mail-enabled security groups and or distribution list.',
      );
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
        throw badRequest(
          'Invalid object type for owners. Only users and service principals can be owners of a group.',
          'Request_BadRequest',
        );
      }
      const key = lower(id);
      if (current.includes(key) || seen.has(key)) {
        throw referenceExists(relation);
      }
      seen.add(key);
    }
    if (!apply) return;
    map.set(lower(groupId), [...current, ...seen]);
    for (const id of seen) this.log.record(relation, groupId, id, 'add');
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

  private removeRelation(relation: 'members' | 'owners', groupId: string, objectId: string): void {
    const map = relation === 'members' ? this.members : this.owners;
    const current = map.get(lower(groupId)) ?? [];
    const key = lower(objectId);
    if (!current.includes(key)) throw notFound(objectId);
    map.set(
      lower(groupId),
      current.filter((id) => id !== key),
    );
    this.log.record(relation, groupId, key, 'remove');
  }

  updateGroupProperties(groupId: string, changes: JsonObject): void {
    const group = this.requireGroup(groupId);
    for (const [k, v] of Object.entries(changes)) group[k] = cloneJson(v);
  }

  addAppRoleAssignment(
    resourceId: string,
    body: { principalId: string; resourceId: string; appRoleId: string },
  ): JsonObject {
    const resource = this.findServicePrincipal(resourceId);
    if (!resource) throw notFound(resourceId);
    if (lower(body.resourceId) !== lower(resourceId)) {
      throw badRequest(
        `Invalid resourceId '${body.resourceId}': it must be the id of the service principal in the URL.`,
        'Request_BadRequest',
      );
    }
    const principal = this.findObject(body.principalId);
    if (!principal || principal.kind === 'directoryRole') throw notFound(body.principalId);
    const appRoleId = lower(body.appRoleId);
    if (appRoleId !== DEFAULT_APP_ROLE_ID && !appRoleIdsOf(resource).includes(appRoleId)) {
      throw badRequest(
        `Permission being assigned was not found on application '${String(resource.appId)}'.`,
        'Request_BadRequest',
      );
    }
    const principalId = lower(body.principalId);
    const exists = (a: AssignmentRecord): boolean =>
      a.principalId === principalId && a.resourceId === lower(resourceId) && a.appRoleId === appRoleId;
    if (this.assignments.some(exists)) {
      throw badRequest('Permission being assigned already exists on the object', 'Request_BadRequest');
    }
    const principalType =
      principal.kind === 'user' ? 'User' : principal.kind === 'group' ? 'Group' : 'ServicePrincipal';
    const record: AssignmentRecord = {
      id: newAssignmentId(principalId),
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
      throw referenceExists('sponsors');
    }
    this.sponsors.set(lower(userId), [...current, lower(sponsorId)]);
  }

  /**
   * DELETE /users/{id}/sponsors/{id}/$ref (api-reference/v1.0/api/user-delete-sponsors.md): 404 when not a
   * sponsor.
   */
  removeSponsor(userId: string, sponsorId: string): void {
    const current = this.sponsors.get(lower(userId)) ?? [];
    if (!current.includes(lower(sponsorId))) throw notFound(sponsorId);
    this.sponsors.set(
      lower(userId),
      current.filter((id) => id !== lower(sponsorId)),
    );
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

  invite(input: InvitationInput): SentInvitation {
    const address = input.invitedUserEmailAddress.trim();
    checkInvitationPolicy(this.invitationPolicy(), address);
    let user = findUserByAddress(this.users.values(), address);
    let createdUser = false;
    if (user && user.userType !== 'Guest' && user.creationType !== 'Invitation') {
      throw badRequest(
        `The invited user already exists in the directory as object ${String(user.id)} and is not a guest.`,
      );
    }
    if (!user) {
      user = this.createInvitedUser(input, address);
      createdUser = true;
    }
    const userId = String(user.id);
    for (const sponsorId of input.invitedUserSponsors ?? []) {
      if (!(this.sponsors.get(lower(userId)) ?? []).includes(lower(sponsorId))) this.addSponsor(userId, sponsorId);
    }
    const key = lower(address);
    this.invitationsByAddress.set(key, (this.invitationsByAddress.get(key) ?? 0) + 1);
    const invitation = invitationObject(this.id, randomUUID(), input, user, createdUser);
    return { invitation, userId, createdUser };
  }

  private invitationPolicy(): InvitationPolicy {
    return {
      allowInvitesFrom: String(this.authorizationPolicy.allowInvitesFrom),
      domains: this.domains,
      allowedDomains: this.allowedDomains,
      blockedDomains: this.blockedDomains,
    };
  }

  /** The guest (or member) user an invitation to a new address creates. */
  private createInvitedUser(input: InvitationInput, address: string): JsonObject {
    const id = randomUUID();
    const created = isoSeconds(this.now());
    const upn = guestUpn(address, this.defaultDomain, (candidate) => this.findUser(candidate) !== undefined);
    const local = address.split('@')[0];
    const displayName = input.invitedUserDisplayName?.trim() || local;
    const user = userObject(
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
      this.defaultDomain,
    );
    user.identities = [{ signInType: 'userPrincipalName', issuer: this.defaultDomain, issuerAssignedId: upn }];
    user.creationType = 'Invitation';
    user.externalUserState = 'PendingAcceptance';
    user.externalUserStateChangeDateTime = created;
    this.users.set(id, user);
    this.log.userCreated(id);
    return user;
  }
}

/** Ids of the app roles a service principal defines, lower-cased. */
function appRoleIdsOf(resource: JsonObject): string[] {
  const roles = Array.isArray(resource.appRoles) ? resource.appRoles : [];
  return roles.map((r) => (typeof r === 'object' && r !== null && !Array.isArray(r) ? String(r.id).toLowerCase() : ''));
}
