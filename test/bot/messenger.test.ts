import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import { TeamsMessenger } from '../../src/bot/messenger';
import { openSqliteStore } from '../../src/store/sqlite';
import type { AccessRequestRecord, AlertRecord, JsonValue, Store } from '../../src/store/store';
import { silentLogger } from '../../src/logging';

const tenant = 't1';
const request: AccessRequestRecord = {
  id: 'r1',
  tenantId: tenant,
  requesterId: 'adele',
  requesterName: 'Adele Vance',
  appId: 'sp1',
  appName: 'Contoso Expenses',
  groupId: 'g1',
  groupName: 'Expenses External Reviewers',
  justification: 'Audit',
  state: 'pending',
  ownerIds: ['megan'],
  ownerCards: [],
  decidedBy: null,
  decidedByName: null,
  decidedAt: null,
  comment: null,
  outcome: null,
  remindedAt: null,
  version: 1,
  createdAt: '2026-11-24T09:00:00.000Z',
  updatedAt: '2026-11-24T09:00:00.000Z',
};
const reference = (user: string) => ({
  serviceUrl: 'http://127.0.0.1:1/_connector',
  channelId: 'msteams',
  user: { id: `29:${user}`, name: user },
  bot: { id: '28:bot', name: 'Guest Invite' },
  conversation: { id: `a:${user}`, conversationType: 'personal', tenantId: tenant },
});

/** The request, approved by Megan, with these owners' cards. */
const approvedByMegan = (
  ownerCards: AccessRequestRecord['ownerCards'],
  more: Partial<AccessRequestRecord> = {},
): AccessRequestRecord => ({
  ...request,
  state: 'approved',
  decidedBy: 'megan',
  decidedByName: 'Megan Bowen',
  decidedAt: '2026-11-24T10:00:00.000Z',
  outcome: { membership: 'added' },
  ownerCards,
  ...more,
});

/** An open alert for Wiki Partners' dynamic membership, last blocking Adele while she was `doing` something. */
const blockedByAdele = (doing: JsonValue): AlertRecord => ({
  tenantId: tenant,
  key: 'groupDynamic:g9',
  kind: 'groupDynamic',
  appId: 'sp9',
  appName: 'Contoso Wiki',
  groupId: 'g9',
  groupName: 'Wiki Partners',
  summary: 'Wiki Partners has dynamic membership.',
  fix: ['Create an assigned group.'],
  state: 'open',
  count: 1,
  countSinceAlert: 1,
  lastBlocked: { userId: 'adele', name: 'Adele Vance', doing, at: '2026-11-24T09:00:00.000Z' },
  firstSeen: '2026-11-24T09:00:00.000Z',
  lastSeen: '2026-11-24T09:00:00.000Z',
  lastAlertedAt: null,
  pendingDelivery: false,
  acknowledgedBy: null,
  resolvedAt: null,
  version: 1,
});

function fakeAdapter() {
  const sent: Array<{ conversation: string; activity: unknown }> = [];
  const updated: Array<{ conversation: string; activity: unknown }> = [];
  const continueConversationAsync = sinon
    .stub()
    .callsFake(
      async (_appId: string, ref: { conversation: { id: string } }, logic: (c: TurnContext) => Promise<void>) => {
        const context = {
          sendActivity: async (activity: unknown) => {
            sent.push({ conversation: ref.conversation.id, activity });
            return { id: `act-${sent.length}` };
          },
          updateActivity: async (activity: unknown) => {
            updated.push({ conversation: ref.conversation.id, activity });
          },
        } as unknown as TurnContext;
        await logic(context);
      },
    );
  const createConversationAsync = sinon.stub().rejects(Object.assign(new Error('Forbidden'), { statusCode: 403 }));
  return {
    adapter: { continueConversationAsync, createConversationAsync } as unknown as CloudAdapter,
    sent,
    updated,
    continueConversationAsync,
    createConversationAsync,
  };
}

describe('TeamsMessenger', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(async () => store.close());

  it("sends the approval card to the owner's stored 1:1 conversation and reports where it is", async () => {
    await store.conversations.upsert(tenant, 'megan', reference('megan'), new Date());
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const result = await messenger.sendApprovalCard(request, { id: 'megan', displayName: 'Megan Bowen' }, 'new');
    assert.equal(result.ok, true);
    assert.equal(fake.sent[0].conversation, 'a:megan');
    const card = (fake.sent[0].activity as { attachments: Array<{ content: { refresh?: { userIds: string[] } } }> })
      .attachments[0].content;
    assert.deepEqual(card.refresh?.userIds, ['29:megan']);
    if (result.ok) assert.equal(result.location.activityId, 'act-1');
  });

  it('tries to create the conversation when there is none, and records a 403 as unreachable', async () => {
    await store.conversations.upsert(tenant, 'adele', reference('adele'), new Date());
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const result = await messenger.sendApprovalCard(request, { id: 'alex', displayName: 'Alex Wilber' }, 'new');
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error, /403/);
    assert.equal(fake.createConversationAsync.callCount, 1);
    assert.equal(fake.createConversationAsync.firstCall.args[2], 'http://127.0.0.1:1/_connector');
  });

  it('retries 429 (after its Retry-After) and 502 (with backoff) from the channel through the outbox, then delivers', async () => {
    await store.conversations.upsert(tenant, 'megan', reference('megan'), new Date());
    const fake = fakeAdapter();
    let calls = 0;
    const inner = fake.adapter.continueConversationAsync.bind(fake.adapter);
    const retryAfter = { headers: { get: (name: string) => (name === 'retry-after' ? '1' : undefined) } };
    const flaky = sinon.stub().callsFake(async (...args: Parameters<CloudAdapter['continueConversationAsync']>) => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('Too Many Requests'), { statusCode: 429, response: retryAfter });
      if (calls === 2) throw Object.assign(new Error('Bad Gateway'), { statusCode: 502 });
      return inner(...args);
    });
    const messenger = new TeamsMessenger(
      { ...fake.adapter, continueConversationAsync: flaky } as unknown as CloudAdapter,
      store,
      '',
      silentLogger,
      { retryBaseMs: 20 },
    );
    const before = Date.now();
    const result = await messenger.sendApprovalCard(request, { id: 'megan', displayName: 'Megan Bowen' }, 'new');
    assert.equal(result.ok, true, 'queued');
    const outboxId = result.ok ? String(result.location.outboxId) : '';
    const queued = await store.outbox.get(outboxId);
    assert.equal(queued?.status, 'pending');
    assert.ok(Date.parse(queued!.notBefore) - before >= 1_000, 'not before Retry-After');
    assert.equal(await messenger.outbox.drain(10_000), true);
    assert.equal(calls, 3);
    const sent = await store.outbox.get(outboxId);
    assert.equal(sent?.status, 'sent');
    assert.equal(sent?.attempts, 3);
    assert.equal(sent?.result?.activityId, 'act-1');
  });

  it('sees errors thrown inside a proactive turn, although CloudAdapter hands them to onTurnError', async () => {
    await store.conversations.upsert(tenant, 'megan', reference('megan'), new Date());
    const turnErrors: unknown[] = [];
    // Like CloudAdapter: an error inside the logic goes to onTurnError and the call itself resolves.
    const swallowing = {
      continueConversationAsync: async (_appId: string, _ref: unknown, logic: (c: TurnContext) => Promise<void>) => {
        const context = {
          sendActivity: async () => Promise.reject(Object.assign(new Error('Forbidden'), { statusCode: 403 })),
        } as unknown as TurnContext;
        try {
          await logic(context);
        } catch (err) {
          turnErrors.push(err);
        }
      },
    } as unknown as CloudAdapter;
    const messenger = new TeamsMessenger(swallowing, store, '', silentLogger);
    const result = await messenger.sendApprovalCard(request, { id: 'megan', displayName: 'Megan Bowen' }, 'new');
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error, /403/);
    assert.equal(turnErrors.length, 0, 'the error never reached the turn error handler');
    assert.equal(await store.conversations.get(tenant, 'megan'), undefined, 'a 403 forgets the stale reference');
  });

  it('updates every delivered copy once and tells the requester', async () => {
    await store.conversations.upsert(tenant, 'adele', reference('adele'), new Date());
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const decided = approvedByMegan([
      {
        ownerId: 'megan',
        ownerName: 'Megan Bowen',
        status: 'sent',
        location: { reference: reference('megan'), activityId: 'm1' },
        error: null,
        at: '',
      },
      {
        ownerId: 'megan',
        ownerName: 'Megan Bowen',
        status: 'sent',
        location: { reference: reference('megan'), activityId: 'm1' },
        error: null,
        at: '',
      },
      { ownerId: 'alex', ownerName: 'Alex Wilber', status: 'unreachable', location: null, error: '403', at: '' },
    ]);
    await messenger.updateApprovalCards(decided);
    assert.equal(fake.updated.length, 1);
    assert.match(JSON.stringify(fake.updated[0].activity), /Approved by Megan Bowen/);
    assert.equal(await messenger.notifyRequester(decided, 'decided'), true);
    assert.match(JSON.stringify(fake.sent[0].activity), /Your access request was approved/);
  });

  it("updates two owners' cards that have the same activity id in different chats (Teams message ids are per chat, e.g. times in ms)", async () => {
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const decided = approvedByMegan(
      [
        {
          ownerId: 'megan',
          ownerName: 'Megan Bowen',
          status: 'sent',
          location: { reference: reference('megan'), activityId: '1796273055152' },
          error: null,
          at: '',
        },
        {
          ownerId: 'alex',
          ownerName: 'Alex Wilber',
          status: 'sent',
          location: { reference: reference('alex'), activityId: '1796273055152' },
          error: null,
          at: '',
        },
      ],
      { ownerIds: ['megan', 'alex'] },
    );
    await messenger.updateApprovalCards(decided);
    assert.deepEqual(fake.updated.map((u) => u.conversation).sort(), ['a:alex', 'a:megan']);
  });

  it('reports where an alert card went (chat or channel) and updates those cards in place with the new count', async () => {
    await store.conversations.upsert(tenant, 'patti', reference('patti'), new Date());
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const alert = blockedByAdele('sharing Contoso Wiki with a guest');
    const notice = { alert, event: 'problem' as const, blocks: 1, at: '2026-11-24T09:00:00.000Z' };
    const inChat = await messenger.sendToUser(tenant, 'patti', notice);
    const channel = {
      ...reference('channel'),
      conversation: { id: '19:admins@thread.tacv2', conversationType: 'channel', tenantId: tenant },
    };
    const inChannel = await messenger.sendToChannel(channel, notice);
    assert.equal(await messenger.sendToUser(tenant, 'lee', notice), null, 'no conversation with Lee');
    assert.equal(inChat?.activityId, 'act-1');
    assert.equal(inChannel?.activityId, 'act-2');
    assert.equal((inChannel?.reference as { conversation: { id: string } }).conversation.id, '19:admins@thread.tacv2');
    const later = { ...notice, blocks: 3, at: '2026-11-24T09:02:00.000Z' };
    assert.equal(await messenger.updateAlertCards([inChat!, inChannel!], later), 2);
    assert.deepEqual(
      fake.updated.map((u) => `${u.conversation}:${(u.activity as { id: string }).id}`),
      ['a:patti:act-1', '19:admins@thread.tacv2:act-2'],
    );
    assert.match(
      JSON.stringify(fake.updated[0].activity),
      /Blocked 3 times; last: Adele Vance while sharing Contoso Wiki with a guest, 2 minutes ago\./,
    );
  });

  it("writes an alert card in the admin's last known language and time zone, and keeps it in that language when it is updated", async () => {
    await store.conversations.upsert(
      tenant,
      'lidia',
      { ...reference('lidia'), locale: 'nl-NL', localTimezone: 'Europe/Amsterdam' },
      new Date(),
    );
    const fake = fakeAdapter();
    const messenger = new TeamsMessenger(fake.adapter, store, '', silentLogger);
    const alert = blockedByAdele({ key: 'admin:doing.sharing', params: { app: 'Contoso Wiki' } });
    const notice = { alert, event: 'problem' as const, blocks: 1, at: '2026-11-24T09:00:20.000Z' };
    const inChat = await messenger.sendToUser(tenant, 'lidia', notice);
    assert.match(JSON.stringify(fake.sent[0].activity), /Configuratieprobleem/);
    assert.match(
      JSON.stringify(fake.sent[0].activity),
      /1 keer geblokkeerd; laatst: Adele Vance bij het delen van Contoso Wiki met een gast, zojuist\./,
    );
    assert.equal(
      await messenger.updateAlertCards([inChat!], { ...notice, blocks: 2, at: '2026-11-24T11:00:00.000Z' }),
      1,
    );
    assert.match(
      JSON.stringify(fake.updated[0].activity),
      /2 keer geblokkeerd; laatst: Adele Vance bij het delen van Contoso Wiki met een gast, 2 uur geleden\./,
    );
  });
});
