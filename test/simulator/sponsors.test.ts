import { strict as assert } from 'node:assert';
import { loadDemoSeed } from '../../src/simulator';
import { type Client, contractProblems, ids, start } from './helpers';

/**
 * Sponsors (api-reference/v1.0/api/user-list-sponsors.md, user-post-sponsors.md, user-delete-sponsors.md) and
 * redemption.
 */
describe('simulator: sponsors, invitedUserSponsors, externalUserState and the test-only redeem', () => {
  let c: Client;
  beforeEach(async () => {
    c = await start();
  });
  afterEach(async () => {
    const problems = contractProblems(c);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  it('adds, lists and removes a sponsor by reference; a duplicate is refused', async () => {
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/users/${ids.megan}` };
    assert.equal((await c.post(`/users/${ids.jordan}/sponsors/$ref`, ref)).status, 204);
    const listed = await c.get(`/users/${ids.jordan}/sponsors?$select=id,displayName`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.value?.map((s) => [s.id, s['@odata.type'], s.displayName]),
      [[ids.megan, '#microsoft.graph.user', 'Megan Bowen']],
    );
    assert.equal((await c.post(`/users/${ids.jordan}/sponsors/$ref`, ref)).status, 400);
    assert.equal((await c.call('DELETE', `/users/${ids.jordan}/sponsors/${ids.megan}/$ref`)).status, 204);
    assert.equal((await c.call('DELETE', `/users/${ids.jordan}/sponsors/${ids.megan}/$ref`)).status, 404);
    assert.deepEqual((await c.get(`/users/${ids.jordan}/sponsors`)).body.value, []);
  });

  it('sets the sponsors given in invitedUserSponsors on the invited user', async () => {
    const sent = await c.post('/invitations', {
      invitedUserEmailAddress: 'new.guest@adatum.com',
      inviteRedirectUrl: 'https://myapps.microsoft.com',
      invitedUserSponsors: [{ id: ids.alex }],
    });
    assert.equal(sent.status, 201);
    const guestId = String((sent.body.invitedUser as { id: string }).id);
    assert.deepEqual(
      (await c.get(`/users/${guestId}/sponsors`)).body.value?.map((s) => s.id),
      [ids.alex],
    );
  });

  it('redeem marks a guest accepted with the time of the change, and is in the request log', async () => {
    const sent = await c.post('/invitations', {
      invitedUserEmailAddress: 'redeem.me@adatum.com',
      inviteRedirectUrl: 'https://myapps.microsoft.com',
    });
    const guestId = String((sent.body.invitedUser as { id: string }).id);
    const before = await c.get(`/users/${guestId}?$select=id,externalUserState,externalUserStateChangeDateTime`);
    assert.equal(before.body.externalUserState, 'PendingAcceptance');
    const redeemed = await fetch(`${c.sim.url}/_simulator/users/${guestId}/redeem`, { method: 'POST' });
    assert.equal(redeemed.status, 200);
    const after = await c.get(`/users/${guestId}?$select=id,externalUserState,externalUserStateChangeDateTime`);
    assert.equal(after.body.externalUserState, 'Accepted');
    assert.match(String(after.body.externalUserStateChangeDateTime), /^\d{4}-\d\d-\d\dT/);
    assert.equal(
      (await fetch(`${c.sim.url}/_simulator/users/${ids.megan}/redeem`, { method: 'POST' })).status,
      404,
      'members have nothing to redeem',
    );
    assert.ok(
      c.sim
        .requests()
        .some((r) => r.method === 'POST' && r.url === `/_simulator/users/${guestId}/redeem` && r.status === 200),
    );
  });

  it('writing sponsors needs User.ReadWrite.All; reading them User.Read.All (the demo grant has only the second)', async () => {
    await c.sim.close();
    c = await start({}, loadDemoSeed());
    assert.equal((await c.get(`/users/${ids.jordan}/sponsors`)).status, 200);
    const refused = await c.post(`/users/${ids.jordan}/sponsors/$ref`, {
      '@odata.id': `https://graph.microsoft.com/v1.0/users/${ids.megan}`,
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'Authorization_RequestDenied');
    c.sim.setApplicationPermissions([...(loadDemoSeed().applicationPermissions ?? []), 'User.ReadWrite.All']);
    assert.equal(
      (
        await c.post(`/users/${ids.jordan}/sponsors/$ref`, {
          '@odata.id': `https://graph.microsoft.com/v1.0/users/${ids.megan}`,
        })
      ).status,
      204,
    );
  });
});
