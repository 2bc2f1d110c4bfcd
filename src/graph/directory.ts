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

/** A group the user owns, with the apps it is assigned to. */
export interface OwnedGroup {
  group: GroupInfo;
  apps: Array<{ id: string; displayName: string }>;
}

export interface TenantInfo {
  id: string;
  displayName: string;
  verifiedDomains: string[];
}

/** Everything the invitation decision needs, read in one round trip. */
export interface InviteContext {
  group: GroupInfo | null;
  app: AppInfo | null;
  actorIsOwner: boolean;
  groupAssignedToApp: boolean;
  /** An existing user with that address (mail or otherMails), if any. */
  existingUser: DirectoryUser | null;
  /** Whether that existing user is already a member of the group. */
  existingUserIsMember: boolean;
  /** authorizationPolicy.allowInvitesFrom; null when it could not be read. */
  allowInvitesFrom: string | null;
  tenant: TenantInfo | null;
  requestId: string | null;
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

/** An app with the groups assigned to it (the tenant's self-service catalog). */
export interface CatalogApp {
  id: string;
  displayName: string;
  groups: Array<{ group: GroupInfo; ownerCount: number }>;
}

/** What a decision on a membership request needs, read in one round trip. */
export interface DecisionContext {
  group: GroupInfo | null;
  deciderIsOwner: boolean;
  requesterIsMember: boolean;
  requestId: string | null;
}

export interface Directory {
  /** authorizationPolicy.allowInvitesFrom (needs Policy.Read.All). */
  getAllowInvitesFrom(): Promise<string | null>;
  /** roleTemplateIds of the directory roles the user holds (direct). */
  listRoleTemplateIds(userId: string): Promise<string[]>;
  /** Members of the activated directory roles with these template ids. */
  listRoleMembers(roleTemplateIds: readonly string[]): Promise<Set<string>>;
  /** Enterprise apps with group assignments, each group with its properties and number of owners (up to 20 counted). */
  listCatalog(): Promise<CatalogApp[]>;
  /** Ids of the groups the user is a direct member of. */
  listMemberGroupIds(userId: string): Promise<Set<string>>;
  listGroupOwners(groupId: string): Promise<GroupOwner[]>;
  getDecisionContext(query: { deciderId: string; requesterId: string; groupId: string }): Promise<DecisionContext>;
  listOwnedGroupsWithApps(userId: string): Promise<OwnedGroup[]>;
  getTenantInfo(): Promise<TenantInfo>;
  getInviteContext(query: { actorId: string; groupId: string; appId: string; email: string }): Promise<InviteContext>;
  inviteGuest(input: { email: string; redirectUrl: string; message: string | null }): Promise<InvitationResult>;
  /** Adds a user to a group; `added: false` when the user already was a member. */
  addGroupMember(groupId: string, userId: string): Promise<AddMemberResult>;
}

export type DirectoryErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'badRequest'
  | 'alreadyExists'
  | 'throttled'
  | 'unavailable'
  | 'unknown';

/** A Graph failure, mapped once (errors.ts) into terms the domain can act on. */
export class DirectoryError extends Error {
  constructor(
    readonly kind: DirectoryErrorKind,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}
