import { strict as assert } from 'node:assert';
import { validateSeed } from '../../src/simulator';
import { type Client, contractProblems, start } from './helpers';
import { EVENTUAL, assertGraphError, f, fidelitySeed, idsOf, ref } from './fidelitySeed';

const q = encodeURIComponent;
const filterOwners = (group: string, user: string) =>
  `/groups/${group}/owners?$filter=${q(`id eq '${user}'`)}&$select=id`;

describe('simulator fidelity: directory endpoints and advanced queries (real HTTP)', () => {
  let c: Client;

  beforeEach(async () => {
    c = await start({}, fidelitySeed());
  });

  afterEach(async () => {
    const problems = contractProblems(c);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  describe('advanced-query rules (concepts/aad-advanced-queries.md)', () => {
    it('$filter on /owners needs ConsistencyLevel: eventual AND $count=true, else 400 Request_UnsupportedQuery (group-list-owners.md)', async () => {
      const message = 'The specified filter to the reference property query is currently not supported.';
      assertGraphError(await c.get(filterOwners(f.plain, f.owner)), 400, 'Request_UnsupportedQuery', message);
      assertGraphError(await c.get(filterOwners(f.plain, f.owner), EVENTUAL), 400, 'Request_UnsupportedQuery', message);
      assertGraphError(
        await c.get(`${filterOwners(f.plain, f.owner)}&$count=true`),
        400,
        'Request_UnsupportedQuery',
        message,
      );
      const ok = await c.get(`${filterOwners(f.plain, f.owner)}&$count=true`, EVENTUAL);
      assert.equal(ok.status, 200);
      assert.deepEqual(idsOf(ok), [f.owner]);
      assert.equal(ok.body['@odata.count'], 1);
    });

    it('$filter on /members needs both too (group-list-members.md)', async () => {
      const url = `/groups/${f.plain}/members?$filter=${q(`id eq '${f.member}'`)}&$select=id`;
      assertGraphError(await c.get(url), 400, 'Request_UnsupportedQuery');
      assertGraphError(await c.get(url, EVENTUAL), 400, 'Request_UnsupportedQuery');
      assert.deepEqual(idsOf(await c.get(`${url}&$count=true`, EVENTUAL)), [f.member]);
    });

    it('$count=true without the header is silently ignored: 200 without @odata.count (concepts/aad-advanced-queries.md)', async () => {
      const r = await c.get(`/groups/${f.plain}/members?$count=true&$select=id`);
      assert.equal(r.status, 200);
      assert.equal(r.body['@odata.count'], undefined);
      assert.deepEqual(idsOf(r), [f.member]);
    });

    it('@odata.count comes on the first page only (concepts/aad-advanced-queries.md; field notes)', async () => {
      await c.sim.close();
      c = await start({ pageSize: 1 }, fidelitySeed());
      const first = await c.get(`/servicePrincipals/${f.app}/appRoleAssignedTo?$count=true`, EVENTUAL);
      assert.equal(first.body['@odata.count'], 5);
      const next = first.body['@odata.nextLink'];
      assert.ok(next);
      const second = await c.get(next, EVENTUAL);
      assert.equal(second.status, 200);
      assert.equal((second.body.value ?? []).length, 1);
      assert.equal(second.body['@odata.count'], undefined);
    });
  });

  describe('owners of synced and Exchange groups are not listed (group-list-owners.md)', () => {
    for (const [name, id] of [
      ['synced from on-premises', f.synced],
      ['mail-enabled security group created in Exchange', f.exchange],
    ] as const) {
      it(`${name}: /owners, /owners/$ref, /owners/{id}/microsoft.graph.user and $expand=owners return none`, async () => {
        assert.deepEqual((await c.get(`/groups/${id}/owners?$select=id`)).body.value, []);
        assert.deepEqual((await c.get(`/groups/${id}/owners/$ref`)).body.value, []);
        assert.equal((await c.get(`/groups/${id}/owners/${f.owner}/microsoft.graph.user`)).status, 404);
        const expanded = await c.get(`/groups/${id}?$select=id&$expand=owners($select=id)`);
        assert.deepEqual(expanded.body.owners, []);
      });
    }

    it('a cloud security group lists its owner (the control case)', async () => {
      assert.deepEqual(idsOf(await c.get(`/groups/${f.plain}/owners?$select=id`)), [f.owner]);
      const expanded = await c.get(`/groups/${f.plain}?$select=id,isAssignableToRole&$expand=owners($select=id)`);
      assert.deepEqual(
        (expanded.body.owners as Array<{ id: string }>).map((o) => o.id),
        [f.owner],
      );
      assert.equal(expanded.body.isAssignableToRole, null);
    });
  });

  describe('role-assignable groups (group-post-members.md; permissions.md note 10)', () => {
    const least = ['GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'User.Read.All'];
    const writes = (group: string) => [
      () => c.post(`/groups/${group}/members/$ref`, ref(f.spare)),
      () =>
        c.call('PATCH', `/groups/${group}`, {
          body: { 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${f.owner}`] },
        }),
      () => c.call('DELETE', `/groups/${group}/members/${f.spare}/$ref`),
    ];

    it('GET /groups/{id}?$select=isAssignableToRole reads the flag (group-get.md)', async () => {
      const r = await c.get(`/groups/${f.roleGroup}?$select=id,isAssignableToRole`);
      assert.equal(r.body.isAssignableToRole, true);
    });

    it('member add, bind and remove on a role-assignable group are 403 without RoleManagement.ReadWrite.Directory', async () => {
      c.sim.setApplicationPermissions(least);
      for (const write of writes(f.roleGroup)) {
        assertGraphError(
          await write(),
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      }
      assert.deepEqual(idsOf(await c.get(`/groups/${f.roleGroup}/members?$select=id`)), [f.adminThroughGroup]);
      assert.equal(
        (await writes(f.plain)[0]()).status,
        204,
        'the same grant writes a group that is not role-assignable',
      );
    });

    it('with RoleManagement.ReadWrite.Directory granted too, the same writes succeed', async () => {
      c.sim.setApplicationPermissions([...least, 'RoleManagement.ReadWrite.Directory']);
      const statuses: number[] = [];
      for (const write of writes(f.roleGroup)) statuses.push((await write()).status);
      assert.deepEqual(statuses, [204, 204, 204]);
    });
  });

  describe('new endpoints', () => {
    it("GET /directoryRoles(roleTemplateId='…')/members lists users and role-assignable groups (directoryrole-list-members.md)", async () => {
      const r = await c.get(`/directoryRoles(roleTemplateId='${f.globalAdminTemplate}')/members?$select=id`);
      assert.equal(r.status, 200);
      assert.deepEqual(
        (r.body.value ?? []).map((v) => [v['@odata.type'], v.id]),
        [
          ['#microsoft.graph.user', f.directAdmin],
          ['#microsoft.graph.group', f.roleGroup],
        ],
      );
      const encoded = await c.get(`/directoryRoles(roleTemplateId=%27${f.userAdminTemplate}%27)/members`);
      assert.deepEqual(encoded.body.value, []);
      assertGraphError(
        await c.get(`/directoryRoles(roleTemplateId='${f.app}')/members`),
        404,
        'Request_ResourceNotFound',
      );
    });

    it('checkMemberGroups answers, of up to 20 given groups, those the object is in, transitively (directoryobject-checkmembergroups.md)', async () => {
      assert.equal((await c.post(`/groups/${f.outer}/members/$ref`, ref(f.plain))).status, 204, 'nest Plain in Outer');
      const r = await c.post(`/users/${f.member}/checkMemberGroups`, {
        groupIds: [f.plain, f.outer, f.roleGroup, f.synced],
      });
      assert.equal(r.status, 200);
      assert.equal(r.body['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)');
      assert.deepEqual(r.body.value, [f.plain, f.outer]);
      const viaObject = await c.post(`/directoryObjects/${f.plain}/checkMemberGroups`, {
        groupIds: [f.outer, f.roleGroup],
      });
      assert.deepEqual(viaObject.body.value, [f.outer]);
      const tooMany = Array.from({ length: 21 }, (_, i) => `1b2c3d4e-0000-4000-8000-${String(i).padStart(12, '0')}`);
      assertGraphError(
        await c.post(`/users/${f.member}/checkMemberGroups`, { groupIds: tooMany }),
        400,
        'Request_BadRequest',
      );
      assertGraphError(
        await c.post(`/users/${f.tenant}/checkMemberGroups`, { groupIds: [f.plain] }),
        404,
        'Request_ResourceNotFound',
      );
    });

    it('transitiveMemberOf lists groups through nesting and roles held through a role-assignable group; memberOf does not (user-list-transitivememberof.md)', async () => {
      const direct = await c.get(`/users/${f.adminThroughGroup}/memberOf`);
      assert.deepEqual(idsOf(direct), [f.roleGroup]);
      const all = await c.get(`/users/${f.adminThroughGroup}/transitiveMemberOf?$select=id,displayName`);
      assert.deepEqual(
        (all.body.value ?? []).map((v) => [v['@odata.type'], v.id]),
        [
          ['#microsoft.graph.group', f.roleGroup],
          ['#microsoft.graph.directoryRole', f.globalAdminRole],
        ],
      );
      const roles = await c.get(
        `/users/${f.adminThroughGroup}/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,roleTemplateId`,
      );
      assert.deepEqual(roles.body.value, [
        {
          '@odata.type': '#microsoft.graph.directoryRole',
          id: f.globalAdminRole,
          roleTemplateId: f.globalAdminTemplate,
        },
      ]);
      await c.post(`/groups/${f.outer}/members/$ref`, ref(f.plain));
      const groups = await c.get(`/users/${f.member}/transitiveMemberOf/microsoft.graph.group?$select=id`);
      assert.deepEqual(idsOf(groups), [f.plain, f.outer]);
    });

    it('roleAssignments filters on principalId and roleDefinitionId with eq and in; a group-held role names the group (rbacapplication-list-roleassignments.md)', async () => {
      const url = (filter: string) => `/roleManagement/directory/roleAssignments?$filter=${q(filter)}`;
      const byGroup = await c.get(url(`principalId eq '${f.roleGroup}'`));
      assert.deepEqual(
        (byGroup.body.value ?? []).map((a) => [a.principalId, a.roleDefinitionId, a.directoryScopeId]),
        [[f.roleGroup, f.globalAdminTemplate, '/']],
      );
      const byIn = await c.get(url(`principalId in ('${f.directAdmin}', '${f.roleGroup}', '${f.member}')`));
      assert.deepEqual(
        byIn.body.value?.map((a) => a.principalId),
        [f.directAdmin, f.roleGroup],
      );
      const byRole = await c.get(url(`roleDefinitionId eq '${f.globalAdminTemplate}'`));
      assert.equal(byRole.body.value?.length, 2);
      const both = await c.get(
        url(`principalId eq '${f.directAdmin}' and roleDefinitionId in ('${f.userAdminTemplate}')`),
      );
      assert.deepEqual(both.body.value, []);
    });

    it('DELETE /groups/{id}/members/{id}/$ref: 204, then 404 when not a member; dynamic 403, synced 400 as for adds (group-delete-members.md)', async () => {
      assert.equal((await c.call('DELETE', `/groups/${f.plain}/members/${f.member}/$ref`)).status, 204);
      assert.deepEqual((await c.get(`/groups/${f.plain}/members`)).body.value, []);
      assertGraphError(
        await c.call('DELETE', `/groups/${f.plain}/members/${f.member}/$ref`),
        404,
        'Request_ResourceNotFound',
      );
      assertGraphError(
        await c.call('DELETE', `/groups/${f.dynamic}/members/${f.member}/$ref`),
        403,
        'Authorization_RequestDenied',
      );
      assertGraphError(
        await c.call('DELETE', `/groups/${f.synced}/members/${f.member}/$ref`),
        400,
        'Request_BadRequest',
      );
    });

    it('/servicePrincipals/{id}/appRoleAssignedTo pages with $top and @odata.nextLink (serviceprincipal-list-approleassignedto.md)', async () => {
      const { items, pages } = await c.all(
        `/servicePrincipals/${f.app}/appRoleAssignedTo?$select=principalId,principalType&$top=2`,
      );
      assert.deepEqual(pages, [2, 2, 1]);
      assert.deepEqual(
        items.map((i) => i.principalId),
        [f.plain, f.outer, f.roleGroup, f.synced, f.exchange],
      );
    });
  });

  describe('seed', () => {
    it('a directory role may be held by a role-assignable group, not by any other group', () => {
      const seed = fidelitySeed();
      seed.directoryRoles?.[1].members.push(f.plain);
      assert.throws(() => validateSeed(seed), /group '1b2c3d4e-0000-4000-8000-0000000000b1' is not role-assignable/);
    });

    it('takes applicationPermissions and indexLag; refuses a malformed permission name', () => {
      assert.doesNotThrow(() =>
        validateSeed(fidelitySeed({ applicationPermissions: ['User.Read.All'], indexLag: 5000 })),
      );
      assert.throws(
        () => validateSeed(fidelitySeed({ applicationPermissions: ['read everything'] })),
        /applicationPermissions/,
      );
    });
  });
});
