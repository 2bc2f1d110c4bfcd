/**
 * The Graph calls of the guest lifecycle (removal, guest members, sponsors), used by GraphDirectory. Each cites its
 * doc page in microsoftgraph/microsoft-graph-docs-contrib (api-reference/v1.0/api/...).
 */
import { DirectoryError, type AddMemberResult, type GroupOwner, type GuestMember } from './directory';
import { asRecord, str, values, type GraphHttp } from './graphHttp';
import { NEEDS } from './permissions';

const q = encodeURIComponent;

/** Rethrows a 403 naming the application permission the refused call needs. */
export async function needing<T>(permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DirectoryError && err.kind === 'forbidden') throw err.needing(permission);
    throw err;
  }
}

/** group-delete-members.md: 204; 404 when the object is not a member (then nothing was removed by this call). */
export async function removeGroupMember(
  http: GraphHttp,
  groupId: string,
  userId: string,
): Promise<{ removed: boolean; requestId: string | null }> {
  try {
    const response = await needing(NEEDS.memberWrite, () =>
      http.send('DELETE', `/groups/${q(groupId)}/members/${q(userId)}/$ref`),
    );
    return { removed: true, requestId: response.requestId };
  } catch (err) {
    if (err instanceof DirectoryError && err.kind === 'notFound') return { removed: false, requestId: err.requestId };
    throw err;
  }
}

/**
 * group-list-members.md: a plain read of the direct members with user properties selected (user.md:
 * externalUserState, externalUserStateChangeDateTime); guests are picked here, since `$filter` on members is an
 * advanced query (ConsistencyLevel: eventual) served from the lagging index.
 */
export async function listGuestMembers(http: GraphHttp, groupId: string): Promise<GuestMember[]> {
  const select = 'id,displayName,mail,userType,externalUserState,externalUserStateChangeDateTime';
  const members = await needing(NEEDS.groups, () =>
    http.getAll(`/groups/${q(groupId)}/members?$select=${select}&$top=999`),
  );
  return members
    .map(asRecord)
    .filter((m) => m['@odata.type'] === '#microsoft.graph.user' && m.userType === 'Guest')
    .map((m) => ({
      id: String(m.id),
      displayName: str(m.displayName) ?? '',
      mail: str(m.mail),
      externalUserState: str(m.externalUserState),
      externalUserStateChangeDateTime: str(m.externalUserStateChangeDateTime),
    }));
}

/** user-list-sponsors.md (User.Read.All). */
export async function listSponsors(http: GraphHttp, userId: string): Promise<GroupOwner[]> {
  const response = await needing(NEEDS.users, () => http.get(`/users/${q(userId)}/sponsors?$select=id,displayName`));
  return values(response.body)
    .map(asRecord)
    .map((s) => ({ id: String(s.id), displayName: str(s.displayName) ?? '' }));
}

/** user-post-sponsors.md (User.ReadWrite.All): 204. A 400 is settled by reading the sponsors. */
export async function addSponsor(http: GraphHttp, userId: string, sponsorId: string): Promise<AddMemberResult> {
  try {
    const response = await needing(NEEDS.sponsorWrite, () =>
      http.send('POST', `/users/${q(userId)}/sponsors/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/users/${sponsorId}`,
      }),
    );
    return { added: true, requestId: response.requestId };
  } catch (err) {
    if (
      err instanceof DirectoryError &&
      err.kind === 'badRequest' &&
      (await listSponsors(http, userId)).some((s) => s.id === sponsorId)
    ) {
      return { added: false, requestId: err.requestId };
    }
    throw err;
  }
}
