/**
 * The Graph calls about users: finding them by address or id, inviting guests (one, or a `$batch` of invitations)
 * and their sponsors. Each cites its doc page in microsoftgraph/microsoft-graph-docs-contrib
 * (api-reference/v1.0/api/...).
 */
import {
  DirectoryError,
  type AddMemberResult,
  type BatchInvitationInput,
  type DirectoryUser,
  type GroupOwner,
  type InvitationInput,
  type InvitationResult,
} from './directory';
import { addSettlingBadRequest, needing, refusal } from './errors';
import { asRecord, batchOnce, ok, str, values, type BatchStep, type GraphHttp, type GraphResponse } from './graphHttp';
import { USER_SELECT, byAddress, directoryObjectRef, firstUser, q, toNamed, toUser } from './graphValues';
import { NEEDS } from './permissions';

/** A user with this address (mail or otherMails), read plainly (user-list.md). */
export async function findUserByEmail(http: GraphHttp, email: string): Promise<DirectoryUser | null> {
  const response = await needing(NEEDS.users, () =>
    http.get(`/users?$filter=${byAddress(email)}&$select=${USER_SELECT}`),
  );
  return firstUser(response.body);
}

/**
 * `GET /users?$filter=mail eq … or otherMails/any(…)` per address, in `$batch` (user-list.md;
 * concepts/json-batching.md).
 */
export async function findUsersByEmails(
  http: GraphHttp,
  emails: readonly string[],
): Promise<Map<string, DirectoryUser | null>> {
  const found = new Map<string, DirectoryUser | null>();
  if (emails.length === 0) return found;
  const { responses } = await http.batch(
    emails.map((email, i) => ({
      id: `u${i}`,
      method: 'GET' as const,
      url: `/users?$filter=${byAddress(email)}&$select=${USER_SELECT}`,
    })),
  );
  emails.forEach((email, i) => found.set(email, firstUser(ok(responses, `u${i}`, NEEDS.users))));
  return found;
}

/** user-get.md: a user by id, or null when there is none. */
export async function getUser(http: GraphHttp, userId: string): Promise<DirectoryUser | null> {
  try {
    const response = await needing(NEEDS.users, () => http.get(`/users/${q(userId)}?$select=${USER_SELECT}`));
    return toUser(response.body);
  } catch (err) {
    if (err instanceof DirectoryError && err.kind === 'notFound') return null;
    throw err;
  }
}

/**
 * The body of `POST /invitations` (invitation-post.md). `send: false` (a row of Entra's bulk template saying so)
 * sends no invitation email: the guest is created and can still redeem through the app or My Apps.
 */
function invitationBody(input: InvitationInput & { send?: boolean }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    invitedUserEmailAddress: input.email,
    inviteRedirectUrl: input.redirectUrl,
    sendInvitationMessage: input.send ?? true,
  };
  // invitedusermessageinfo.md: messageLanguage is the language of Microsoft's invitation email (default en-US); a
  // customizedMessageBody is sent as written, whatever the language.
  const messageInfo: Record<string, unknown> = {};
  if (input.language) messageInfo.messageLanguage = input.language;
  if (input.message) messageInfo.customizedMessageBody = input.message;
  if (Object.keys(messageInfo).length > 0) body.invitedUserMessageInfo = messageInfo;
  return body;
}

function toInvitationResult(response: GraphResponse): InvitationResult {
  const invitation = asRecord(response.body);
  return {
    userId: String(asRecord(invitation.invitedUser).id),
    redeemUrl: str(invitation.inviteRedeemUrl),
    status: str(invitation.status),
    requestId: response.requestId,
  };
}

/** `POST /invitations` (invitation-post.md). */
export async function inviteGuest(http: GraphHttp, input: InvitationInput): Promise<InvitationResult> {
  const response = await needing(NEEDS.invite, () => http.send('POST', '/invitations', invitationBody(input)));
  return toInvitationResult(response);
}

/** `POST /invitations` (invitation-post.md) as items of one `$batch`, each answered on its own, nothing retried. */
export async function inviteGuests(
  http: GraphHttp,
  inputs: ReadonlyArray<BatchInvitationInput>,
): Promise<Map<string, InvitationResult | DirectoryError>> {
  const steps: BatchStep[] = inputs.map((input, i) => ({
    id: `i${i}`,
    method: 'POST',
    url: '/invitations',
    body: invitationBody(input),
  }));
  const responses = await needing(NEEDS.invite, () => batchOnce(http, steps));
  const out = new Map<string, InvitationResult | DirectoryError>();
  inputs.forEach((input, i) => {
    const response = responses.get(`i${i}`);
    if (!response) {
      out.set(
        input.key,
        new DirectoryError('unavailable', 504, 'MissingBatchResponse', `No response for batch item i${i}`),
      );
    } else if (response.status >= 300) {
      out.set(input.key, refusal(response.status, response.body, response.headers, NEEDS.invite));
    } else {
      out.set(input.key, toInvitationResult(response));
    }
  });
  return out;
}

/** user-list-sponsors.md (User.Read.All). */
export async function listSponsors(http: GraphHttp, userId: string): Promise<GroupOwner[]> {
  const response = await needing(NEEDS.users, () => http.get(`/users/${q(userId)}/sponsors?$select=id,displayName`));
  return values(response.body).map(toNamed);
}

/** user-post-sponsors.md (User.ReadWrite.All): 204. A 400 is settled by reading the sponsors. */
export function addSponsor(http: GraphHttp, userId: string, sponsorId: string): Promise<AddMemberResult> {
  return addSettlingBadRequest(
    () =>
      needing(NEEDS.sponsorWrite, () =>
        http.send('POST', `/users/${q(userId)}/sponsors/$ref`, { '@odata.id': directoryObjectRef(sponsorId, 'users') }),
      ),
    async () => (await listSponsors(http, userId)).some((s) => s.id === sponsorId),
  );
}
