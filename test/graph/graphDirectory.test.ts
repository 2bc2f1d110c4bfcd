import { strict as assert } from 'node:assert';
import { createGraphClient } from '../../src/graph/client';
import { GraphDirectory } from '../../src/graph/graphDirectory';
import { GraphHttp } from '../../src/graph/graphHttp';
import { DirectoryError } from '../../src/graph/directory';
import { createLogger } from '../../src/logging';
import { loadDemoSeed, startSimulator, type RunningSimulator, type TenantSeed } from '../../src/simulator';
import { validateLog } from '../support/graphContract';
import { apps, groups, users } from '../support/botHarness';

function directoryFor(sim: RunningSimulator, token = 'test-token', logs: string[] = []): GraphDirectory {
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  return new GraphDirectory(
    new GraphHttp(
      createGraphClient({ baseUrl: sim.graphBaseUrl, auth: { kind: 'static', token }, logger, retryDelaySeconds: 0 }),
    ),
  );
}

describe('GraphDirectory against the tenant simulator (real HTTP, real Graph client)', () => {
  let sim: RunningSimulator;
  let directory: GraphDirectory;
  let logs: string[];

  beforeEach(async () => {
    logs = [];
    sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true, pageSize: 2 });
    directory = directoryFor(sim, 'test-token', logs);
  });
  afterEach(async () => {
    const problems = validateLog(sim.requests());
    await sim.close();
    assert.deepEqual(problems, []);
  });

  it("walks the catalog from the apps (ownedObjects is not supported app-only), with every group's owners, following paging", async () => {
    const catalog = await directory.listCatalog();
    const group = (id: string) =>
      catalog.flatMap((a) => a.groups.map((g) => ({ app: a.displayName, ...g }))).find((g) => g.group.id === id);
    assert.equal(group(groups.wikiReaders)?.app, 'Contoso Wiki');
    assert.ok(group(groups.wikiReaders)?.ownerIds.includes(users.megan.aadObjectId));
    assert.ok(group(groups.expenses)?.ownerIds.includes(users.megan.aadObjectId));
    assert.ok(group(groups.dynamic)?.group.groupTypes.includes('DynamicMembership'));
    // group-list-owners.md: owners are not returned for groups synced from on-premises.
    assert.equal(group(groups.synced)?.group.onPremisesSyncEnabled, true);
    assert.deepEqual(group(groups.synced)?.ownerIds, []);
    assert.equal(group(groups.unassigned), undefined, 'a group assigned to no app is not in the catalog');
    assert.ok(
      sim.requests().some((r) => r.url.includes('skiptoken')),
      'page size 2 forces nextLink paging',
    );
    assert.ok(
      sim
        .requests()
        .every(
          (r) =>
            !r.url.includes('ownedObjects') &&
            !r.url.includes('memberOf') &&
            !/groups\/[^/]+\/appRoleAssignments/.test(r.url),
        ),
    );
  });

  it('reads the owners of a group with more than 20 owners in full ($expand returns at most 20)', async () => {
    await sim.close();
    const seed: TenantSeed = loadDemoSeed();
    const wiki = seed.groups.find((g) => g.id === groups.wikiReaders)!;
    for (let i = 0; i < 25; i++) {
      const id = `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`;
      seed.users.push({
        id,
        displayName: `Owner ${i}`,
        userPrincipalName: `owner${i}@contoso.com`,
        mail: `owner${i}@contoso.com`,
        userType: 'Member',
      } as TenantSeed['users'][number]);
      wiki.owners = [...(wiki.owners ?? []), id];
    }
    sim = await startSimulator({ seed, port: 0, recordBodies: true });
    directory = directoryFor(sim);
    const catalog = await directory.listCatalog();
    const readers = catalog.flatMap((a) => a.groups).find((g) => g.group.id === groups.wikiReaders);
    assert.equal(readers?.ownerCount, 25 + 2);
    assert.ok(readers?.ownerIds.includes('bbbbbbbb-0000-4000-8000-000000000024'));
  });

  it('reads the invitation context in one batch: owner, assignment, app, existing user, membership, policy', async () => {
    sim.clearRequests();
    const ctx = await directory.getInviteContext({
      actorId: users.megan.aadObjectId,
      groupId: groups.expenses,
      appId: apps.expenses,
      email: 'SAM@northwindtraders.com',
    });
    assert.equal(sim.requests().filter((r) => !r.batchId).length, 1);
    assert.equal(ctx.group?.displayName, 'Expenses External Reviewers');
    assert.equal(ctx.app?.homepage, 'https://expenses.contoso.com/');
    assert.equal(ctx.actorIsOwner, true);
    assert.equal(ctx.groupAssignedToApp, true);
    assert.equal(ctx.existingUser?.id, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f11');
    // No advanced query (ConsistencyLevel: eventual) in an authorization read: group-list-owners.md.
    assert.ok(
      !JSON.stringify(sim.requests().map((r) => r.requestBody))
        .toLowerCase()
        .includes('consistencylevel'),
    );
    assert.deepEqual(
      await directory.checkMemberGroups(ctx.existingUser!.id, [groups.expenses, groups.wikiReaders]),
      new Set([groups.expenses]),
    );
    assert.equal(ctx.allowInvitesFrom, 'everyone');
    assert.deepEqual(ctx.tenant?.verifiedDomains, ['contoso.onmicrosoft.com', 'contoso.com']);
    assert.ok(ctx.requestId);

    const other = await directory.getInviteContext({
      actorId: users.adele.aadObjectId,
      groupId: groups.expenses,
      appId: apps.wiki,
      email: 'nobody@adatum.com',
    });
    assert.equal(other.actorIsOwner, false);
    assert.equal(other.groupAssignedToApp, false);
    assert.equal(other.existingUser, null);

    const gone = await directory.getInviteContext({
      actorId: users.megan.aadObjectId,
      groupId: '00000000-0000-4000-8000-000000000000',
      appId: apps.wiki,
      email: 'x@adatum.com',
    });
    assert.equal(gone.group, null);
  });

  it('escapes quotes in OData string literals', async () => {
    const ctx = await directory.getInviteContext({
      actorId: users.megan.aadObjectId,
      groupId: groups.expenses,
      appId: apps.expenses,
      email: "o'brien@adatum.com",
    });
    assert.equal(ctx.existingUser, null);
  });

  it('invites a guest and adds them; a second add reports "already a member" instead of failing', async () => {
    const invitation = await directory.inviteGuest({
      email: 'pat.partner@adatum.com',
      redirectUrl: 'https://wiki.contoso.com/login',
      message: 'Hello',
    });
    assert.match(invitation.userId, /^[0-9a-f-]{36}$/);
    assert.equal(invitation.status, 'PendingAcceptance');
    assert.ok(invitation.redeemUrl);
    assert.ok(invitation.requestId);
    const first = await directory.addGroupMember(groups.wikiReaders, invitation.userId);
    const second = await directory.addGroupMember(groups.wikiReaders, invitation.userId);
    assert.equal(first.added, true);
    assert.equal(second.added, false);
    const again = await directory.inviteGuest({
      email: 'pat.partner@adatum.com',
      redirectUrl: 'https://wiki.contoso.com/login',
      message: null,
    });
    assert.equal(again.userId, invitation.userId, 're-inviting returns the same user');
    // "Already a member" is decided by reading membership after the 400, not by the error's wording.
    const adds = sim.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/members/$ref'));
    assert.deepEqual(
      adds.map((r) => r.status),
      [204, 400],
    );
    assert.ok(sim.requests().some((r) => r.url.endsWith('/checkMemberGroups')));
  });

  it('follows @odata.nextLink inside $batch responses: an app with more than 999 assigned groups (concepts/json-batching.md)', async () => {
    await sim.close();
    const seed: TenantSeed = loadDemoSeed();
    const app = seed.servicePrincipals.find((sp) => sp.id === apps.wiki)!;
    for (let i = 0; i < 1005; i++) {
      const id = `cccccccc-0000-4000-8000-${String(i).padStart(12, '0')}`;
      seed.groups.push({
        id,
        displayName: `Bulk ${i}`,
        securityEnabled: true,
        mailEnabled: false,
        groupTypes: [],
        owners: [],
        members: [],
      });
      app.appRoleAssignedTo = [{ principalId: id, principalType: 'Group' }, ...(app.appRoleAssignedTo ?? [])];
    }
    sim = await startSimulator({ seed, port: 0, recordBodies: true });
    directory = directoryFor(sim);
    // The wiki's own group is listed after the 1,005 generated ones: only on the second page.
    const ctx = await directory.getInviteContext({
      actorId: users.megan.aadObjectId,
      groupId: groups.wikiReaders,
      appId: apps.wiki,
      email: 'x@adatum.com',
    });
    assert.equal(ctx.groupAssignedToApp, true);
    assert.equal(
      sim.requests().filter((r) => !r.batchId && r.url.includes('$batch')).length,
      2,
      'one more batch round for the next page',
    );
  });

  it('lists admins: direct role holders and the members of a role-assignable group that holds a role', async () => {
    await sim.close();
    const seed: TenantSeed = loadDemoSeed();
    const roleGroup = 'dddddddd-0000-4000-8000-000000000001';
    seed.groups.push({
      id: roleGroup,
      displayName: 'Tier 1 admins',
      securityEnabled: true,
      mailEnabled: false,
      groupTypes: [],
      isAssignableToRole: true,
      owners: [],
      members: [users.lee.aadObjectId],
    } as TenantSeed['groups'][number]);
    seed.directoryRoles!.find((r) => r.displayName === 'User Administrator')!.members.push(roleGroup);
    sim = await startSimulator({ seed, port: 0, recordBodies: true });
    directory = directoryFor(sim);
    const holders = await directory.listRoleMembers([
      '62e90394-69f5-4237-9190-012177145e10',
      'fe930be7-5e62-47db-91af-98c3a49a38b1',
      '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
    ]);
    assert.ok(holders.has('3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f05'), 'direct Global Administrator');
    assert.ok(holders.has(users.lee.aadObjectId), 'through the role-assignable group');
    assert.ok(!holders.has(roleGroup), 'the group itself is no admin');
    assert.ok(sim.requests().some((r) => r.url.includes('directoryRoles(roleTemplateId=')));
  });

  it('names the permission a refused call needs when the tenant did not grant it', async () => {
    await sim.close();
    const seed: TenantSeed = loadDemoSeed();
    seed.applicationPermissions = (seed.applicationPermissions ?? []).filter((p) => p !== 'Application.Read.All');
    sim = await startSimulator({ seed, port: 0, recordBodies: true });
    directory = directoryFor(sim);
    await assert.rejects(
      directory.listCatalog(),
      (err: unknown) =>
        err instanceof DirectoryError &&
        err.status === 403 &&
        err.code === 'Authorization_RequestDenied' &&
        err.permission === 'Application.Read.All',
    );
  });

  it('maps Graph refusals to DirectoryErrors with code and request id, once', async () => {
    await assert.rejects(
      directory.addGroupMember(groups.dynamic, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10'),
      (err: unknown) => {
        assert.ok(err instanceof DirectoryError);
        assert.equal(err.kind, 'forbidden');
        assert.equal(err.code, 'Authorization_RequestDenied');
        assert.ok(err.requestId);
        return true;
      },
    );
    await assert.rejects(
      directory.addGroupMember(groups.synced, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10'),
      (err: unknown) => err instanceof DirectoryError && err.status === 400 && err.kind === 'badRequest',
    );
    await assert.rejects(
      directory.addGroupMember(groups.expenses, '00000000-0000-4000-8000-000000000000'),
      (err: unknown) => err instanceof DirectoryError && err.kind === 'notFound',
    );
  });

  it('is refused with unauthorized when the token is wrong, and logs no token', async () => {
    await sim.close();
    sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true, token: 'right' });
    const wrong = directoryFor(sim, 'wrong-secret-token', logs);
    await assert.rejects(
      wrong.getTenantInfo(),
      (err: unknown) => err instanceof DirectoryError && err.kind === 'unauthorized' && err.status === 401,
    );
    assert.deepEqual((await directoryFor(sim, 'right').getTenantInfo()).displayName, 'Contoso');
    assert.ok(logs.some((l) => JSON.parse(l).event === 'graph.request'));
    assert.ok(logs.every((l) => !l.includes('wrong-secret-token')));
  });

  it('logs one JSON line per Graph exchange with its request id', async () => {
    await directory.getTenantInfo();
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'graph.request');
    assert.equal(line?.method, 'GET');
    assert.equal(line?.path, '/v1.0/organization');
    assert.equal(line?.status, 200);
    assert.match(String(line?.graphRequestId), /^[0-9a-f-]{36}$/);
  });
});
