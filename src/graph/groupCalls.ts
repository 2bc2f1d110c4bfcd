/**
 * The Graph calls about groups and membership: owners, membership checks, adding and removing members, the guest
 * members, and the one `$batch` an approval decision reads. Each cites its doc page in
 * microsoftgraph/microsoft-graph-docs-contrib (api-reference/v1.0/api/...).
 */
import {
  DirectoryError,
  type AddMemberResult,
  type DecisionContext,
  type GroupOwner,
  type GuestMember,
} from './directory';
import { addSettlingBadRequest, needing } from './errors';
import { asRecord, ok, okOrNull, str, values, type GraphHttp } from './graphHttp';
import {
  GROUP_SELECT,
  checkMembersStep,
  directoryObjectRef,
  ids,
  isUser,
  ownersStep,
  q,
  toGroup,
  toNamed,
} from './graphValues';
import { NEEDS } from './permissions';

const MAX_CHECK_GROUPS = 20;

/**
 * `POST /users/{id}/checkMemberGroups`, 20 groups a request (directoryobject-checkmembergroups.md). A user that does
 * not exist is in no group.
 */
export async function checkMemberGroups(
  http: GraphHttp,
  userId: string,
  groupIds: readonly string[],
): Promise<Set<string>> {
  const chunks: string[][] = [];
  for (let i = 0; i < groupIds.length; i += MAX_CHECK_GROUPS) chunks.push(groupIds.slice(i, i + MAX_CHECK_GROUPS));
  if (chunks.length === 0) return new Set();
  const { responses } = await http.batch(chunks.map((chunk, i) => checkMembersStep(`c${i}`, userId, chunk)));
  const member = new Set<string>();
  chunks.forEach((_, i) => {
    for (const id of values(okOrNull(responses, `c${i}`, NEEDS.checkMembers)))
      if (typeof id === 'string') member.add(id);
  });
  return member;
}

/** `POST /users/{id}/checkMemberGroups` per user, in `$batch` (directoryobject-checkmembergroups.md). */
export async function membersAmong(http: GraphHttp, groupId: string, userIds: readonly string[]): Promise<Set<string>> {
  const members = new Set<string>();
  if (userIds.length === 0) return members;
  const { responses } = await http.batch(userIds.map((userId, i) => checkMembersStep(`m${i}`, userId, [groupId])));
  userIds.forEach((userId, i) => {
    if (values(okOrNull(responses, `m${i}`, NEEDS.checkMembers)).includes(groupId)) members.add(userId);
  });
  return members;
}

/** group-list-owners.md: the owners that are users, a plain read. */
export async function listGroupOwners(http: GraphHttp, groupId: string): Promise<GroupOwner[]> {
  const owners = await needing(NEEDS.groups, () =>
    http.getAll(`/groups/${q(groupId)}/owners?$select=id,displayName&$top=999`),
  );
  return owners.map(asRecord).filter(isUser).map(toNamed);
}

/** One `$batch` of plain reads: the group, all its owners and whether the requester is a member. */
export async function getDecisionContext(
  http: GraphHttp,
  query: { deciderId: string; requesterId: string; groupId: string },
): Promise<DecisionContext> {
  const { responses, requestId } = await http.batch([
    { id: 'group', method: 'GET', url: `/groups/${q(query.groupId)}?$select=${GROUP_SELECT}` },
    ownersStep('owners', query.groupId),
    checkMembersStep('member', query.requesterId, [query.groupId]),
  ]);
  const groupBody = okOrNull(responses, 'group', NEEDS.groups);
  if (groupBody === null) return { group: null, deciderIsOwner: false, requesterIsMember: false, requestId };
  return {
    group: toGroup(groupBody),
    deciderIsOwner: ids(values(ok(responses, 'owners', NEEDS.groups))).includes(query.deciderId),
    requesterIsMember: values(okOrNull(responses, 'member', NEEDS.checkMembers)).includes(query.groupId),
    requestId,
  };
}

/**
 * `POST /groups/{id}/members/$ref` (group-post-members.md: 400 when the member is already there). The docs do not
 * promise that error's wording, so a 400 is settled by reading membership: a member gives `added: false`.
 */
export function addGroupMember(http: GraphHttp, groupId: string, userId: string): Promise<AddMemberResult> {
  return addSettlingBadRequest(
    () =>
      needing(NEEDS.memberWrite, () =>
        http.send('POST', `/groups/${q(groupId)}/members/$ref`, { '@odata.id': directoryObjectRef(userId) }),
      ),
    async () => (await checkMemberGroups(http, userId, [groupId])).has(groupId),
  );
}

/**
 * `PATCH /groups/{id}` with `members@odata.bind`, up to 20 (group-post-members.md, "add multiple members in a single
 * request"; all or none). Its permission is not settled by the docs (permissions.md note 11); a refusal is thrown.
 */
export async function addGroupMembers(
  http: GraphHttp,
  groupId: string,
  userIds: readonly string[],
): Promise<{ requestId: string | null }> {
  const binds = userIds.map((id) => directoryObjectRef(id));
  const response = await needing(NEEDS.memberWrite, () =>
    http.send('PATCH', `/groups/${q(groupId)}`, { 'members@odata.bind': binds }),
  );
  return { requestId: response.requestId };
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
