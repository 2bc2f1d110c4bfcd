import { randomBytes, randomUUID } from 'node:crypto';
import { toJsonValue, type JsonObject } from './json';
import type { AllowInvitesFrom, SeedDirectoryRole, SeedGroup, SeedServicePrincipal, SeedUser } from './seed';
import { GUEST_USER_ROLE_ID, base64url, guidBytes, lower, seededTime } from './tenantShapes';

/* The tenant's objects shaped as Graph v1.0 returns them, built from seed entries. */

const ROLE_DESCRIPTIONS: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10':
    'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  'fe930be7-5e62-47db-91af-98c3a49a38b1':
    'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  'fdd7a751-b60b-444a-984c-02652fe8fa1c':
    'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.',
  '95e79109-95c0-4d8e-aee3-d01accf2d47b':
    "Can invite guest users independent of the 'members can invite guests' setting.",
};

const RELATIONSHIP_FIELDS = new Set(['owners', 'members', 'appRoleAssignedTo']);

const ON_PREMISES_SID_PREFIX = 'S-1-5-21-1004336348-1177238915-682003330-';

function securityIdentifier(id: string): string {
  const b = guidBytes(id);
  const parts = [0, 4, 8, 12].map((o) => b.readUInt32LE(o));
  return `S-1-12-1-${parts.join('-')}`;
}

function extraProperties(source: Record<string, unknown>, known: Set<string>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) {
    if (known.has(k) || RELATIONSHIP_FIELDS.has(k) || v === undefined) continue;
    out[k] = toJsonValue(v);
  }
  return out;
}

function splitName(displayName: string): { givenName: string | null; surname: string | null } {
  const parts = displayName.trim().split(/\s+/);
  if (parts.length < 2) return { givenName: parts[0] || null, surname: null };
  return { givenName: parts[0], surname: parts.slice(1).join(' ') };
}

/** A new appRoleAssignment id: the principal's id bytes and random bytes, base64url. */
export function newAssignmentId(principalId: string): string {
  return base64url(Buffer.concat([guidBytes(principalId), randomBytes(16)]));
}

/** A user as Graph returns it, from a seed entry (also used for users created by invitations). */
export function userObject(u: SeedUser, created: string, defaultDomain: string): JsonObject {
  const known = new Set([
    'id',
    'displayName',
    'userPrincipalName',
    'userType',
    'mail',
    'otherMails',
    'accountEnabled',
    'externalUserState',
    'preferredLanguage',
  ]);
  const guest = u.userType === 'Guest';
  const names = guest ? { givenName: null, surname: null } : splitName(u.displayName);
  const mail = u.mail === undefined ? (guest ? null : u.userPrincipalName) : u.mail;
  const base: JsonObject = {
    id: lower(u.id),
    deletedDateTime: null,
    accountEnabled: u.accountEnabled ?? true,
    ageGroup: null,
    businessPhones: [],
    city: null,
    companyName: null,
    country: null,
    createdDateTime: created,
    creationType: guest ? 'Invitation' : null,
    department: null,
    displayName: u.displayName,
    employeeId: null,
    employeeType: null,
    externalUserState: guest ? (u.externalUserState ?? 'PendingAcceptance') : null,
    externalUserStateChangeDateTime: guest ? created : null,
    givenName: names.givenName,
    identities: [{ signInType: 'userPrincipalName', issuer: defaultDomain, issuerAssignedId: u.userPrincipalName }],
    jobTitle: null,
    mail,
    mailNickname: u.userPrincipalName.split('@')[0].replace(/#EXT#$/i, ''),
    mobilePhone: null,
    officeLocation: null,
    onPremisesSyncEnabled: null,
    otherMails: u.otherMails ?? [],
    preferredLanguage: u.preferredLanguage ?? (guest ? null : 'en-US'),
    proxyAddresses: mail ? [`SMTP:${mail}`] : [],
    surname: names.surname,
    usageLocation: null,
    userPrincipalName: u.userPrincipalName,
    userType: u.userType,
  };
  return { ...base, ...extraProperties(u, known) };
}

/**
 * A group as Graph returns it.
 * @param mailDomain the tenant's first verified domain that is not *.onmicrosoft.com
 * @param ordinal how many groups were built before this one (numbers the on-premises security identifier)
 */
export function groupObject(g: SeedGroup, created: string, mailDomain: string, ordinal: number): JsonObject {
  const known = new Set([
    'id',
    'displayName',
    'description',
    'securityEnabled',
    'mailEnabled',
    'groupTypes',
    'membershipRule',
    'membershipRuleProcessingState',
    'onPremisesSyncEnabled',
    'isAssignableToRole',
  ]);
  const nickname = g.displayName.replace(/[^A-Za-z0-9]/g, '') || 'group';
  const mail = g.mailEnabled ? `${nickname}@${mailDomain}` : null;
  const synced = g.onPremisesSyncEnabled === true;
  const base: JsonObject = {
    id: lower(g.id),
    deletedDateTime: null,
    classification: null,
    createdDateTime: created,
    description: g.description ?? null,
    displayName: g.displayName,
    expirationDateTime: null,
    groupTypes: [...g.groupTypes],
    isAssignableToRole: g.isAssignableToRole ?? null,
    mail,
    mailEnabled: g.mailEnabled,
    mailNickname: nickname,
    membershipRule: g.membershipRule ?? null,
    membershipRuleProcessingState: g.membershipRuleProcessingState ?? null,
    onPremisesDomainName: synced ? mailDomain : null,
    onPremisesLastSyncDateTime: synced ? created : null,
    onPremisesNetBiosName: synced ? mailDomain.split('.')[0].toUpperCase() : null,
    onPremisesSamAccountName: synced ? nickname : null,
    onPremisesSecurityIdentifier: synced ? `${ON_PREMISES_SID_PREFIX}${1000 + ordinal}` : null,
    onPremisesSyncEnabled: g.onPremisesSyncEnabled ?? null,
    onPremisesProvisioningErrors: [],
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: mail ? [`SMTP:${mail}`] : [],
    renewedDateTime: created,
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: [],
    securityEnabled: g.securityEnabled,
    securityIdentifier: securityIdentifier(g.id),
    serviceProvisioningErrors: [],
    theme: null,
    visibility: g.groupTypes.includes('Unified') ? 'Private' : null,
  };
  return { ...base, ...extraProperties(g, known) };
}

export function servicePrincipalObject(sp: SeedServicePrincipal, tenantId: string): JsonObject {
  const known = new Set(['id', 'appId', 'displayName', 'homepage', 'loginUrl', 'appRoleAssignmentRequired', 'tags']);
  const base: JsonObject = {
    id: lower(sp.id),
    deletedDateTime: null,
    accountEnabled: true,
    addIns: [],
    alternativeNames: [],
    appDescription: null,
    appDisplayName: sp.displayName,
    appId: lower(sp.appId),
    applicationTemplateId: null,
    appOwnerOrganizationId: tenantId,
    appRoleAssignmentRequired: sp.appRoleAssignmentRequired ?? false,
    appRoles: [],
    description: null,
    disabledByMicrosoftStatus: null,
    displayName: sp.displayName,
    homepage: sp.homepage ?? null,
    keyCredentials: [],
    loginUrl: sp.loginUrl ?? null,
    logoutUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    oauth2PermissionScopes: [],
    passwordCredentials: [],
    preferredSingleSignOnMode: null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: [],
    resourceSpecificApplicationPermissions: [],
    samlSingleSignOnSettings: null,
    servicePrincipalNames: [lower(sp.appId)],
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMyOrg',
    tags: sp.tags ?? [],
    tokenEncryptionKeyId: null,
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
  return { ...base, ...extraProperties(sp, known) };
}

export function organizationObject(id: string, displayName: string, domains: string[]): JsonObject {
  const initial = domains.findIndex((d) => d.endsWith('.onmicrosoft.com'));
  return {
    id,
    deletedDateTime: null,
    assignedPlans: [],
    businessPhones: [],
    city: null,
    country: null,
    countryLetterCode: 'US',
    createdDateTime: seededTime(-60 * 24 * 30),
    defaultUsageLocation: null,
    displayName,
    marketingNotificationEmails: [],
    onPremisesLastSyncDateTime: null,
    onPremisesSyncEnabled: null,
    partnerTenantType: null,
    postalCode: null,
    preferredLanguage: 'en',
    privacyProfile: null,
    provisionedPlans: [],
    securityComplianceNotificationMails: [],
    securityComplianceNotificationPhones: [],
    state: null,
    street: null,
    technicalNotificationMails: [],
    tenantType: 'AAD',
    verifiedDomains: domains.map((name, i) => ({
      capabilities: name.endsWith('.onmicrosoft.com') ? 'Email, OfficeCommunicationsOnline' : 'Email',
      isDefault: i === 0,
      isInitial: name.endsWith('.onmicrosoft.com') && initial === i,
      name,
      type: 'Managed',
    })),
  };
}

export function authorizationPolicyObject(allowInvitesFrom: AllowInvitesFrom): JsonObject {
  return {
    id: 'authorizationPolicy',
    allowInvitesFrom,
    allowedToSignUpEmailBasedSubscriptions: true,
    allowedToUseSSPR: true,
    allowEmailVerifiedUsersToJoinOrganization: false,
    allowUserConsentForRiskyApps: null,
    blockMsolPowerShell: false,
    defaultUserRolePermissions: {
      allowedToCreateApps: true,
      allowedToCreateSecurityGroups: true,
      allowedToCreateTenants: true,
      allowedToReadBitlockerKeysForOwnedDevice: true,
      allowedToReadOtherUsers: true,
      permissionGrantPoliciesAssigned: ['ManagePermissionGrantsForSelf.microsoft-user-default-legacy'],
    },
    deletedDateTime: null,
    description: 'Used to manage authorization related settings across the company.',
    displayName: 'Authorization Policy',
    guestUserRoleId: GUEST_USER_ROLE_ID,
  };
}

/** A directory role as Graph returns it (activated roles only). */
export function directoryRoleObject(r: SeedDirectoryRole): JsonObject {
  const id = lower(r.id ?? randomUUID());
  return {
    id,
    deletedDateTime: null,
    description: ROLE_DESCRIPTIONS[lower(r.roleTemplateId)] ?? null,
    displayName: r.displayName,
    roleTemplateId: lower(r.roleTemplateId),
  };
}
