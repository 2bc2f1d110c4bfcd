import type { JsonObject } from './json';

/** Types, constants and small helpers the tenant's modules share. */

export type ObjectKind = 'user' | 'group' | 'servicePrincipal' | 'directoryRole';

export interface DirectoryEntry {
  kind: ObjectKind;
  props: JsonObject;
}

export interface AssignmentRecord {
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

/** A clock in milliseconds since the epoch (tests inject a fake one). */
export type Clock = () => number;

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_APP_ROLE_ID = '00000000-0000-0000-0000-000000000000';
export const GUEST_USER_ROLE_ID = '10dae51f-b6af-4016-8d66-8c2a99b929b3';

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

export function base64url(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function guidBytes(guid: string): Buffer {
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}

export function seededTime(index: number): string {
  const base = Date.UTC(2024, 0, 15, 9, 0, 0);
  return new Date(base + index * 60_000).toISOString().replace(/\.000Z$/, 'Z');
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function lower(s: string): string {
  return s.toLowerCase();
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export function domainMatches(domain: string, entry: string): boolean {
  const e = entry.trim().toLowerCase();
  if (e.startsWith('*.')) return domain.endsWith(e.slice(1));
  return domain === e;
}
