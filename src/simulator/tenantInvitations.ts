import { randomBytes } from 'node:crypto';
import { GraphError, badRequest } from './errors';
import type { JsonObject, JsonValue } from './json';
import { base64url, domainMatches, domainOf, lower, type InvitationInput } from './tenantShapes';

/* POST /invitations as the tenant answers it: who may be invited, the guest's user principal name, the invitation. */

/** What an invitation is checked against: the tenant's verified domains and its external collaboration settings. */
export interface InvitationPolicy {
  allowInvitesFrom: string;
  domains: string[];
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** The user whose mail, other mails or user principal name is the address. */
export function findUserByAddress(users: Iterable<JsonObject>, address: string): JsonObject | undefined {
  const key = lower(address);
  for (const u of users) {
    if (typeof u.mail === 'string' && lower(u.mail) === key) return u;
    if (Array.isArray(u.otherMails) && u.otherMails.some((m) => typeof m === 'string' && lower(m) === key)) return u;
    if (typeof u.userPrincipalName === 'string' && lower(u.userPrincipalName) === key) return u;
  }
  return undefined;
}

/** Refuses an address the tenant's settings do not let anyone invite. */
export function checkInvitationPolicy(policy: InvitationPolicy, address: string): void {
  const allowInvitesFrom = policy.allowInvitesFrom;
  if (allowInvitesFrom === 'none' || allowInvitesFrom === 'adminsAndGuestInviters') {
    throw new GraphError(
      403,
      'Forbidden',
      'Guest invitations not allowed for your company. Contact your company administrator for more details.',
    );
  }
  const domain = domainOf(address);
  if (policy.domains.includes(domain)) {
    throw badRequest(
      `The invited user's email address '${address}' is in a verified domain of this organization (${domain}); add the user as a member instead of inviting them as a guest.`,
    );
  }
  const blocked =
    (policy.blockedDomains && policy.blockedDomains.some((d) => domainMatches(domain, d))) ||
    (policy.allowedDomains !== undefined && !policy.allowedDomains.some((d) => domainMatches(domain, d)));
  if (blocked) {
    throw badRequest(
      `The invitation to '${address}' is blocked: the domain '${domain}' is not allowed by this organization's B2B collaboration restrictions (allowed/blocked domains).`,
    );
  }
}

/** `address_with_underscore#EXT#@defaultDomain`, numbered when taken. */
export function guestUpn(address: string, defaultDomain: string, taken: (upn: string) => boolean): string {
  const base = address.replace('@', '_');
  let candidate = `${base}#EXT#@${defaultDomain}`;
  let n = 1;
  while (taken(candidate)) {
    candidate = `${base}${n}#EXT#@${defaultDomain}`;
    n += 1;
  }
  return candidate;
}

function redeemUrl(tenantId: string, invitationId: string): string {
  const ticket = base64url(randomBytes(24));
  const inner = `https://invitations.microsoft.com/redeem/?tenant=${tenantId}&user=${invitationId}&ticket=${ticket}&ver=2.0`;
  return `https://login.microsoftonline.com/redeem?rd=${encodeURIComponent(inner)}`;
}

/** The invitation object POST /invitations answers. */
export function invitationObject(
  tenantId: string,
  invitationId: string,
  input: InvitationInput,
  user: JsonObject,
  createdUser: boolean,
): JsonObject {
  const accepted = user.externalUserState === 'Accepted';
  const messageInfo = input.invitedUserMessageInfo ?? {};
  return {
    id: invitationId,
    inviteRedeemUrl: redeemUrl(tenantId, invitationId),
    invitedUserDisplayName: (input.invitedUserDisplayName ?? (createdUser ? null : user.displayName)) as JsonValue,
    invitedUserType: input.invitedUserType ?? 'Guest',
    invitedUserEmailAddress: input.invitedUserEmailAddress.trim(),
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
}
