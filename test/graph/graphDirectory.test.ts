import { strict as assert } from 'node:assert';
import { createGraphClient } from '../../src/graph/client';
import { GraphDirectory, GraphHttp } from '../../src/graph/graphDirectory';
import { DirectoryError } from '../../src/graph/directory';
import { createLogger } from '../../src/logging';
import { loadDemoSeed, startSimulator, type RunningSimulator, type TenantSeed } from '../../src/simulator';
import { validateLog } from '../support/graphContract';
import { apps, groups, users } from '../support/botHarness';

function directoryFor(sim: RunningSimulator, token = 'test-token', logs: string[] = []): GraphDirectory {
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  return new GraphDirectory(new GraphHttp(createGraphClient({ baseUrl: sim.graphBaseUrl, auth: { kind: 'static', token }, logger, retryDelaySeconds: 0 })));
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

  it('lists the groups a user owns with their apps, following paging, in two round trips', async () => {
    const owned = await directory.listOwnedGroupsWithApps(users.megan.aadObjectId);
    const byGroup = new Map(owned.map((o) => [o.group.id, o.apps.map((a) => a.displayName)]));
    assert.deepEqual(byGroup.get(groups.wikiReaders), ['Contoso Wiki']);
    assert.deepEqual(byGroup.get(groups.expenses), ['Contoso Expenses']);
    assert.deepEqual(byGroup.get(groups.unassigned), []);
    assert.equal(byGroup.get(groups.dynamic)?.length, 1);
    assert.ok(owned.find((o) => o.group.id === groups.dynamic)?.group.groupTypes.includes('DynamicMembership'));
    assert.equal(owned.find((o) => o.group.id === groups.synced)?.group.onPremisesSyncEnabled, true);
    assert.equal(byGroup.size, 7);
    const pages = sim.requests().filter((r) => !r.batchId && r.url.includes('ownedObjects'));
    assert.ok(pages.length >= 4, 'page size 2 forces nextLink paging');
    assert.equal(sim.requests().filter((r) => !r.batchId && r.url.includes('$batch')).length, 1);
  });

  it('splits more than 20 independent reads into several batches', async () => {
    await sim.close();
    const seed: TenantSeed = loadDemoSeed();
    for (let i = 0; i < 25; i++) {
      const id = `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`;
      seed.groups.push({ id, displayName: `Extra ${i}`, securityEnabled: true, mailEnabled: false, groupTypes: [], owners: [users.lee.aadObjectId], members: [] });
    }
    sim = await startSimulator({ seed, port: 0, recordBodies: true });
    directory = directoryFor(sim);
    const owned = await directory.listOwnedGroupsWithApps(users.lee.aadObjectId);
    assert.equal(owned.length, 27);
    const batches = sim.requests().filter((r) => !r.batchId && r.url.includes('$batch'));
    assert.equal(batches.length, 2);
  });

  it('reads the invitation context in one batch: owner, assignment, app, existing user, membership, policy', async () => {
    sim.clearRequests();
    const ctx = await directory.getInviteContext({ actorId: users.megan.aadObjectId, groupId: groups.expenses, appId: apps.expenses, email: 'SAM@northwindtraders.com' });
    assert.equal(sim.requests().filter((r) => !r.batchId).length, 1);
    assert.equal(ctx.group?.displayName, 'Expenses External Reviewers');
    assert.equal(ctx.app?.homepage, 'https://expenses.contoso.com/');
    assert.equal(ctx.actorIsOwner, true);
    assert.equal(ctx.groupAssignedToApp, true);
    assert.equal(ctx.existingUser?.id, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f11');
    assert.equal(ctx.existingUserIsMember, true);
    assert.equal(ctx.allowInvitesFrom, 'everyone');
    assert.deepEqual(ctx.tenant?.verifiedDomains, ['contoso.onmicrosoft.com', 'contoso.com']);
    assert.ok(ctx.requestId);

    const other = await directory.getInviteContext({ actorId: users.adele.aadObjectId, groupId: groups.expenses, appId: apps.wiki, email: 'nobody@adatum.com' });
    assert.equal(other.actorIsOwner, false);
    assert.equal(other.groupAssignedToApp, false);
    assert.equal(other.existingUser, null);
    assert.equal(other.existingUserIsMember, false);

    const gone = await directory.getInviteContext({ actorId: users.megan.aadObjectId, groupId: '00000000-0000-4000-8000-000000000000', appId: apps.wiki, email: 'x@adatum.com' });
    assert.equal(gone.group, null);
  });

  it('escapes quotes in OData string literals', async () => {
    const ctx = await directory.getInviteContext({ actorId: users.megan.aadObjectId, groupId: groups.expenses, appId: apps.expenses, email: "o'brien@adatum.com" });
    assert.equal(ctx.existingUser, null);
  });

  it('invites a guest and adds them; a second add reports "already a member" instead of failing', async () => {
    const invitation = await directory.inviteGuest({ email: 'pat.partner@adatum.com', redirectUrl: 'https://wiki.contoso.com/login', message: 'Hello' });
    assert.match(invitation.userId, /^[0-9a-f-]{36}$/);
    assert.equal(invitation.status, 'PendingAcceptance');
    assert.ok(invitation.redeemUrl);
    assert.ok(invitation.requestId);
    const first = await directory.addGroupMember(groups.wikiReaders, invitation.userId);
    const second = await directory.addGroupMember(groups.wikiReaders, invitation.userId);
    assert.equal(first.added, true);
    assert.equal(second.added, false);
    const again = await directory.inviteGuest({ email: 'pat.partner@adatum.com', redirectUrl: 'https://wiki.contoso.com/login', message: null });
    assert.equal(again.userId, invitation.userId, 're-inviting returns the same user');
  });

  it('maps Graph refusals to DirectoryErrors with code and request id, once', async () => {
    await assert.rejects(directory.addGroupMember(groups.dynamic, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10'), (err: unknown) => {
      assert.ok(err instanceof DirectoryError);
      assert.equal(err.kind, 'forbidden');
      assert.equal(err.code, 'Authorization_RequestDenied');
      assert.ok(err.requestId);
      return true;
    });
    await assert.rejects(directory.addGroupMember(groups.synced, '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10'), (err: unknown) => err instanceof DirectoryError && err.status === 400 && err.kind === 'badRequest');
    await assert.rejects(directory.addGroupMember(groups.expenses, '00000000-0000-4000-8000-000000000000'), (err: unknown) => err instanceof DirectoryError && err.kind === 'notFound');
  });

  it('is refused with unauthorized when the token is wrong, and logs no token', async () => {
    await sim.close();
    sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true, token: 'right' });
    const wrong = directoryFor(sim, 'wrong-secret-token', logs);
    await assert.rejects(wrong.getTenantInfo(), (err: unknown) => err instanceof DirectoryError && err.kind === 'unauthorized' && err.status === 401);
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
