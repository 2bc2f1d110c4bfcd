/**
 * The directory port: what the domain needs from Microsoft Entra ID, in the domain's words.
 * Implemented over Microsoft Graph in graphDirectory.ts; nothing here depends on an SDK.
 */

export interface GroupInfo {
  id: string;
  displayName: string;
  groupTypes: string[];
  mailEnabled: boolean;
  securityEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  /** Role-assignable: member writes would also need RoleManagement.ReadWrite.Directory (learn group-post-members). */
  isAssignableToRole: boolean;
}

export interface AppInfo {
  /** The service principal's object id (the enterprise app). */
  id: string;
  appId: string;
  displayName: string;
  homepage: string | null;
  loginUrl: string | null;
}

export interface DirectoryUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  userType: 'Member' | 'Guest' | null;
  externalUserState: string | null;
}

export interface TenantInfo {
  id: string;
  displayName: string;
  verifiedDomains: string[];
}

/**
 * Everything the invitation decision needs, read in one round trip. Ownership and assignment come from plain
 * reads (not the eventually consistent advanced-query index), so they are the directory's truth at that moment.
 */
export interface InviteContext {
  group: GroupInfo | null;
  app: AppInfo | null;
  actorIsOwner: boolean;
  groupAssignedToApp: boolean;
  /** An existing user with that address (mail or otherMails), if any. */
  existingUser: DirectoryUser | null;
  /** authorizationPolicy.allowInvitesFrom; null when it could not be read. */
  allowInvitesFrom: string | null;
  tenant: TenantInfo | null;
  requestId: string | null;
}

/** One invitation to send; `language` is the invitation email's language (BCP 47, e.g. nl-NL). */
export interface InvitationInput {
  email: string;
  redirectUrl: string;
  message: string | null;
  language?: string | null;
}

/** An invitation of a `$batch`: `key` names its answer; `send: false` sends no invitation email. */
export interface BatchInvitationInput extends InvitationInput {
  key: string;
  send?: boolean;
}

export interface InvitationResult {
  userId: string;
  redeemUrl: string | null;
  status: string | null;
  requestId: string | null;
}

export interface AddMemberResult {
  added: boolean;
  requestId: string | null;
}

export interface GroupOwner {
  id: string;
  displayName: string;
}

/** A group assigned to an app, with its owners' ids (all of them, read plainly). */
export interface CatalogGroup {
  group: GroupInfo;
  ownerIds: string[];
  ownerCount: number;
}

/** An app with the groups assigned to it (the tenant's self-service catalog). */
export interface CatalogApp {
  id: string;
  displayName: string;
  groups: CatalogGroup[];
}

/** What a decision on a membership request needs, read in one round trip (plain reads, not the lagging index). */
export interface DecisionContext {
  group: GroupInfo | null;
  deciderIsOwner: boolean;
  requesterIsMember: boolean;
  requestId: string | null;
}

/** A guest member of a group, with the redemption state Graph keeps on the user (user resource, externalUserState). */
export interface GuestMember {
  id: string;
  displayName: string;
  mail: string | null;
  externalUserState: string | null;
  externalUserStateChangeDateTime: string | null;
}

export interface Directory {
  /** authorizationPolicy.allowInvitesFrom (needs Policy.Read.All). */
  getAllowInvitesFrom(): Promise<string | null>;
  /**
   * Users holding the activated directory roles with these template ids, directly or through a role-assignable
   * group that holds the role (that group's members).
   */
  listRoleMembers(roleTemplateIds: readonly string[]): Promise<Set<string>>;
  /** Enterprise apps with group assignments, each group with its properties and all its owners. */
  listCatalog(): Promise<CatalogApp[]>;
  /** Of these groups, the ones the user is a member of (transitively; checkMemberGroups). */
  checkMemberGroups(userId: string, groupIds: readonly string[]): Promise<Set<string>>;
  listGroupOwners(groupId: string): Promise<GroupOwner[]>;
  getDecisionContext(query: { deciderId: string; requesterId: string; groupId: string }): Promise<DecisionContext>;
  getTenantInfo(): Promise<TenantInfo>;
  getInviteContext(query: { actorId: string; groupId: string; appId: string; email: string }): Promise<InviteContext>;
  /** A user with this address (mail or otherMails), read plainly (not from the advanced-query index). */
  findUserByEmail(email: string): Promise<DirectoryUser | null>;
  /**
   * `language`: the invitation email's language (BCP 47, e.g. nl-NL), sent as invitedUserMessageInfo.messageLanguage.
   */
  inviteGuest(input: InvitationInput): Promise<InvitationResult>;
  /**
   * Adds a user to a group. When Graph refuses with 400, membership is read (checkMemberGroups): a user who is
   * in the group then gives `added: false`; otherwise the error stands.
   */
  addGroupMember(groupId: string, userId: string): Promise<AddMemberResult>;
  /** Users by address (mail or otherMails), plain reads in `$batch` of 20; an address without a user maps to null. */
  findUsersByEmails(emails: readonly string[]): Promise<Map<string, DirectoryUser | null>>;
  /** Of these users, the ones that are members of the group (checkMemberGroups per user, in `$batch`). */
  membersAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Up to 20 invitations in one `$batch`, nothing retried: each key maps to its result or its error (an item
   * answered 5xx/504, or missing, may have taken effect). The batch's own failure is thrown. `send: false` sends
   * no invitation email (sendInvitationMessage; default true).
   */
  inviteGuests(inputs: ReadonlyArray<BatchInvitationInput>): Promise<Map<string, InvitationResult | DirectoryError>>;
  /** Adds up to 20 users in one `PATCH /groups/{id}` with `members@odata.bind`: all or none (a refusal is thrown). */
  addGroupMembers(groupId: string, userIds: readonly string[]): Promise<{ requestId: string | null }>;
  /**
   * `DELETE /groups/{id}/members/{id}/$ref`; a 404 for a user who is not a member (any more) gives `removed: false`.
   */
  removeGroupMember(groupId: string, userId: string): Promise<{ removed: boolean; requestId: string | null }>;
  /** The group's direct members that are guests (plain read, filtered here: no advanced query). */
  listGuestMembers(groupId: string): Promise<GuestMember[]>;
  /** A user by id (`GET /users/{id}`, user-get.md), or null when there is none. */
  getUser(userId: string): Promise<DirectoryUser | null>;
  /** A user's sponsors (users and groups), `GET /users/{id}/sponsors` (User.Read.All). */
  listSponsors(userId: string): Promise<GroupOwner[]>;
  /** `POST /users/{id}/sponsors/$ref` (User.ReadWrite.All); a sponsor already there gives `added: false`. */
  addSponsor(userId: string, sponsorId: string): Promise<AddMemberResult>;
}

export type DirectoryErrorKind =
  'unauthorized' | 'forbidden' | 'notFound' | 'badRequest' | 'throttled' | 'unavailable' | 'unknown';

/** A Graph failure, mapped once (errors.ts) into terms the domain can act on. */
export class DirectoryError extends Error {
  constructor(
    readonly kind: DirectoryErrorKind,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
    readonly retryAfterSeconds: number | null = null,
    /** For a 403 on a read or write: the application permission the docs require for that call. */
    readonly permission: string | null = null,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }

  /** The same error, naming the permission the refused call needs. */
  needing(permission: string): DirectoryError {
    return new DirectoryError(
      this.kind,
      this.status,
      this.code,
      this.message,
      this.requestId,
      this.retryAfterSeconds,
      permission,
    );
  }
}

/** A 403 Authorization_RequestDenied: the app lacks a permission (or the object is protected). */
export function isPermissionDenied(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError && err.kind === 'forbidden' && err.code === 'Authorization_RequestDenied';
}
