import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import seedSchema from './tenant-seed.schema.json';
import { projectRoot } from '../projectRoot';
import type { SeedTeamsApps } from './teamsApps';

export type AllowInvitesFrom = 'none' | 'adminsAndGuestInviters' | 'adminsGuestInvitersAndAllMembers' | 'everyone';
export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal';

export interface SeedTenant {
  id: string;
  displayName: string;
  /** The first is the default domain, used in guests' #EXT# user principal names. */
  verifiedDomains: string[];
}

export interface SeedUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  userType: 'Member' | 'Guest';
  mail?: string | null;
  otherMails?: string[];
  accountEnabled?: boolean;
  externalUserState?: 'PendingAcceptance' | 'Accepted' | null;
  preferredLanguage?: string | null;
  /** Any other user property, Graph-shaped (e.g. companyName, jobTitle). */
  [property: string]: unknown;
}

export interface SeedGroup {
  id: string;
  displayName: string;
  description?: string | null;
  securityEnabled: boolean;
  mailEnabled: boolean;
  groupTypes: Array<'Unified' | 'DynamicMembership'>;
  membershipRule?: string | null;
  membershipRuleProcessingState?: 'On' | 'Paused' | null;
  onPremisesSyncEnabled?: boolean | null;
  isAssignableToRole?: boolean | null;
  /** user ids */
  owners: string[];
  /** user ids */
  members: string[];
  [property: string]: unknown;
}

export interface SeedAppRoleAssignment {
  id?: string;
  principalId: string;
  principalType: PrincipalType;
  appRoleId?: string;
}

export interface SeedServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  homepage?: string | null;
  loginUrl?: string | null;
  appRoleAssignmentRequired?: boolean;
  tags?: string[];
  appRoleAssignedTo: SeedAppRoleAssignment[];
  [property: string]: unknown;
}

export interface SeedDirectoryRole {
  id?: string;
  roleTemplateId: string;
  displayName: string;
  members: string[];
}

export interface TenantSeed {
  tenant: SeedTenant;
  users: SeedUser[];
  groups: SeedGroup[];
  servicePrincipals: SeedServicePrincipal[];
  directoryRoles?: SeedDirectoryRole[];
  authorizationPolicy?: { allowInvitesFrom?: AllowInvitesFrom };
  b2bDomains?: { allowedDomains?: string[]; blockedDomains?: string[] };
  /**
   * Application permissions granted to the app (names as in Graph's permission tables). When present, each
   * request needs one of the permissions the docs list for its endpoint (src/simulator/permissions.ts).
   */
  applicationPermissions?: string[];
  /** Advanced-query index lag in milliseconds (reads with ConsistencyLevel: eventual); default 0. */
  indexLag?: number;
  /** The org app catalog, personal-scope installations and app permission policy blocks. */
  teamsApps?: SeedTeamsApps;
}

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true });
    compiled = ajv.compile(seedSchema);
  }
  return compiled;
}

function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown property '${String((e.params as { additionalProperty: string }).additionalProperty)}'`;
    case 'required':
      return `${where}: missing required property '${String((e.params as { missingProperty: string }).missingProperty)}'`;
    case 'enum':
      return `${where}: must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    case 'pattern':
      return `${where}: must be a GUID (${e.message ?? 'pattern mismatch'})`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/** Checks that every relationship names an object of the seed and that ids are unique. */
/** Ids used twice (across users, groups, service principals and roles) and user principal names used twice. */
function duplicateProblems(seed: TenantSeed): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string>();
  const claim = (id: string, where: string): void => {
    const key = id.toLowerCase();
    const previous = ids.get(key);
    if (previous) problems.push(`${where}: id '${id}' is already used by ${previous}`);
    else ids.set(key, where);
  };
  const upns = new Map<string, string>();
  seed.users.forEach((u, i) => {
    claim(u.id, `/users/${i}`);
    const upn = u.userPrincipalName.toLowerCase();
    const other = upns.get(upn);
    if (other) problems.push(`/users/${i}/userPrincipalName: '${u.userPrincipalName}' is already used by ${other}`);
    else upns.set(upn, `/users/${i}`);
  });
  seed.groups.forEach((g, i) => claim(g.id, `/groups/${i}`));
  seed.servicePrincipals.forEach((sp, i) => claim(sp.id, `/servicePrincipals/${i}`));
  (seed.directoryRoles ?? []).forEach((r, i) => {
    if (r.id) claim(r.id, `/directoryRoles/${i}`);
  });
  return problems;
}

/** Lower-cased ids of the seed's users, groups and service principals, for the reference checks. */
interface SeedIds {
  users: Set<string>;
  groups: Set<string>;
  servicePrincipals: Set<string>;
}

function seedIds(seed: TenantSeed): SeedIds {
  const lower = (items: Array<{ id: string }>): Set<string> => new Set(items.map((o) => o.id.toLowerCase()));
  return { users: lower(seed.users), groups: lower(seed.groups), servicePrincipals: lower(seed.servicePrincipals) };
}

/** Group owners and members that are no user, app assignments to principals that do not exist. */
function membershipProblems(seed: TenantSeed, ids: SeedIds): string[] {
  const problems: string[] = [];
  seed.groups.forEach((g, i) => {
    g.owners.forEach((id, j) => {
      if (!ids.users.has(id.toLowerCase())) problems.push(`/groups/${i}/owners/${j}: no user with id '${id}'`);
    });
    g.members.forEach((id, j) => {
      if (!ids.users.has(id.toLowerCase())) problems.push(`/groups/${i}/members/${j}: no user with id '${id}'`);
    });
  });
  seed.servicePrincipals.forEach((sp, i) => {
    sp.appRoleAssignedTo.forEach((a, j) => {
      const where = `/servicePrincipals/${i}/appRoleAssignedTo/${j}/principalId`;
      const known =
        a.principalType === 'User' ? ids.users : a.principalType === 'Group' ? ids.groups : ids.servicePrincipals;
      if (!known.has(a.principalId.toLowerCase())) {
        problems.push(`${where}: no ${a.principalType} with id '${a.principalId}'`);
      }
    });
  });
  return problems;
}

/**
 * Roles are held by users or by role-assignable groups (a role assigned to a group can only go to a group
 * created with isAssignableToRole: true; the assignment names the group as principalId).
 */
function roleProblems(seed: TenantSeed, ids: SeedIds): string[] {
  const problems: string[] = [];
  const roleAssignable = new Set(
    seed.groups.filter((g) => g.isAssignableToRole === true).map((g) => g.id.toLowerCase()),
  );
  (seed.directoryRoles ?? []).forEach((r, i) => {
    r.members.forEach((id, j) => {
      const key = id.toLowerCase();
      if (ids.groups.has(key) && !roleAssignable.has(key)) {
        problems.push(
          `/directoryRoles/${i}/members/${j}: group '${id}' is not role-assignable (isAssignableToRole: true)`,
        );
      } else if (!ids.users.has(key) && !ids.groups.has(key)) {
        problems.push(`/directoryRoles/${i}/members/${j}: no user or role-assignable group with id '${id}'`);
      }
    });
  });
  return problems;
}

/** Teams app installations and policy blocks naming a user or an app that does not exist. */
function teamsAppProblems(seed: TenantSeed, ids: SeedIds): string[] {
  const problems: string[] = [];
  const catalogIds = new Set((seed.teamsApps?.catalog ?? []).map((a) => a.id.toLowerCase()));
  const teamsRefs = [
    ...(seed.teamsApps?.installations ?? []).map((r, i) => ({ r, where: `/teamsApps/installations/${i}` })),
    ...(seed.teamsApps?.blockedByPolicy ?? []).map((r, i) => ({ r, where: `/teamsApps/blockedByPolicy/${i}` })),
  ];
  for (const { r, where } of teamsRefs) {
    if (!ids.users.has(r.userId.toLowerCase())) problems.push(`${where}/userId: no user with id '${r.userId}'`);
    if (!catalogIds.has(r.teamsAppId.toLowerCase()))
      problems.push(`${where}/teamsAppId: no app with id '${r.teamsAppId}' in teamsApps.catalog`);
  }
  return problems;
}

/** What the schema cannot say: ids used twice, references to objects that do not exist, contradictory settings. */
function semanticProblems(seed: TenantSeed): string[] {
  const ids = seedIds(seed);
  const problems = [
    ...duplicateProblems(seed),
    ...membershipProblems(seed, ids),
    ...roleProblems(seed, ids),
    ...teamsAppProblems(seed, ids),
  ];
  const b2b = seed.b2bDomains;
  if (b2b?.allowedDomains && b2b.blockedDomains) {
    problems.push('/b2bDomains: give either allowedDomains or blockedDomains, not both');
  }
  return problems;
}

/** Validates a parsed seed against the tenant seed schema and its cross references. */
export function validateSeed(seed: unknown): TenantSeed {
  const validate = schemaValidator();
  if (!validate(seed)) {
    const problems = (validate.errors ?? []).map(describeSchemaError);
    throw new Error(`Invalid tenant seed: ${problems.join('; ')}`);
  }
  const typed = seed as TenantSeed;
  const problems = semanticProblems(typed);
  if (problems.length > 0) throw new Error(`Invalid tenant seed: ${problems.join('; ')}`);
  return typed;
}

/** Reads and validates a seed file; errors name the file and the problem. */
export function loadSeed(file: string): TenantSeed {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new Error(`Tenant seed ${absolute}: cannot read file (${(err as Error).message})`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`Tenant seed ${absolute}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  try {
    return validateSeed(parsed);
  } catch (err) {
    throw new Error(`Tenant seed ${absolute}: ${(err as Error).message}`, { cause: err });
  }
}

function resolveDemoTenantPath(): string {
  const candidates: string[] = [];
  candidates.push(path.join(projectRoot(__dirname), 'src', 'simulator', 'tenants', 'demo.json'));
  candidates.push(path.join(__dirname, 'tenants', 'demo.json'));
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[candidates.length - 1];
}

/** Absolute path of the shipped demo tenant (Contoso). */
export const demoTenantPath: string = resolveDemoTenantPath();

export function loadDemoSeed(): TenantSeed {
  return loadSeed(demoTenantPath);
}
