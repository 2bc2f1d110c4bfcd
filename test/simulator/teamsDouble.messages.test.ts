/**
 * The Teams double: messages, updates, deletes and the serviceUrl.
 * Sources: ../shared/teams/proactive-delivery.md §5 and §7.10, §7.11, §7.16 (each test names its rule).
 */
import { strict as assert } from 'node:assert';
import { ConnectorClient, MicrosoftAppCredentials } from 'botframework-connector';
import { MEGAN, call, card, message, openChat, startFixture, stopFixture, type Fixture } from './teamsHelpers';

const activities = (conversationId: string): string =>
  `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

describe('Teams double: messages, updates and deletes', () => {
  let f: Fixture | undefined;
  const fx = (): Fixture => f as Fixture;
  beforeEach(async () => {
    f = await startFixture();
    f.double.limits({ rate: false });
  });
  afterEach(async () => {
    await stopFixture(f);
    f = undefined;
  });

  it('answers ids that look like millisecond timestamps, unique within the conversation (§7.11, doc examples)', async () => {
    const chat = await openChat(fx());
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1)
      ids.push((await call(fx().double, 'POST', activities(chat), message(`m${i}`))).body.id ?? '');
    assert.equal(ids[0], String(fx().clock.ms));
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(id, /^\d{13}$/);
  });

  it('delivers text with attachments as two messages and answers no usable id (§5 conversation-messages, §7.10)', async () => {
    const chat = await openChat(fx());
    const both = { ...card('Approve?'), text: 'A request for you' };
    const reply = await call(fx().double, 'POST', activities(chat), both);
    assert.equal(reply.status, 201);
    assert.equal(reply.body.id, undefined);
    const seen = fx().double.messagesFor(MEGAN);
    assert.equal(seen.length, 2);
    assert.deepEqual(
      seen.map((m) => [m.text, m.attachments.length, m.idReturned]),
      [
        ['A request for you', 0, false],
        [undefined, 1, false],
      ],
    );
  });

  it('shows the updated card in place of the old one; an unknown id answers 404 ActivityNotFoundInConversation (§5 update-and-delete-bot-messages, msteams-docs#6139; §7.11)', async () => {
    const chat = await openChat(fx());
    const sent = await call(fx().double, 'POST', activities(chat), card('Pending'));
    const updated = await call(fx().double, 'PUT', `${activities(chat)}/${sent.body.id}`, card('Approved'));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.id, sent.body.id);
    const seen = fx().double.messagesFor(MEGAN);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].updates, 1);
    assert.match(JSON.stringify(seen[0].attachments), /Approved/);
    const unknown = await call(fx().double, 'PUT', `${activities(chat)}/1234567890123`, card('x'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, {
      error: { code: 'ActivityNotFoundInConversation', message: 'Message does not exist in the thread.' },
    });
  });

  it('hides a deleted message; updating it then answers 403 ServiceError "Unknown" (§5, BotFramework-Services#269; §7.11)', async () => {
    const chat = await openChat(fx());
    const sent = await call(fx().double, 'POST', activities(chat), card('Pending'));
    await call(fx().double, 'POST', activities(chat), message('keep'));
    const deleted = await call(fx().double, 'DELETE', `${activities(chat)}/${sent.body.id}`);
    assert.equal(deleted.status, 200);
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['keep'],
    );
    const late = await call(fx().double, 'PUT', `${activities(chat)}/${sent.body.id}`, card('Approved'));
    assert.equal(late.status, 403);
    assert.deepEqual(late.body, { error: { code: 'ServiceError', message: 'Unknown' } });
  });

  it('serves the routes botframework-connector calls: create, send, reply, update, delete (§7; ConversationsOperations paths)', async () => {
    await fx().double.install(MEGAN);
    const client = new ConnectorClient(new MicrosoftAppCredentials('', ''), { baseUri: fx().double.serviceUrl });
    const created = await client.conversations.createConversation({
      isGroup: false,
      bot: { id: `28:${fx().double.botAppId}`, name: '' },
      members: [{ id: MEGAN, name: '' }],
      tenantId: fx().double.tenant,
      channelData: { tenant: { id: fx().double.tenant } },
      activity: undefined as never,
    });
    assert.equal(created.id, fx().double.conversationIdFor(MEGAN));
    const sent = await client.conversations.sendToConversation(created.id, { type: 'message', text: 'one' });
    const reply = await client.conversations.replyToActivity(created.id, sent.id, { type: 'message', text: 'two' });
    await client.conversations.updateActivity(created.id, sent.id, { type: 'message', text: 'one, edited' });
    await client.conversations.deleteActivity(created.id, reply.id);
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['one, edited'],
    );
    assert.deepEqual(
      fx()
        .double.attempts()
        .map((a) => `${a.operation} ${a.status}`),
      ['createConversation 201', 'send 201', 'send 201', 'update 200', 'delete 200'],
    );
  });

  it('moves to a new serviceUrl for later activities; a retired one answers 404 (§7.16)', async () => {
    await fx().double.install(MEGAN);
    const first = fx().double.serviceUrl;
    const second = fx().double.rotateServiceUrl({ retireOld: true });
    assert.notEqual(second, first);
    await fx().double.sendFromUser(MEGAN, { text: 'hi' });
    assert.equal(fx().bot.ofType('message')[0].serviceUrl, second);
    const old = await fetch(`${first}v3/conversations`, { method: 'POST', body: '{}' });
    assert.equal(old.status, 404);
    const chat = fx().double.conversationIdFor(MEGAN);
    assert.equal((await call(fx().double, 'POST', activities(chat), message('via the new one'))).status, 201);
    assert.equal(fx().double.attempts().at(-1)?.serviceUrl, second);
  });
});
