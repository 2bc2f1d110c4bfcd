/**
 * The Teams double: reaching people, installs and their events.
 * Sources: ../shared/teams/proactive-delivery.md §1 and §7.1, §7.2, §7.6 (each test names its rule).
 */
import { strict as assert } from 'node:assert';
import {
  ADELE,
  MEGAN,
  call,
  createParams,
  message,
  openChat,
  startFixture,
  stopFixture,
  type Fixture,
} from './teamsHelpers';

describe('Teams double: installs and createConversation', () => {
  let f: Fixture | undefined;
  const fx = (): Fixture => f as Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await stopFixture(f);
    f = undefined;
  });

  it('answers 403 ForbiddenOperationException to createConversation for someone who never installed the app (§1 [STATUS], §7.1)', async () => {
    const reply = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.body, {
      error: { code: 'ForbiddenOperationException', message: "Bot isn't installed in user's personal scope" },
    });
  });

  it('can answer the same refusal with code BadArgument, as seen in the field (§1, §7.1 toggle)', async () => {
    fx().double.configure({ notInstalledCode: 'BadArgument' });
    const reply = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error?.code, 'BadArgument');
    assert.equal(reply.body.error?.message, "Bot is not installed in user's personal scope");
  });

  it('opens the 1:1 chat once installed: 201 with an a: id, the same every time, by Entra id or 29: id (§1 [PROACT], §7.1)', async () => {
    await fx().double.install(MEGAN);
    const byAad = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    const again = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    const byTeamsId = await call(fx().double, 'POST', '/v3/conversations', createParams(fx().double.teamsIdFor(MEGAN)));
    assert.equal(byAad.status, 201);
    assert.match(byAad.body.id ?? '', /^a:/);
    assert.equal(again.body.id, byAad.body.id);
    assert.equal(byTeamsId.body.id, byAad.body.id);
    assert.match(fx().double.teamsIdFor(MEGAN), /^29:/);
    const other = await openChat(fx(), ADELE);
    assert.notEqual(other, byAad.body.id, 'one chat per person');
  });

  it('refuses a createConversation for another tenant (§7.1: installs are per tenant, user and bot)', async () => {
    await fx().double.install(MEGAN);
    const reply = await call(
      fx().double,
      'POST',
      '/v3/conversations',
      createParams(MEGAN, '11111111-2222-4333-8444-555555555555'),
    );
    assert.equal(reply.status, 403);
  });

  it('with a team-only install accepts the 29: id but not the Entra id, and sends answer ConversationBlockedByUser (§1 msteams-docs#10229, #11125; §7.2)', async () => {
    await fx().double.install(MEGAN, { scope: 'team' });
    const byAad = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    assert.equal(byAad.status, 403);
    const byTeamsId = await call(fx().double, 'POST', '/v3/conversations', createParams(fx().double.teamsIdFor(MEGAN)));
    assert.equal(byTeamsId.status, 201);
    const sent = await call(
      fx().double,
      'POST',
      `/v3/conversations/${encodeURIComponent(byTeamsId.body.id ?? '')}/activities`,
      message('hi'),
    );
    assert.equal(sent.status, 403);
    assert.equal(sent.body.error?.code, 'ConversationBlockedByUser');
    assert.equal(fx().double.messagesFor(MEGAN).length, 0);
  });

  it('accepts the Graph chat id 19:<aad>_<botAppId>@unq.gbl.spaces once installed, as the same chat (§1 [GINST], issue 16)', async () => {
    const graphId = encodeURIComponent(fx().double.graphChatIdFor(MEGAN));
    const before = await call(fx().double, 'POST', `/v3/conversations/${graphId}/activities`, message('early'));
    assert.equal(before.status, 404);
    assert.equal(before.body.error?.code, 'ConversationNotFound');
    await fx().double.install(MEGAN);
    const after = await call(fx().double, 'POST', `/v3/conversations/${graphId}/activities`, message('hello'));
    assert.equal(after.status, 201);
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['hello'],
    );
  });

  it('posts conversationUpdate (bot and person added) and installationUpdate add on install (§1 bots-notifications, [EVENTS]; §7.6)', async () => {
    await fx().double.install(MEGAN, { name: 'Megan Bowen' });
    const [update, install] = fx().bot.received;
    assert.equal(update.type, 'conversationUpdate');
    const added = update.membersAdded as Array<{ id: string; aadObjectId?: string }>;
    assert.deepEqual(
      added.map((m) => m.id),
      [`28:${fx().double.botAppId}`, fx().double.teamsIdFor(MEGAN)],
    );
    assert.equal(added[1].aadObjectId, MEGAN);
    const conversation = update.conversation as { id: string; conversationType: string; tenantId: string };
    assert.equal(conversation.conversationType, 'personal');
    assert.equal(conversation.id, fx().double.conversationIdFor(MEGAN));
    assert.deepEqual(update.channelData, { tenant: { id: fx().double.tenant } });
    assert.equal(update.serviceUrl, fx().double.serviceUrl);
    assert.equal(install.type, 'installationUpdate');
    assert.equal(install.action, 'add');
    assert.equal((install.from as { aadObjectId: string }).aadObjectId, MEGAN);
  });

  it('can duplicate install events (§1 caveats, msgraph-sdk-javascript#343; §7.6)', async () => {
    fx().double.events.duplicate = 1;
    await fx().double.install(MEGAN);
    assert.equal(fx().bot.ofType('conversationUpdate').length, 2);
    assert.equal(fx().bot.ofType('installationUpdate').length, 2);
  });

  it('can drop install events while the person is still reachable (§1 caveats, BotFramework-Services#169; §7.6)', async () => {
    fx().double.events.drop = 'all';
    await fx().double.install(MEGAN);
    assert.equal(fx().bot.received.length, 0);
    const created = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    assert.equal(created.status, 201);
  });

  it('can hold install events until released, and delay them (§1 caveats: install lands late; §7.6)', async () => {
    fx().double.events.hold = true;
    await fx().double.install(MEGAN);
    assert.equal(fx().bot.received.length, 0);
    await fx().double.releaseEvents();
    assert.deepEqual(
      fx().bot.received.map((a) => a.type),
      ['conversationUpdate', 'installationUpdate'],
    );
    fx().double.events.hold = false;
    fx().double.events.delayMs = 5;
    await fx().double.install(ADELE);
    assert.equal(fx().bot.received.length, 2, 'not yet posted');
    await fx().double.settleEvents();
    assert.equal(fx().bot.received.length, 4);
  });

  it('sends no events on a re-install when only the first install notifies (§1, BotBuilder-Samples#2599; §7.6)', async () => {
    fx().double.events.onlyFirstInstall = true;
    await fx().double.install(MEGAN);
    await fx().double.uninstall(MEGAN);
    await fx().double.install(MEGAN);
    assert.equal(fx().bot.ofType('conversationUpdate').length, 1);
    assert.deepEqual(
      fx()
        .bot.ofType('installationUpdate')
        .map((a) => a.action),
      ['add', 'remove'],
    );
  });

  it('posts what a person writes as a personal-chat message with tenant, serviceUrl and aadObjectId (§7.16)', async () => {
    await fx().double.install(MEGAN);
    const reply = await fx().double.sendFromUser(MEGAN, { text: 'help' });
    assert.equal(reply.status, 200);
    const written = fx().bot.ofType('message')[0];
    assert.equal(written.text, 'help');
    assert.equal((written.from as { aadObjectId: string }).aadObjectId, MEGAN);
    assert.equal((written.conversation as { conversationType: string }).conversationType, 'personal');
    assert.deepEqual(written.channelData, { tenant: { id: fx().double.tenant } });
    assert.equal(written.serviceUrl, fx().double.serviceUrl);
  });

  it('can refuse the Graph chat id as reported in the field: 400 or BotNotInConversationRoster (§1 caveats, msgraph-sdk-javascript#343, BotFramework-Services#344)', async () => {
    await fx().double.install(MEGAN);
    const graphId = encodeURIComponent(fx().double.graphChatIdFor(MEGAN));
    fx().double.configure({ graphChatIds: 'BadSyntax' });
    const bad = await call(fx().double, 'POST', `/v3/conversations/${graphId}/activities`, message('hello'));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.code, 'BadSyntax');
    fx().double.configure({ graphChatIds: 'BotNotInConversationRoster' });
    const roster = await call(fx().double, 'POST', `/v3/conversations/${graphId}/activities`, message('hello'));
    assert.equal(roster.body.error?.code, 'BotNotInConversationRoster');
    const direct = await call(
      fx().double,
      'POST',
      `/v3/conversations/${encodeURIComponent(fx().double.conversationIdFor(MEGAN))}/activities`,
      message('hi'),
    );
    assert.equal(direct.status, 201, 'the a: id still works');
  });

  it('answers 400 BadSyntax "Incorrect conversation creation parameters" to a create without member or tenant (bot-docs#1155)', async () => {
    await fx().double.install(MEGAN);
    const noTenant = await call(fx().double, 'POST', '/v3/conversations', { members: [{ id: MEGAN }] });
    const noMember = await call(fx().double, 'POST', '/v3/conversations', {
      members: [],
      tenantId: fx().double.tenant,
    });
    for (const reply of [noTenant, noMember]) {
      assert.equal(reply.status, 400);
      assert.deepEqual(reply.body, {
        error: { code: 'BadSyntax', message: 'Incorrect conversation creation parameters' },
      });
    }
  });
});
