/**
 * Secure defaults (issue 17, items 1, 2 and 4): no anonymous bot with a real tenant; Teams only, the allowed
 * tenants only, users the directory knows only; guests get a narrower set of commands; personal data only in 1:1.
 */
import { strict as assert } from 'node:assert';
import { ConfigError, loadSettings } from '../../src/config';
import {
  cardOf,
  createHarness,
  groups,
  textOf,
  users,
  TENANT_ID,
  type Harness,
  type UserChat,
} from '../support/botHarness';

const LIVE = { GRAPH_MODE: 'live', GRAPH_TENANT_ID: TENANT_ID, STORE_PATH: ':memory:' };
const jordan = { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10', name: 'Jordan Rivera' };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadSettings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected a configuration error');
}

describe('secure defaults: configuration', () => {
  it('refuses GRAPH_MODE=live without bot credentials, naming MicrosoftAppId; simulator modes may stay anonymous', () => {
    const err = configError(LIVE);
    assert.equal(err.variable, 'MicrosoftAppId');
    assert.match(err.message, /MicrosoftAppId is required when GRAPH_MODE=live/);
    assert.equal(loadSettings({ STORE_PATH: ':memory:' }).botAuth, null);
  });

  it('in live mode ALLOWED_TENANT_IDS defaults to the Graph tenant; set, it is taken as given', () => {
    const auth = { MicrosoftAppId: 'a2b5d1f0-1111-4222-8333-944445555666', MicrosoftAppPassword: 'x' };
    assert.deepEqual(loadSettings({ ...LIVE, ...auth }).allowedTenantIds, [TENANT_ID]);
    const other = '11111111-2222-4333-8444-555555555555';
    assert.deepEqual(loadSettings({ ...LIVE, ...auth, ALLOWED_TENANT_IDS: `${TENANT_ID},${other}` }).allowedTenantIds, [
      TENANT_ID,
      other,
    ]);
    assert.deepEqual(loadSettings({ STORE_PATH: ':memory:' }).allowedTenantIds, []);
  });

  it('refuses an http: INVITE_REDIRECT_URL_DEFAULT', () => {
    assert.equal(
      configError({ STORE_PATH: ':memory:', INVITE_REDIRECT_URL_DEFAULT: 'http://intranet.contoso.com' }).variable,
      'INVITE_REDIRECT_URL_DEFAULT',
    );
  });
});

describe('secure defaults: who may use the bot (bot + simulator)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ trustServiceUrl: (url) => url.startsWith('https://') });
  });
  afterEach(async () => h.close());

  async function refusals(): Promise<string[]> {
    return (await h.store.audit.list({ action: 'activity.refused' })).map((e) => e.outcome);
  }

  it('refuses and audits an activity from a channel other than msteams, before any Graph call', async () => {
    const megan = h.chat(users.megan);
    const turn = await megan.deliver(megan.activity({ text: 'invite guest', channelId: 'directline' }));
    assert.equal(turn.replies.length, 0);
    assert.equal(h.sim.requests().length, 0);
    assert.deepEqual(await refusals(), ['channel']);
  });

  it('refuses and audits an activity from a tenant not allowed', async () => {
    await h.close();
    h = await createHarness({ allowedTenantIds: [TENANT_ID] });
    const megan = h.chat(users.megan);
    const other = '11111111-2222-4333-8444-555555555555';
    const turn = await megan.deliver(
      megan.activity({
        text: 'my guests',
        conversation: { id: 'a:x', conversationType: 'personal', tenantId: other, isGroup: false, name: '' },
        channelData: { tenant: { id: other } },
      }),
    );
    assert.match(textOf(turn), /not available for your organization/);
    assert.deepEqual(await refusals(), ['tenant']);
  });

  it('refuses a user the directory does not know (not "member of nothing"): no catalog, no approval cards', async () => {
    const stranger = h.chat({ aadObjectId: '99999999-7b6d-4c8e-9a1f-2b3c4d5e6f99', name: 'Megan Bowen' });
    const turn = await stranger.send('request access');
    assert.match(textOf(turn), /cannot find your account/);
    assert.equal(
      turn.replies.some((a) => cardOf(a)),
      false,
    );
    assert.ok(
      !h.sim.requests().some((r) => r.url.includes('servicePrincipals') || r.url.includes('appRoleAssignedTo')),
      'the catalog was not read',
    );
    assert.deepEqual(await refusals(), ['unknownUser']);
    assert.equal(
      (await h.store.conversations.get(TENANT_ID, '99999999-7b6d-4c8e-9a1f-2b3c4d5e6f99')) ?? null,
      null,
      'no conversation reference kept',
    );
  });

  it('a guest user may request access but not invite guests, list guests or run admin commands', async () => {
    const guest = h.chat(jordan);
    for (const command of [
      'invite guest',
      'invite guests',
      'my guests',
      'pending requests',
      'setup check',
      'guest report',
    ]) {
      const turn = await guest.send(command);
      assert.match(textOf(turn), /As a guest in this organization/, command);
    }
    assert.match(textOf(await guest.send('request access')), /Contoso|app/i);
    assert.doesNotMatch(textOf(await guest.send('my requests')), /As a guest/);
  });

  it('does not keep a conversation reference whose serviceUrl is not trusted (live: https only)', async () => {
    const megan = h.chat(users.megan);
    await megan.deliver(megan.activity({ text: 'help', serviceUrl: 'http://attacker.example/' }));
    assert.equal((await h.store.conversations.get(TENANT_ID, users.megan.aadObjectId)) ?? null, null);
    await megan.send('help');
    const kept = await h.store.conversations.get(TENANT_ID, users.megan.aadObjectId);
    assert.match(JSON.stringify(kept), /"serviceUrl":"https:\/\/smba\.test\/amer\/"/);
  });
});

describe('personal data only in the 1:1 chat (bot + simulator)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ adminUserIds: [users.lee.aadObjectId] });
  });
  afterEach(async () => h.close());

  function inChannel(chat: UserChat, text: string, channelData: Record<string, unknown> = {}) {
    return chat.deliver(
      chat.activity({
        text,
        recipient: { id: '28:a2b5d1f0-1111-4222-8333-944445555666', name: 'Guest Invite' },
        conversation: {
          id: '19:general@thread.tacv2;messageid=1',
          conversationType: 'channel',
          tenantId: TENANT_ID,
          isGroup: true,
          name: '',
        },
        channelData: { tenant: { id: TENANT_ID }, channel: { id: '19:general@thread.tacv2' }, ...channelData },
      }),
    );
  }

  it('commands that show guests, requests, addresses or apps answer in a channel only with a link to the 1:1 chat', async () => {
    const lee = h.chat(users.lee);
    for (const command of [
      'my guests',
      'invite guest',
      'invite guests',
      'request access',
      'my requests',
      'pending requests',
      'setup check',
      'alerts',
      'guest report',
    ]) {
      const turn = await inChannel(lee, `<at>Guest Invite</at> ${command}`);
      assert.equal(
        turn.replies.some((a) => cardOf(a)),
        false,
        command,
      );
      assert.match(
        textOf(turn),
        /only answer it in our 1:1 chat.*https:\/\/teams\.microsoft\.com\/l\/chat\/0\/0\?users=28:a2b5d1f0-1111-4222-8333-944445555666/,
        command,
      );
    }
    assert.deepEqual(
      h.sim
        .requests()
        .filter((r) => !r.url.includes(`/users/${users.lee.aadObjectId}`))
        .map((r) => r.url),
      [],
      'nothing read but who Lee is',
    );
    // In a group chat too.
    const group = await lee.deliver(
      lee.activity({
        text: 'my guests',
        conversation: {
          id: '19:chat@thread.v2',
          conversationType: 'groupChat',
          tenantId: TENANT_ID,
          isGroup: true,
          name: '',
        },
      }),
    );
    assert.match(textOf(group), /1:1 chat/);
  });

  it('installed into a team: a short welcome with the link, no setup report (even for an admin)', async () => {
    const lee = h.chat(users.lee);
    const turn = await lee.deliver(
      lee.activity({
        type: 'installationUpdate',
        action: 'add',
        text: undefined,
        recipient: { id: '28:a2b5d1f0-1111-4222-8333-944445555666', name: 'Guest Invite' },
        conversation: {
          id: '19:general@thread.tacv2',
          conversationType: 'channel',
          tenantId: TENANT_ID,
          isGroup: true,
          name: '',
        },
        channelData: { tenant: { id: TENANT_ID }, team: { id: '19:general@thread.tacv2' } },
      }),
    );
    assert.equal(
      turn.replies.some((a) => cardOf(a)),
      false,
    );
    assert.match(textOf(turn), /only in a 1:1 chat/);
    // Installed personally, the admin gets the help card and the setup report.
    const personal = await lee.deliver(lee.activity({ type: 'installationUpdate', action: 'add', text: undefined }));
    assert.ok(personal.replies.filter((a) => cardOf(a)).length >= 2);
  });

  it('"alerts here" warns when the team (its Microsoft 365 group) has guests', async () => {
    const lee = h.chat(users.lee);
    const withGuests = await findGroupWithGuests(h);
    const warned = await inChannel(lee, 'alerts here', {
      team: { id: '19:general@thread.tacv2', aadGroupId: withGuests },
    });
    assert.match(textOf(warned), /this team has guests/);
    const unknown = await inChannel(lee, 'alerts here');
    assert.match(textOf(unknown), /guests included if the team has any/);
  });
});

async function findGroupWithGuests(h: Harness): Promise<string> {
  for (const id of Object.values(groups)) {
    const members = await h.graph<{ value: Array<{ userType?: string }> }>(`/groups/${id}/members?$select=id,userType`);
    if (members.status === 200 && members.body.value.some((m) => m.userType === 'Guest')) return id;
  }
  throw new Error('the seed has no group with guests');
}

describe('card actions from a shared chat', () => {
  it('an Action.Execute from a channel gets no personal data, only the link to the 1:1 chat', async () => {
    const h = await createHarness();
    try {
      const megan = h.chat(users.megan);
      const turn = await megan.deliver(
        megan.activity({
          type: 'invoke',
          name: 'adaptiveCard/action',
          text: undefined,
          recipient: { id: '28:a2b5d1f0-1111-4222-8333-944445555666', name: 'Guest Invite' },
          conversation: {
            id: '19:general@thread.tacv2;messageid=1',
            conversationType: 'channel',
            tenantId: TENANT_ID,
            isGroup: true,
            name: '',
          },
          value: { action: { type: 'Action.Execute', verb: 'guests.list', data: { page: '0' } } },
        }),
      );
      const body = JSON.stringify(turn.replies);
      assert.match(body, /1:1 chat/);
      assert.ok(!h.sim.requests().some((r) => r.url.includes('/members')), 'no guests read');
    } finally {
      await h.close();
    }
  });
});
