import { badRequest } from '../errors';
import { isJsonObject } from '../json';
import { METADATA_URL } from '../odata';
import type { SimResponse } from '../pipeline';
import type { Resources } from './resources';
import { ok, type Call, type RouteTable } from './support';

function invite(r: Resources, { req }: Call): SimResponse {
  if (!isJsonObject(req.body)) throw badRequest('The request body must be a JSON invitation object.');
  const body = req.body;
  const email = body.invitedUserEmailAddress;
  if (typeof email !== 'string' || email.trim() === '') {
    throw badRequest('The invitedUserEmailAddress property is required.');
  }
  const local = email.trim().split('@')[0] ?? '';
  if (
    !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim()) ||
    /[~!#$%^&*()+=[\]{}\\/|;:"<>?,]/.test(local) ||
    /^[.-]|[.-]$/.test(local)
  ) {
    throw badRequest(`The invitedUserEmailAddress '${email}' is not a valid email address.`);
  }
  const redirect = body.inviteRedirectUrl;
  if (typeof redirect !== 'string' || redirect.trim() === '') {
    throw badRequest('The inviteRedirectUrl property is required.');
  }
  const invitedUserType = body.invitedUserType;
  const knownType = invitedUserType === 'Guest' || invitedUserType === 'Member';
  if (invitedUserType !== undefined && invitedUserType !== null && !knownType) {
    throw badRequest(`Invalid invitedUserType '${String(invitedUserType)}'.`);
  }
  const messageInfo = body.invitedUserMessageInfo;
  const sent = r.tenant.invite({
    invitedUserEmailAddress: email,
    inviteRedirectUrl: redirect,
    invitedUserDisplayName: typeof body.invitedUserDisplayName === 'string' ? body.invitedUserDisplayName : null,
    sendInvitationMessage: typeof body.sendInvitationMessage === 'boolean' ? body.sendInvitationMessage : false,
    invitedUserMessageInfo: isJsonObject(messageInfo) ? messageInfo : null,
    invitedUserType: typeof invitedUserType === 'string' ? invitedUserType : 'Guest',
    invitedUserSponsors: Array.isArray(body.invitedUserSponsors)
      ? body.invitedUserSponsors
          .map((s) => (isJsonObject(s) && typeof s.id === 'string' ? s.id : ''))
          .filter((id) => id !== '')
      : [],
  });
  const response = ok({ '@odata.context': `${METADATA_URL}#invitations/$entity`, ...sent.invitation }, 201);
  if (sent.createdUser) response.createdObjects = [{ kind: 'user', id: sent.userId }];
  return response;
}

/** POST /invitations. */
export function invitationRoutes(r: Resources): RouteTable {
  return [['POST /invitations', (c) => invite(r, c)]];
}
