import { strict as assert } from 'node:assert';
import type { TenantSeed } from '../../src/simulator';
import { type Client, contractProblems, ids, q, start, ungrantedDemoSeed } from './helpers';

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });
const DUPLICATE = "One or more added object references already exist for the following modified properties: 'members'.";

function seedWith(change: (seed: TenantSeed) => void): TenantSeed {
  const seed = ungrantedDemoSeed();
  change(seed);
  return seed;
}

describe('simulator writes (real HTTP)', () => {
  let c: Client;

  beforeEach(async () => {
    c = await start();
  });
  afterEach(async () => {
    const problems = contractProblems(c);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  async function memberIds(group: string): Promise<string[]> {
    const r = await c.get(`/groups/${group}/members?$select=id`);
    return (r.body.value ?? []).map((v) => String(v.id));
  }

  describe('POST /groups/{id}/members/$ref', () => {
    it("adds a member (204) and refuses the same member again with Graph's exact message", async () => {
      const added = await c.post(`/groups/${ids.group(3)}/members/$ref`, ref(ids.jordan));
      assert.equal(added.status, 204);
      assert.deepEqual(await memberIds(ids.group(3)), [ids.jordan]);
      const again = await c.post(`/groups/${ids.group(3)}/members/$ref`, ref(ids.jordan));
      assert.equal(again.status, 400);
      assert.equal(again.body.error?.code, 'Request_BadRequest');
      assert.equal(again.body.error?.message, DUPLICATE);
      const seeded = await c.post(`/groups/${ids.group(1)}/members/$ref`, ref(ids.sam));
      assert.equal(seeded.body.error?.message, DUPLICATE);
      const memberOf = await c.get(`/users/${ids.jordan}/memberOf?$select=id`);
      assert.deepEqual(
        memberOf.body.value?.map((v) => v.id),
        [ids.group(3)],
      );
    });

    it('accepts users/{id} references too', async () => {
      const r = await c.post(`/groups/${ids.group(8)}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/users/${ids.sam}`,
      });
      assert.equal(r.status, 204);
      assert.deepEqual(await memberIds(ids.group(8)), [ids.sam]);
    });

    it('refuses dynamic (403), on-premises synced (400) and mail-enabled (400) groups', async () => {
      const dynamic = await c.post(`/groups/${ids.group(4)}/members/$ref`, ref(ids.jordan));
      assert.equal(dynamic.status, 403);
      assert.equal(dynamic.body.error?.code, 'Authorization_RequestDenied');
      assert.equal(dynamic.body.error?.message, 'Insufficient privileges to complete the operation.');
      const synced = await c.post(`/groups/${ids.group(5)}/members/$ref`, ref(ids.jordan));
      assert.equal(synced.status, 400);
      assert.equal(synced.body.error?.code, 'Request_BadRequest');
      assert.equal(
        synced.body.error?.message,
        'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
      );
      const mailEnabled = await c.post(`/groups/${ids.group(7)}/members/$ref`, ref(ids.jordan));
      assert.equal(mailEnabled.status, 400);
      assert.equal(mailEnabled.body.error?.code, 'Request_BadRequest');
      assert.equal(
        mailEnabled.body.error?.message,
        'Cannot Update a mail-enabled security groups and or distribution list.',
      );
      for (const g of [4, 5, 7]) assert.deepEqual(await memberIds(ids.group(g)), []);
    });

    it('refuses a distribution group and a Microsoft 365 group is writable', async () => {
      await c.sim.close();
      c = await start(
        {},
        seedWith((s) => {
          s.groups.push(
            {
              id: 'cccccccc-0000-4000-8000-000000000001',
              displayName: 'All Sales (DL)',
              securityEnabled: false,
              mailEnabled: true,
              groupTypes: [],
              owners: [ids.megan],
              members: [],
            },
            {
              id: 'cccccccc-0000-4000-8000-000000000002',
              displayName: 'Sales Team',
              securityEnabled: false,
              mailEnabled: true,
              groupTypes: ['Unified'],
              owners: [ids.megan],
              members: [],
            },
          );
        }),
      );
      const dl = await c.post('/groups/cccccccc-0000-4000-8000-000000000001/members/$ref', ref(ids.jordan));
      assert.equal(dl.status, 400);
      assert.equal(dl.body.error?.message, 'Cannot Update a mail-enabled security groups and or distribution list.');
      const unified = await c.post('/groups/cccccccc-0000-4000-8000-000000000002/members/$ref', ref(ids.jordan));
      assert.equal(unified.status, 204);
    });

    it('answers 404 Request_ResourceNotFound for an unknown object or group, 400 for a malformed reference', async () => {
      const ghost = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
      const object = await c.post(`/groups/${ids.group(3)}/members/$ref`, ref(ghost));
      assert.equal(object.status, 404);
      assert.equal(object.body.error?.code, 'Request_ResourceNotFound');
      assert.equal(
        object.body.error?.message,
        `Resource '${ghost}' does not exist or one of its queried reference-property objects are not present.`,
      );
      const group = await c.post(`/groups/${ghost}/members/$ref`, ref(ids.jordan));
      assert.equal(group.status, 404);
      const malformed = await c.post(`/groups/${ids.group(3)}/members/$ref`, { '@odata.id': 'jordan' });
      assert.equal(malformed.status, 400);
      const noBody = await c.post(`/groups/${ids.group(3)}/members/$ref`, {});
      assert.equal(noBody.status, 400);
    });
  });

  describe('PATCH /groups/{id} with members@odata.bind', () => {
    it('adds up to 20 members at once (204)', async () => {
      const r = await c.call('PATCH', `/groups/${ids.group(3)}`, {
        body: {
          'members@odata.bind': [ids.jordan, ids.sam, ids.adele].map(
            (id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`,
          ),
        },
      });
      assert.equal(r.status, 204);
      assert.deepEqual(await memberIds(ids.group(3)), [ids.jordan, ids.sam, ids.adele]);
    });

    it('adds none when one reference is wrong (all or none)', async () => {
      const urls = [ids.jordan, ids.sam].map((id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`);
      const dup = await c.call('PATCH', `/groups/${ids.group(1)}`, {
        body: { 'members@odata.bind': [urls[0], urls[1]] },
      });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error?.message, DUPLICATE);
      const ghost = await c.call('PATCH', `/groups/${ids.group(3)}`, {
        body: {
          'members@odata.bind': [
            urls[0],
            'https://graph.microsoft.com/v1.0/directoryObjects/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
          ],
        },
      });
      assert.equal(ghost.status, 404);
      const twice = await c.call('PATCH', `/groups/${ids.group(3)}`, {
        body: { 'members@odata.bind': [urls[0], urls[0]] },
      });
      assert.equal(twice.status, 400);
      assert.deepEqual(await memberIds(ids.group(3)), []);
      assert.deepEqual(await memberIds(ids.group(1)), [ids.alex, ids.sam]);
    });

    it('refuses more than 20 references and applies the same group rules', async () => {
      const many = Array.from({ length: 21 }, () => `https://graph.microsoft.com/v1.0/directoryObjects/${ids.jordan}`);
      const tooMany = await c.call('PATCH', `/groups/${ids.group(3)}`, { body: { 'members@odata.bind': many } });
      assert.equal(tooMany.status, 400);
      assert.equal(tooMany.body.error?.code, 'Request_BadRequest');
      const body = { 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${ids.jordan}`] };
      assert.equal((await c.call('PATCH', `/groups/${ids.group(4)}`, { body })).status, 403);
      assert.equal((await c.call('PATCH', `/groups/${ids.group(5)}`, { body })).status, 400);
      assert.equal((await c.call('PATCH', `/groups/${ids.group(7)}`, { body })).status, 400);
      const badUrl = await c.call('PATCH', `/groups/${ids.group(3)}`, {
        body: { 'members@odata.bind': ['not a url'] },
      });
      assert.equal(badUrl.status, 400);
      assert.equal(badUrl.body.error?.message, 'Invalid URL format specified in @odata.bind for members');
    });

    it('updates simple properties', async () => {
      const r = await c.call('PATCH', `/groups/${ids.group(9)}`, { body: { description: 'New text' } });
      assert.equal(r.status, 204);
      const g = await c.get(`/groups/${ids.group(9)}?$select=description`);
      assert.equal(g.body.description, 'New text');
    });
  });

  describe('POST /groups/{id}/owners/$ref', () => {
    it('adds an owner and refuses a duplicate', async () => {
      const r = await c.post(`/groups/${ids.group(6)}/owners/$ref`, ref(ids.lee));
      assert.equal(r.status, 204);
      const owners = await c.get(`/groups/${ids.group(6)}/owners?$select=id`);
      assert.deepEqual(
        owners.body.value?.map((v) => v.id),
        [ids.lee],
      );
      const owned = await c.get(`/users/${ids.lee}/ownedObjects/microsoft.graph.group?$select=id`);
      assert.ok(owned.body.value?.some((v) => v.id === ids.group(6)));
      const again = await c.post(`/groups/${ids.group(6)}/owners/$ref`, ref(ids.lee));
      assert.equal(again.status, 400);
      assert.equal(
        again.body.error?.message,
        "One or more added object references already exist for the following modified properties: 'owners'.",
      );
    });
  });

  describe('POST /invitations', () => {
    const invite = (body: Record<string, unknown>) =>
      c.post('/invitations', { inviteRedirectUrl: 'https://myapps.microsoft.com/?tenantid=' + ids.tenant, ...body });

    it('creates a guest user and answers 201 with the invitation', async () => {
      const r = await invite({
        invitedUserEmailAddress: 'alice@fabrikam.com',
        invitedUserDisplayName: 'Alice Smith',
        invitedUserMessageInfo: { customizedMessageBody: 'Welcome to Contoso Expenses' },
      });
      assert.equal(r.status, 201);
      const inv = r.body;
      assert.equal(inv['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#invitations/$entity');
      assert.match(String(inv.id), /^[0-9a-f-]{36}$/);
      assert.equal(inv.invitedUserEmailAddress, 'alice@fabrikam.com');
      assert.equal(inv.invitedUserDisplayName, 'Alice Smith');
      assert.equal(inv.invitedUserType, 'Guest');
      assert.equal(inv.sendInvitationMessage, false);
      assert.equal(inv.resetRedemption, false);
      assert.equal(inv.status, 'PendingAcceptance');
      assert.equal(inv.inviteRedirectUrl, 'https://myapps.microsoft.com/?tenantid=' + ids.tenant);
      assert.match(String(inv.inviteRedeemUrl), /^https:\/\/login\.microsoftonline\.com\/redeem\?rd=/);
      assert.equal(
        (inv.invitedUserMessageInfo as { customizedMessageBody: string }).customizedMessageBody,
        'Welcome to Contoso Expenses',
      );
      const userId = (inv.invitedUser as { id: string }).id;
      const user = await c.get(
        `/users/${userId}?$select=id,displayName,mail,userPrincipalName,userType,externalUserState,creationType,otherMails,accountEnabled,createdDateTime`,
      );
      assert.equal(user.status, 200);
      assert.equal(user.body.displayName, 'Alice Smith');
      assert.equal(user.body.mail, 'alice@fabrikam.com');
      assert.equal(user.body.userPrincipalName, 'alice_fabrikam.com#EXT#@contoso.onmicrosoft.com');
      assert.equal(user.body.userType, 'Guest');
      assert.equal(user.body.externalUserState, 'PendingAcceptance');
      assert.equal(user.body.creationType, 'Invitation');
      assert.equal(user.body.accountEnabled, true);
      const found = await c.get(`/users?$filter=${q("mail eq 'ALICE@fabrikam.com'")}&$select=id`);
      assert.deepEqual(
        found.body.value?.map((v) => v.id),
        [userId],
      );
      const added = await c.post(`/groups/${ids.group(1)}/members/$ref`, ref(userId));
      assert.equal(added.status, 204);
    });

    it('names the guest after the address when no display name is given, and honours sendInvitationMessage', async () => {
      const r = await invite({ invitedUserEmailAddress: 'bob.jones@adatum.com', sendInvitationMessage: true });
      assert.equal(r.status, 201);
      assert.equal(r.body.sendInvitationMessage, true);
      const user = await c.get(`/users/${(r.body.invitedUser as { id: string }).id}?$select=displayName`);
      assert.equal(user.body.displayName, 'bob.jones');
    });

    it('re-invites an existing guest without creating another user, with a new redemption URL', async () => {
      const before = await c.get('/users?$select=id&$top=999');
      const first = await invite({ invitedUserEmailAddress: 'SAM@northwindtraders.com' });
      assert.equal(first.status, 201);
      assert.equal((first.body.invitedUser as { id: string }).id, ids.sam);
      assert.equal(first.body.status, 'PendingAcceptance');
      const second = await invite({ invitedUserEmailAddress: 'sam@northwindtraders.com' });
      assert.equal((second.body.invitedUser as { id: string }).id, ids.sam);
      assert.notEqual(second.body.inviteRedeemUrl, first.body.inviteRedeemUrl);
      assert.notEqual(second.body.id, first.body.id);
      const accepted = await invite({ invitedUserEmailAddress: 'jordan.rivera@fabrikam.com' });
      assert.equal((accepted.body.invitedUser as { id: string }).id, ids.jordan);
      assert.equal(accepted.body.status, 'Completed');
      const fresh = await invite({ invitedUserEmailAddress: 'carol@fabrikam.com' });
      const again = await invite({ invitedUserEmailAddress: 'Carol@Fabrikam.com' });
      assert.equal((again.body.invitedUser as { id: string }).id, (fresh.body.invitedUser as { id: string }).id);
      const after = await c.get('/users?$select=id&$top=999');
      assert.equal(after.body.value?.length, (before.body.value?.length ?? 0) + 1);
    });

    it('needs invitedUserEmailAddress and inviteRedirectUrl and a valid address (400)', async () => {
      const noAddress = await c.post('/invitations', { inviteRedirectUrl: 'https://x.example' });
      assert.equal(noAddress.status, 400);
      assert.equal(noAddress.body.error?.code, 'BadRequest');
      const noRedirect = await c.post('/invitations', { invitedUserEmailAddress: 'dave@fabrikam.com' });
      assert.equal(noRedirect.status, 400);
      const invalid = await invite({ invitedUserEmailAddress: 'not-an-address' });
      assert.equal(invalid.status, 400);
      const special = await invite({ invitedUserEmailAddress: 'da!ve@fabrikam.com' });
      assert.equal(special.status, 400);
    });

    it("refuses addresses of blocked domains and of the tenant's own verified domains", async () => {
      const blocked = await invite({ invitedUserEmailAddress: 'eve@TailspinToys.com' });
      assert.equal(blocked.status, 400);
      assert.equal(blocked.body.error?.code, 'BadRequest');
      assert.match(blocked.body.error?.message ?? '', /tailspintoys\.com/);
      const own = await invite({ invitedUserEmailAddress: 'someone@contoso.com' });
      assert.equal(own.status, 400);
      assert.match(own.body.error?.message ?? '', /verified domain/);
      const users = await c.get(`/users?$filter=${q("mail eq 'eve@tailspintoys.com'")}`);
      assert.deepEqual(users.body.value, []);
    });

    it('with allowedDomains, refuses every other domain', async () => {
      await c.sim.close();
      c = await start(
        {},
        seedWith((s) => (s.b2bDomains = { allowedDomains: ['fabrikam.com', '*.partners.example'] })),
      );
      assert.equal((await invite({ invitedUserEmailAddress: 'frank@fabrikam.com' })).status, 201);
      assert.equal((await invite({ invitedUserEmailAddress: 'gina@eu.partners.example' })).status, 201);
      const other = await invite({ invitedUserEmailAddress: 'hank@adatum.com' });
      assert.equal(other.status, 400);
    });

    for (const setting of ['none', 'adminsAndGuestInviters'] as const) {
      it(`refuses app-only invitations with 403 when allowInvitesFrom is ${setting}`, async () => {
        await c.sim.close();
        c = await start(
          {},
          seedWith((s) => (s.authorizationPolicy = { allowInvitesFrom: setting })),
        );
        const r = await invite({ invitedUserEmailAddress: 'ivy@fabrikam.com' });
        assert.equal(r.status, 403);
        assert.equal(r.body.error?.code, 'Forbidden');
        assert.equal(
          r.body.error?.message,
          'Guest invitations not allowed for your company. Contact your company administrator for more details.',
        );
        const policy = await c.get('/policies/authorizationPolicy?$select=allowInvitesFrom');
        assert.equal(policy.body.allowInvitesFrom, setting);
      });
    }

    it('allows invitations when allowInvitesFrom is adminsGuestInvitersAndAllMembers', async () => {
      await c.sim.close();
      c = await start(
        {},
        seedWith((s) => (s.authorizationPolicy = { allowInvitesFrom: 'adminsGuestInvitersAndAllMembers' })),
      );
      assert.equal((await invite({ invitedUserEmailAddress: 'jack@fabrikam.com' })).status, 201);
    });
  });
});
