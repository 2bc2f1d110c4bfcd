/**
 * The directory port over Microsoft Graph v1.0, through the real Graph client. Every call is one the docs support
 * with application permissions (src/graph/permissions.ts); authorization reads (owners, assignments, membership)
 * are plain reads, never the eventually consistent advanced-query index (group-list-owners.md).
 *
 * This class is the port's face; the calls live per resource: users, invitations and sponsors in `userCalls.ts`,
 * groups and membership in `groupCalls.ts`, apps, the catalog and the tenant in `catalogCalls.ts`, shared URL
 * pieces and conversions in `graphValues.ts`, the transport and `$batch` plumbing in `graphHttp.ts`.
 */
import type {
  AddMemberResult,
  BatchInvitationInput,
  CatalogApp,
  DecisionContext,
  Directory,
  DirectoryError,
  DirectoryUser,
  GroupOwner,
  GuestMember,
  InvitationInput,
  InvitationResult,
  InviteContext,
  TenantInfo,
} from './directory';
import * as catalog from './catalogCalls';
import * as groups from './groupCalls';
import type { GraphHttp } from './graphHttp';
import * as users from './userCalls';

export class GraphDirectory implements Directory {
  constructor(private readonly http: GraphHttp) {}

  listCatalog(): Promise<CatalogApp[]> {
    return catalog.listCatalog(this.http);
  }

  getAllowInvitesFrom(): Promise<string | null> {
    return catalog.getAllowInvitesFrom(this.http);
  }

  listRoleMembers(roleTemplateIds: readonly string[]): Promise<Set<string>> {
    return catalog.listRoleMembers(this.http, roleTemplateIds);
  }

  getTenantInfo(): Promise<TenantInfo> {
    return catalog.getTenantInfo(this.http);
  }

  getInviteContext(query: { actorId: string; groupId: string; appId: string; email: string }): Promise<InviteContext> {
    return catalog.getInviteContext(this.http, query);
  }

  checkMemberGroups(userId: string, groupIds: readonly string[]): Promise<Set<string>> {
    return groups.checkMemberGroups(this.http, userId, groupIds);
  }

  listGroupOwners(groupId: string): Promise<GroupOwner[]> {
    return groups.listGroupOwners(this.http, groupId);
  }

  getDecisionContext(query: { deciderId: string; requesterId: string; groupId: string }): Promise<DecisionContext> {
    return groups.getDecisionContext(this.http, query);
  }

  addGroupMember(groupId: string, userId: string): Promise<AddMemberResult> {
    return groups.addGroupMember(this.http, groupId, userId);
  }

  membersAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>> {
    return groups.membersAmong(this.http, groupId, userIds);
  }

  addGroupMembers(groupId: string, userIds: readonly string[]): Promise<{ requestId: string | null }> {
    return groups.addGroupMembers(this.http, groupId, userIds);
  }

  removeGroupMember(groupId: string, userId: string): Promise<{ removed: boolean; requestId: string | null }> {
    return groups.removeGroupMember(this.http, groupId, userId);
  }

  listGuestMembers(groupId: string): Promise<GuestMember[]> {
    return groups.listGuestMembers(this.http, groupId);
  }

  findUserByEmail(email: string): Promise<DirectoryUser | null> {
    return users.findUserByEmail(this.http, email);
  }

  findUsersByEmails(emails: readonly string[]): Promise<Map<string, DirectoryUser | null>> {
    return users.findUsersByEmails(this.http, emails);
  }

  getUser(userId: string): Promise<DirectoryUser | null> {
    return users.getUser(this.http, userId);
  }

  inviteGuest(input: InvitationInput): Promise<InvitationResult> {
    return users.inviteGuest(this.http, input);
  }

  inviteGuests(inputs: ReadonlyArray<BatchInvitationInput>): Promise<Map<string, InvitationResult | DirectoryError>> {
    return users.inviteGuests(this.http, inputs);
  }

  listSponsors(userId: string): Promise<GroupOwner[]> {
    return users.listSponsors(this.http, userId);
  }

  addSponsor(userId: string, sponsorId: string): Promise<AddMemberResult> {
    return users.addSponsor(this.http, userId, sponsorId);
  }
}
