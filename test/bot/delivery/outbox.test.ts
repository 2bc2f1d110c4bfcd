/**
 * The outbox against the Teams connector double with its limits on (src/simulator/teams; limits from
 * https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit, retryable statuses from
 * https://learn.microsoft.com/en-us/microsoftteams/platform/bots/build-conversational-capability, status codes):
 * bursts are paced, a 429's Retry-After is honoured, and the outbox is the only layer that retries.
 */
import { strict as assert } from 'node:assert';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { OutboxStore, Store } from '../../../src/store/store';
import type { AlertNotice } from '../../../src/domain/admin/alerts';
import { msg } from '../../../src/domain/shared/message';
import { alertNotice } from '../../support/alertNotice';
import { TENANT, installFor, messengerOn, person, startConnector, type Connector } from '../../support/teamsConnector';

const notice = (i: number): AlertNotice => alertNotice(i);

describe('outbox through the Teams connector double (limits on)', () => {
  let connector: Connector;
  let store: Store;
  beforeEach(async () => {
    connector = await startConnector();
    store = openSqliteStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
    await connector.close();
  });

  it('gap 3: a 429 is retried once, after its Retry-After, by the outbox alone (the SDK makes one HTTP attempt per outbox attempt)', async () => {
    const megan = person(1);
    await installFor(connector, store, [megan]);
    const messenger = messengerOn(connector, store);
    connector.double.failNext(429, 1, 'Throttled', 1);
    const before = Date.now();
    const location = await messenger.sendToUser(TENANT, megan, notice(1));
    assert.ok(location?.outboxId, 'queued after the 429');
    assert.equal(connector.double.stats().attempts, 1, 'no HTTP retry below the outbox');
    const queued = await store.outbox.get(String(location.outboxId));
    assert.ok(Date.parse(queued!.notBefore) - before >= 1_000, 'not before the Retry-After');
    assert.equal(await messenger.outbox.drain(10_000), true);
    assert.equal(connector.double.stats().attempts, 2);
    assert.equal(connector.double.messagesFor(megan).length, 1);
  });

  it('gap 3: 503 and 502 are retried, a 400 is not, and a 413 is given up (logged as a bug)', async () => {
    const [megan, adele, lee] = [person(1), person(2), person(3)];
    await installFor(connector, store, [megan, adele, lee]);
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (event: string) => errors.push(event),
      child() {
        return logger;
      },
    };
    const messenger = messengerOn(connector, store, { retryBaseMs: 10 }, logger as never);
    connector.double.failNext(503, 1);
    connector.double.failNext(502, 1);
    assert.ok(await messenger.sendToUser(TENANT, megan, notice(1)));
    assert.equal(await messenger.outbox.drain(10_000), true);
    assert.equal(connector.double.messagesFor(megan).length, 1);
    assert.equal(connector.double.stats().attempts, 3, 'one HTTP attempt per outbox attempt');
    connector.double.failNext(400, 1, 'BadArgument');
    assert.equal(await messenger.sendToUser(TENANT, adele, notice(2)), null, 'a 400 is final');
    assert.equal(connector.double.stats().attempts, 4);
    connector.double.limits({ maxBytes: 200 });
    assert.equal(await messenger.sendToUser(TENANT, lee, notice(3)), null);
    assert.equal(connector.double.stats().tooLarge, 1);
    assert.equal(connector.double.stats().attempts, 5);
    assert.deepEqual(errors, ['outbox.tooLarge']);
  });

  it('gap 5: a burst of 12 messages to one person is paced below 7/1 s and 8/2 s: no 429, each delivered once', async () => {
    const megan = person(1);
    await installFor(connector, store, [megan]);
    const messenger = messengerOn(connector, store);
    for (let i = 0; i < 12; i++)
      await messenger.sendToUserChat(TENANT, megan, { type: 'msg', msg: msg('common:cancelled') });
    assert.equal(await messenger.outbox.drain(20_000), true);
    const stats = connector.double.stats();
    assert.equal(stats.throttled, 0);
    assert.equal(stats.attempts, 12);
    assert.equal(connector.double.messagesFor(megan).length, 12);
  });

  it('gap 5: 10 admins alerted at once, 8 cards each (80 messages), are paced per chat and per tenant: no 429, none lost or doubled', async () => {
    const admins = Array.from({ length: 10 }, (_, i) => person(100 + i));
    await installFor(connector, store, admins);
    const messenger = messengerOn(connector, store);
    await Promise.all(
      admins.map(async (admin) => {
        for (let i = 0; i < 8; i++) await messenger.sendToUser(TENANT, admin, notice(i));
      }),
    );
    assert.equal(await messenger.outbox.drain(30_000), true);
    const stats = connector.double.stats();
    assert.equal(stats.throttled, 0);
    assert.equal(stats.attempts, 80);
    for (const admin of admins) assert.equal(connector.double.messagesFor(admin).length, 8, admin);
  });

  /** The store as a process that dies right after Teams accepted a message, before the outbox records it. */
  function diesAfterSending(real: Store): Store {
    const outbox = new Proxy(real.outbox, {
      get: (target, name: keyof OutboxStore) =>
        name === 'update'
          ? async () => Promise.reject(new Error('the process died'))
          : (target[name] as (...a: unknown[]) => unknown).bind(target),
    });
    return new Proxy(real, { get: (target, name: keyof Store) => (name === 'outbox' ? outbox : target[name]) });
  }

  it('a message Teams accepted just before the process died is sent once more after the restart: at most one extra copy', async () => {
    const megan = person(1);
    await installFor(connector, store, [megan]);
    const dying = messengerOn(connector, diesAfterSending(store), { instanceId: 'A', leaseMs: 300 });
    await assert.rejects(dying.sendToUser(TENANT, megan, notice(1)), /the process died/);
    assert.equal(connector.double.messagesFor(megan).length, 1, 'Teams has it');
    const restarted = messengerOn(connector, store, { instanceId: 'B', leaseMs: 300 });
    assert.equal(await restarted.outbox.drain(10_000), true);
    assert.equal(connector.double.messagesFor(megan).length, 2, 'sent again: its record never said it was sent');
    assert.equal(await restarted.outbox.drain(10_000), true);
    assert.equal(connector.double.messagesFor(megan).length, 2, 'one extra copy at most');
  });

  it('nothing is lost in a restart: a message still queued is sent by the next instance, once', async () => {
    const megan = person(1);
    await installFor(connector, store, [megan]);
    const first = messengerOn(connector, store, { instanceId: 'A', leaseMs: 300, retryBaseMs: 10 });
    connector.double.failNext(503, 1);
    const location = await first.sendToUserChat(TENANT, megan, { type: 'msg', msg: msg('common:cancelled') });
    assert.ok(location.ok && location.location.outboxId, 'queued for a retry when the process stops');
    const next = messengerOn(connector, store, { instanceId: 'B', leaseMs: 300 });
    assert.equal(await next.outbox.drain(10_000), true);
    assert.equal(connector.double.messagesFor(megan).length, 1);
    assert.equal((await store.outbox.get(String(location.ok && location.location.outboxId)))?.status, 'sent');
  });

  it('two owners: a card still queued gets its update once sent, every copy shows the decision, and the request learns where the card is', async () => {
    const [megan, alex, adele] = [person(1), person(2), person(3)];
    await installFor(connector, store, [megan, alex, adele]);
    const messenger = messengerOn(connector, store, { retryBaseMs: 10 });
    const created = await store.requests.create(
      {
        id: 'r1',
        tenantId: TENANT,
        requesterId: adele,
        requesterName: 'Adele Vance',
        appId: 'sp1',
        appName: 'Contoso Expenses',
        groupId: 'g1',
        groupName: 'Expenses Reviewers',
        justification: 'Audit',
        ownerIds: [megan, alex],
      },
      new Date(),
    );
    const owners = [
      { id: megan, displayName: 'Megan Bowen' },
      { id: alex, displayName: 'Alex Wilber' },
    ];
    connector.double.failNext(503, 1);
    const sent = [
      await messenger.sendApprovalCard(created, owners[0], 'new'),
      await messenger.sendApprovalCard(created, owners[1], 'new'),
    ];
    assert.ok(sent[0].ok && sent[0].location.outboxId, "Megan's card is queued after a 503");
    assert.ok(sent[1].ok && sent[1].location.activityId, "Alex's card went at once");
    const at = new Date().toISOString();
    const ownerCards = sent.map((s, i) => ({
      ownerId: owners[i].id,
      ownerName: owners[i].displayName,
      status: 'sent' as const,
      location: s.ok ? s.location : null,
      error: null,
      at,
    }));
    const withCards = await store.requests.update('r1', created.version, { ownerCards }, new Date());
    const approved = await store.requests.update(
      'r1',
      withCards.version,
      {
        state: 'approved',
        decidedBy: alex,
        decidedByName: 'Alex Wilber',
        decidedAt: at,
        outcome: { membership: 'added' },
      },
      new Date(),
    );
    await messenger.updateApprovalCards(approved);
    assert.equal(await messenger.outbox.drain(10_000), true);
    for (const owner of [megan, alex]) {
      const cards = connector.double.messagesFor(owner);
      assert.equal(cards.length, 1, owner);
      assert.match(JSON.stringify(cards[0].attachments), /Approved by Alex Wilber/, owner);
    }
    const located = (await store.requests.get('r1'))!.ownerCards.find((c) => c.ownerId === megan);
    assert.equal(typeof located?.location?.activityId, 'string', "the queued card's place is recorded on the request");
  });
});
