import { strict as assert } from 'node:assert';
import { PERMISSION_TABLE, allowedSets, type PermissionRow } from '../../src/simulator/permissions';
import { type Client, contractProblems, start } from './helpers';
import { assertGraphError, f, fidelitySeed, ref } from './fidelitySeed';

/**
 * Application permissions, one row of src/simulator/permissions.ts at a time: each row names the doc page it was
 * copied from (microsoftgraph/microsoft-graph-docs-contrib), and the test names carry it.
 */

interface Sample {
  method: string;
  url: string;
  body?: unknown;
}

/** One request per endpoint of the table, valid for the fidelity seed. */
const SAMPLES: Record<string, Sample> = {
  'POST /invitations': {
    method: 'POST',
    url: '/invitations',
    body: { invitedUserEmailAddress: 'pat@partner.example', inviteRedirectUrl: 'https://myapps.microsoft.com' },
  },
  'GET /users': {
    method: 'GET',
    url: `/users?$filter=${encodeURIComponent("mail eq 'olga@fabrikam.example'")}&$select=id`,
  },
  'GET /users/{id}': { method: 'GET', url: `/users/${f.owner}?$select=id` },
  'GET /users/{id}/ownedObjects': { method: 'GET', url: `/users/${f.owner}/ownedObjects` },
  'GET /users/{id}/ownedObjects/microsoft.graph.group': {
    method: 'GET',
    url: `/users/${f.owner}/ownedObjects/microsoft.graph.group`,
  },
  'GET /users/{id}/appRoleAssignments': { method: 'GET', url: `/users/${f.owner}/appRoleAssignments` },
  'GET /users/{id}/memberOf': { method: 'GET', url: `/users/${f.member}/memberOf` },
  'GET /users/{id}/memberOf/microsoft.graph.group': {
    method: 'GET',
    url: `/users/${f.member}/memberOf/microsoft.graph.group`,
  },
  'GET /users/{id}/memberOf/microsoft.graph.directoryRole': {
    method: 'GET',
    url: `/users/${f.directAdmin}/memberOf/microsoft.graph.directoryRole`,
  },
  'GET /users/{id}/transitiveMemberOf': { method: 'GET', url: `/users/${f.member}/transitiveMemberOf` },
  'GET /users/{id}/transitiveMemberOf/microsoft.graph.group': {
    method: 'GET',
    url: `/users/${f.member}/transitiveMemberOf/microsoft.graph.group`,
  },
  'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole': {
    method: 'GET',
    url: `/users/${f.adminThroughGroup}/transitiveMemberOf/microsoft.graph.directoryRole`,
  },
  'POST /users/{id}/checkMemberGroups': {
    method: 'POST',
    url: `/users/${f.member}/checkMemberGroups`,
    body: { groupIds: [f.plain] },
  },
  'POST /directoryObjects/{id}/checkMemberGroups': {
    method: 'POST',
    url: `/directoryObjects/${f.member}/checkMemberGroups`,
    body: { groupIds: [f.plain] },
  },
  'GET /groups/{id}': { method: 'GET', url: `/groups/${f.plain}?$select=id,isAssignableToRole` },
  'PATCH /groups/{id}': {
    method: 'PATCH',
    url: `/groups/${f.plain}`,
    body: { 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${f.spare}`] },
  },
  'GET /groups/{id}/appRoleAssignments': { method: 'GET', url: `/groups/${f.plain}/appRoleAssignments` },
  'GET /groups/{id}/members': { method: 'GET', url: `/groups/${f.plain}/members?$select=id` },
  'POST /groups/{id}/members/$ref': { method: 'POST', url: `/groups/${f.plain}/members/$ref`, body: ref(f.owner) },
  'DELETE /groups/{id}/members/{id}/$ref': { method: 'DELETE', url: `/groups/${f.plain}/members/${f.member}/$ref` },
  'GET /groups/{id}/owners': { method: 'GET', url: `/groups/${f.plain}/owners?$select=id` },
  'GET /groups/{id}/owners/$ref': { method: 'GET', url: `/groups/${f.plain}/owners/$ref` },
  'GET /groups/{id}/owners/{id}/microsoft.graph.user': {
    method: 'GET',
    url: `/groups/${f.plain}/owners/${f.owner}/microsoft.graph.user`,
  },
  'POST /groups/{id}/owners/$ref': { method: 'POST', url: `/groups/${f.outer}/owners/$ref`, body: ref(f.spare) },
  'GET /servicePrincipals': { method: 'GET', url: '/servicePrincipals?$select=id' },
  'GET /servicePrincipals/{id}': { method: 'GET', url: `/servicePrincipals/${f.app}?$select=id` },
  'GET /servicePrincipals/{id}/appRoleAssignedTo': {
    method: 'GET',
    url: `/servicePrincipals/${f.app}/appRoleAssignedTo`,
  },
  'POST /servicePrincipals/{id}/appRoleAssignedTo': {
    method: 'POST',
    url: `/servicePrincipals/${f.app}/appRoleAssignedTo`,
    body: { principalId: f.spare, resourceId: f.app, appRoleId: '00000000-0000-0000-0000-000000000000' },
  },
  'DELETE /groups/{id}/owners/{id}/$ref': { method: 'DELETE', url: `/groups/${f.outer}/owners/${f.spare}/$ref` },
  'GET /users/{id}/sponsors': { method: 'GET', url: `/users/${f.member}/sponsors` },
  'POST /users/{id}/sponsors/$ref': { method: 'POST', url: `/users/${f.member}/sponsors/$ref`, body: ref(f.owner) },
  'DELETE /users/{id}/sponsors/{id}/$ref': { method: 'DELETE', url: `/users/${f.member}/sponsors/${f.owner}/$ref` },
  'GET /directoryRoles': { method: 'GET', url: '/directoryRoles' },
  'GET /directoryRoles/{id}/members': { method: 'GET', url: `/directoryRoles/${f.globalAdminRole}/members` },
  'GET /roleManagement/directory/roleAssignments': {
    method: 'GET',
    url: `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${f.directAdmin}'`)}`,
  },
  'GET /users/{id}/teamwork/installedApps': {
    method: 'GET',
    url: `/users/${f.owner}/teamwork/installedApps?$expand=teamsApp`,
  },
  'POST /users/{id}/teamwork/installedApps': {
    method: 'POST',
    url: `/users/${f.directAdmin}/teamwork/installedApps`,
    body: { 'teamsApp@odata.bind': `https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/${f.teamsApp}` },
  },
  'GET /users/{id}/teamwork/installedApps/{id}/chat': {
    method: 'GET',
    url: `/users/${f.owner}/teamwork/installedApps/${encodeURIComponent(Buffer.from(`${f.owner}##${f.teamsApp}`).toString('base64'))}/chat`,
  },
  'GET /organization': { method: 'GET', url: '/organization' },
  'GET /policies/authorizationPolicy': { method: 'GET', url: '/policies/authorizationPolicy' },
};

const EVERY_PERMISSION = [...new Set(PERMISSION_TABLE.flatMap((r) => [r.least ?? [], ...r.higher].flat()))];

/** Every permission the table names except those that appear in any set allowing this row. */
function allBut(row: PermissionRow): string[] {
  const listed = new Set(allowedSets(row).flat());
  return EVERY_PERMISSION.filter((p) => !listed.has(p));
}

const send = (c: Client, s: Sample) => c.call(s.method, s.url, s.body === undefined ? {} : { body: s.body });

describe('simulator fidelity: application permissions (real HTTP)', () => {
  let c: Client;

  before(async () => {
    c = await start({}, fidelitySeed({ applicationPermissions: [] }));
  });

  after(async () => {
    const problems = contractProblems(c);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  it('has a sample request for every endpoint of the permission table, and every sample is routed (no unknown segment)', async () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), PERMISSION_TABLE.map((r) => r.endpoint).sort());
    c.sim.setApplicationPermissions(null);
    for (const [endpoint, s] of Object.entries(SAMPLES)) {
      const r = await send(c, s);
      assert.ok(r.status < 300 || r.body.error?.code !== 'BadRequest', `${endpoint}: ${JSON.stringify(r.body)}`);
    }
  });

  for (const row of PERMISSION_TABLE) {
    const sets = allowedSets(row);
    if (sets.length === 0) {
      it(`${row.endpoint}: "Application: Not supported." is 403 whatever is granted (${row.doc})`, async () => {
        c.sim.setApplicationPermissions(EVERY_PERMISSION);
        assertGraphError(
          await send(c, SAMPLES[row.endpoint]),
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      });
      continue;
    }
    it(`${row.endpoint}: allowed with only the least privileged ${sets[0].join(' and ')} (${row.doc})`, async () => {
      c.sim.setApplicationPermissions(sets[0]);
      const r = await send(c, SAMPLES[row.endpoint]);
      assert.notEqual(r.status, 403, JSON.stringify(r.body));
    });
    it(`${row.endpoint}: allowed with each higher privileged permission alone (${row.doc})`, async () => {
      for (const set of sets.slice(1)) {
        c.sim.setApplicationPermissions(set);
        const r = await send(c, SAMPLES[row.endpoint]);
        assert.notEqual(r.status, 403, `${set.join(' and ')}: ${JSON.stringify(r.body)}`);
      }
    });
    it(`${row.endpoint}: 403 Authorization_RequestDenied with every other permission granted (${row.doc})`, async () => {
      c.sim.setApplicationPermissions(allBut(row));
      assertGraphError(
        await send(c, SAMPLES[row.endpoint]),
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    });
  }

  it('checkMemberGroups needs both permissions of an "and" set: User.Read.All alone or GroupMember.Read.All alone is 403 (directoryobject-checkmembergroups.md)', async () => {
    for (const alone of [['User.Read.All'], ['GroupMember.Read.All'], ['Group.Read.All']]) {
      c.sim.setApplicationPermissions(alone);
      assertGraphError(
        await send(c, SAMPLES['POST /users/{id}/checkMemberGroups']),
        403,
        'Authorization_RequestDenied',
      );
    }
    c.sim.setApplicationPermissions(['User.Read.All', 'Group.Read.All']);
    assert.equal((await send(c, SAMPLES['POST /users/{id}/checkMemberGroups'])).status, 200);
  });

  it('$batch: the envelope needs no permission; each item is authorized on its own, as if sent alone (concepts/json-batching.md)', async () => {
    c.sim.setApplicationPermissions(['GroupMember.Read.All']);
    const r = await c.post('/$batch', {
      requests: [
        { id: 'owners', method: 'GET', url: `/groups/${f.plain}/owners?$select=id` },
        { id: 'org', method: 'GET', url: '/organization' },
        { id: 'owned', method: 'GET', url: `/users/${f.owner}/ownedObjects` },
      ],
    });
    assert.equal(r.status, 200);
    const items = new Map((r.body.responses ?? []).map((i) => [i.id, i]));
    assert.equal(items.get('owners')?.status, 200);
    for (const id of ['org', 'owned']) {
      const item = items.get(id);
      assert.ok(item?.body);
      assertGraphError(
        { status: item.status, body: item.body },
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
  });

  it('without applicationPermissions in the seed everything is allowed, as before (ownedObjects included)', async () => {
    c.sim.setApplicationPermissions(null);
    assert.equal((await send(c, SAMPLES['GET /users/{id}/ownedObjects'])).status, 200);
    assert.equal((await send(c, SAMPLES['GET /organization'])).status, 200);
  });
});
