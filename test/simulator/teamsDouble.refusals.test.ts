/**
 * The Teams double: conversations the bot may not write into.
 * Sources: ../shared/teams/proactive-delivery.md §3 and §7.3, §7.4, §7.5 (each test names its rule).
 */
import { strict as assert } from 'node:assert';
import { MEGAN, call, createParams, message, openChat, startFixture, stopFixture, type Fixture } from './teamsHelpers';

const activities = (conversationId: string): string =>
  `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

describe('Teams double: refusals on a conversation', () => {
  let f: Fixture | undefined;
  const fx = (): Fixture => f as Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await stopFixture(f);
    f = undefined;
  });

  it('answers 404 ConversationNotFound for an unknown conversation (§3 [STATUS], §7.3)', async () => {
    const reply = await call(fx().double, 'POST', activities('a:unknown'), message('hi'));
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.body, { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } });
  });

  it('answers 403 BotNotInConversationRoster for a chat the bot is not in (§1 [STATUS], bot-docs#1527; §7.3)', async () => {
    fx().double.addGroupChat('19:group@thread.v2', { botInRoster: false });
    const reply = await call(fx().double, 'POST', activities('19:group@thread.v2'), message('hi'));
    assert.equal(reply.status, 403);
    assert.deepEqual(reply.body, {
      error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' },
    });
  });

  it('answers 403 ConversationBlockedByUser once the person blocked the bot, until they write again (§3 [STATUS], §7.4)', async () => {
    const chat = await openChat(fx());
    fx().double.block(MEGAN);
    const blocked = await call(fx().double, 'POST', activities(chat), message('hi'));
    assert.equal(blocked.status, 403);
    assert.deepEqual(blocked.body, {
      error: { code: 'ConversationBlockedByUser', message: 'User blocked the conversation with the bot.' },
    });
    await fx().double.sendFromUser(MEGAN, { text: 'hello again' });
    const after = await call(fx().double, 'POST', activities(chat), message('hi'));
    assert.equal(after.status, 201);
  });

  it('answers 403 BotDisabledByAdmin to creates and sends when the tenant admin disabled the bot (§3 [STATUS], §7.4)', async () => {
    const chat = await openChat(fx());
    fx().double.disableBot();
    const sent = await call(fx().double, 'POST', activities(chat), message('hi'));
    const created = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    for (const reply of [sent, created]) {
      assert.equal(reply.status, 403);
      assert.deepEqual(reply.body, {
        error: { code: 'BotDisabledByAdmin', message: 'The tenant admin disabled this bot' },
      });
    }
    fx().double.disableBot(false);
    assert.equal((await call(fx().double, 'POST', activities(chat), message('hi'))).status, 201);
  });

  it('posts installationUpdate remove without membersRemoved on uninstall, then refuses sends with BotNotInConversationRoster (§3 [EVENTS], #228; §7.5)', async () => {
    const chat = await openChat(fx());
    await fx().double.uninstall(MEGAN);
    const events = fx().bot.received.slice(2);
    assert.deepEqual(
      events.map((a) => [a.type, a.action]),
      [['installationUpdate', 'remove']],
    );
    assert.equal(events[0].membersRemoved, undefined);
    const sent = await call(fx().double, 'POST', activities(chat), message('hi'));
    assert.equal(sent.status, 403);
    assert.equal(sent.body.error?.code, 'BotNotInConversationRoster');
    const created = await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN));
    assert.equal(created.status, 403);
    assert.equal(created.body.error?.code, 'ForbiddenOperationException');
  });

  it('can refuse sends after uninstall in the documented errorCode 209 MessageWritesBlocked form (§3 [PROACT], §7.5)', async () => {
    const chat = await openChat(fx());
    fx().double.configure({ uninstalledForm: 'MessageWritesBlocked' });
    await fx().double.uninstall(MEGAN);
    const sent = await call(fx().double, 'POST', activities(chat), message('hi'));
    assert.equal(sent.status, 403);
    assert.equal(sent.body.errorCode, 209);
    const inner = JSON.parse(String(sent.body.message)) as { subCode: string; details: string };
    assert.equal(inner.subCode, 'MessageWritesBlocked');
    assert.equal(inner.details, 'Thread is blocked from message writes.');
  });

  it('in leaky mode still delivers to a saved chat after uninstall (§3, BotBuilder-MicrosoftTeams#286; §7.5)', async () => {
    const chat = await openChat(fx());
    fx().double.configure({ leaky: true });
    await fx().double.uninstall(MEGAN);
    const sent = await call(fx().double, 'POST', activities(chat), message('still here'));
    assert.equal(sent.status, 201);
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['still here'],
    );
  });

  it('can follow a remove with an add, leaving the person reachable (§3, botframework-sdk#6604; §7.5)', async () => {
    const chat = await openChat(fx());
    fx().double.events.addAfterRemove = true;
    await fx().double.uninstall(MEGAN);
    assert.deepEqual(
      fx()
        .bot.ofType('installationUpdate')
        .map((a) => a.action),
      ['add', 'remove', 'add'],
    );
    assert.equal((await call(fx().double, 'POST', activities(chat), message('hi'))).status, 201);
  });

  it('answers 403 InvalidBotApiHost to every call for a GCC tenant reached on the public host (§3 [STATUS], §7.4)', async () => {
    const chat = await openChat(fx());
    fx().double.configure({ gccTenant: true });
    for (const reply of [
      await call(fx().double, 'POST', activities(chat), message('hi')),
      await call(fx().double, 'POST', '/v3/conversations', createParams(MEGAN)),
    ]) {
      assert.equal(reply.status, 403);
      assert.equal(reply.body.error?.code, 'InvalidBotApiHost');
    }
  });
});
