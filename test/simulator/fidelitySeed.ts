import { strict as assert } from 'node:assert';
import type { TenantSeed } from '../../src/simulator';
import type { Reply } from './helpers';

/** A small tenant for the fidelity suite: one group of each kind Graph treats differently. */
export const f = {
  tenant: '1b2c3d4e-0000-4000-8000-000000000001',
  owner: '1b2c3d4e-0000-4000-8000-0000000000a1',
  member: '1b2c3d4e-0000-4000-8000-0000000000a2',
  adminThroughGroup: '1b2c3d4e-0000-4000-8000-0000000000a3',
  directAdmin: '1b2c3d4e-0000-4000-8000-0000000000a4',
  spare: '1b2c3d4e-0000-4000-8000-0000000000a5',
  plain: '1b2c3d4e-0000-4000-8000-0000000000b1',
  outer: '1b2c3d4e-0000-4000-8000-0000000000b2',
  roleGroup: '1b2c3d4e-0000-4000-8000-0000000000b3',
  synced: '1b2c3d4e-0000-4000-8000-0000000000b4',
  exchange: '1b2c3d4e-0000-4000-8000-0000000000b5',
  dynamic: '1b2c3d4e-0000-4000-8000-0000000000b6',
  app: '1b2c3d4e-0000-4000-8000-0000000000c1',
  appId: '1b2c3d4e-0000-4000-8000-0000000000c2',
  globalAdminRole: '1b2c3d4e-0000-4000-8000-0000000000d1',
  globalAdminTemplate: '62e90394-69f5-4237-9190-012177145e10',
  userAdminRole: '1b2c3d4e-0000-4000-8000-0000000000d2',
  userAdminTemplate: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  /** The calling app (the bot's Entra app): its Teams app names it in webApplicationInfo. */
  botAppId: '1b2c3d4e-0000-4000-8000-0000000000e1',
  /** Catalog ids: the bot's Teams app, another org app, and the bot's manifest id. */
  teamsApp: '1b2c3d4e-0000-4000-8000-0000000000f1',
  otherTeamsApp: '1b2c3d4e-0000-4000-8000-0000000000f2',
  manifestId: '1b2c3d4e-0000-4000-8000-0000000000f3',
};

const user = (id: string, name: string) => ({
  id,
  displayName: name,
  userPrincipalName: `${name.split(' ')[0].toLowerCase()}@fabrikam.example`,
  userType: 'Member' as const,
});

const group = (id: string, displayName: string, extra: Record<string, unknown> = {}) => ({
  id,
  displayName,
  securityEnabled: true,
  mailEnabled: false,
  groupTypes: [] as Array<'Unified' | 'DynamicMembership'>,
  owners: [f.owner],
  members: [] as string[],
  ...extra,
});

export function fidelitySeed(extra: Partial<TenantSeed> = {}): TenantSeed {
  return {
    tenant: {
      id: f.tenant,
      displayName: 'Fabrikam',
      verifiedDomains: ['fabrikam.onmicrosoft.com', 'fabrikam.example'],
    },
    users: [
      user(f.owner, 'Olga Owner'),
      user(f.member, 'Mario Member'),
      user(f.adminThroughGroup, 'Greta Groupadmin'),
      user(f.directAdmin, 'Dirk Directadmin'),
      user(f.spare, 'Sven Spare'),
    ],
    groups: [
      group(f.plain, 'Plain', { members: [f.member] }),
      group(f.outer, 'Outer'),
      // A role can be assigned to a group only if it was created role-assignable (isAssignableToRole).
      group(f.roleGroup, 'Role holders', { isAssignableToRole: true, members: [f.adminThroughGroup] }),
      group(f.synced, 'Synced', { onPremisesSyncEnabled: true }),
      group(f.exchange, 'Exchange mail-enabled security', { mailEnabled: true }),
      group(f.dynamic, 'Dynamic', {
        groupTypes: ['DynamicMembership'],
        membershipRule: 'user.department -eq "X"',
        membershipRuleProcessingState: 'On',
      }),
    ],
    servicePrincipals: [
      {
        id: f.app,
        appId: f.appId,
        displayName: 'Fabrikam App',
        tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
        appRoleAssignedTo: [f.plain, f.outer, f.roleGroup, f.synced, f.exchange].map((principalId) => ({
          principalId,
          principalType: 'Group' as const,
        })),
      },
    ],
    teamsApps: {
      callingAppId: f.botAppId,
      catalog: [
        {
          id: f.teamsApp,
          externalId: f.manifestId,
          displayName: 'Fabrikam Bot',
          distributionMethod: 'organization',
          webApplicationInfoId: f.botAppId,
          botId: f.botAppId,
        },
        {
          id: f.otherTeamsApp,
          externalId: 'other-manifest',
          displayName: 'Other App',
          webApplicationInfoId: null,
          botId: null,
        },
      ],
      // Olga has the bot; Mario has only the other app; Sven's app permission policy blocks the bot.
      installations: [
        { userId: f.owner, teamsAppId: f.teamsApp },
        { userId: f.member, teamsAppId: f.otherTeamsApp },
      ],
      blockedByPolicy: [{ userId: f.spare, teamsAppId: f.teamsApp }],
    },
    directoryRoles: [
      {
        id: f.globalAdminRole,
        roleTemplateId: f.globalAdminTemplate,
        displayName: 'Global Administrator',
        members: [f.directAdmin, f.roleGroup],
      },
      { id: f.userAdminRole, roleTemplateId: f.userAdminTemplate, displayName: 'User Administrator', members: [] },
    ],
    ...extra,
  };
}

export const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

export const EVENTUAL = { ConsistencyLevel: 'eventual' };

/** Graph's usual error body: code, message and innerError with date, request-id and client-request-id. */
export function assertGraphError(
  r: { status: number; body: Reply['body'] },
  status: number,
  code: string,
  message?: string,
): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const err = r.body.error;
  assert.ok(err, `expected an error body, got ${JSON.stringify(r.body)}`);
  assert.equal(err.code, code);
  if (message !== undefined) assert.equal(err.message, message);
  assert.match(err.innerError.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.equal(typeof err.innerError['request-id'], 'string');
  assert.equal(typeof err.innerError['client-request-id'], 'string');
}

export const idsOf = (r: Reply): string[] => (r.body.value ?? []).map((v) => String(v.id));

/** A clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2026, 0, 5, 9, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}
