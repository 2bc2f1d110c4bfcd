/**
 * Several instances, one bot: two bot processes (node dist/src/index.js) on one PostgreSQL database (the test
 * cluster, or DATABASE_URL's server), one Graph tenant simulator (in this process), and a round-robin HTTP proxy
 * in front of the two, as a load balancer is in front of App Service instances. One Microsoft 365 Agents
 * Playground (as Megan Bowen) talks to the proxy through its HTTP API, so her turns alternate between instances.
 *
 * - The start-up setup scan runs on one instance only: each problem is recorded (and alerted) once.
 * - Megan's invite dialog, every turn on the other instance than the one before, completes.
 * - Two owners (Megan Bowen and Alex Wilber, each with a Playground of their own in front of the proxy) approve
 *   Adele Vance's request at the same moment, one on each instance, while the simulator holds the membership
 *   write: Graph gets one membership write, both approval cards end in the same final state (approved, by the
 *   same owner, Adele added), and Adele is told once.
 * - An instance SIGKILLed while its membership write is held by the simulator: the other instance resumes the
 *   operation once its lease expires, adds the guest once, and updates Megan's card in place.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDemoSeed, startSimulator, type RequestLogEntry, type RunningSimulator } from '../../src/simulator';
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { createDatabase, dropDatabase } from '../support/postgres';
import {
  DEMO_TENANT_ID,
  DEMO_USERS,
  PlaygroundApi,
  cardActions,
  cardOf,
  messageContains,
  messageStrings,
  personalChatId,
  startBot,
  startPlayground,
  writePlaygroundConfig,
  type BotProcess,
  type DemoUser,
  type RunningPlayground,
  type StreamMessage,
} from './support';
import { killGroup, waitUntil } from './support/crash';
import { startRoundRobin, type RoundRobin } from './support/roundRobin';

const { megan, alex, adele } = DEMO_USERS;
const EXPENSES_APP = 'Contoso Expenses';
const EXPENSES_REVIEWERS = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01';
const MEMBERSHIP_WRITE = `/v1.0/groups/${EXPENSES_REVIEWERS}/members/$ref`;

const pathOf = (entry: RequestLogEntry): string => entry.url.split('?')[0]!;
const invitationsFor = (entries: RequestLogEntry[], email: string): RequestLogEntry[] =>
  entries.filter(
    (e) =>
      e.method === 'POST' &&
      pathOf(e) === '/v1.0/invitations' &&
      JSON.stringify(e.requestBody ?? '')
        .toLowerCase()
        .includes(email),
  );
const membershipWrites = (entries: RequestLogEntry[]): RequestLogEntry[] =>
  entries.filter((e) => e.method === 'POST' && pathOf(e) === MEMBERSHIP_WRITE);

const hasSubmit = (message: StreamMessage, title: string): boolean => {
  const card = cardOf(message);
  return !!card && cardActions(card).some((a) => a.type === 'Action.Submit' && a.title === title);
};

/** The value of the choice titled `title` anywhere in the card. */
function choiceValue(message: StreamMessage, title: string): string {
  const text = JSON.stringify(cardOf(message));
  const match =
    new RegExp(`"title":"${title}","value":"([^"]+)"`).exec(text) ??
    new RegExp(`"value":"([^"]+)","title":"${title}"`).exec(text);
  assert.ok(match, `the card offers '${title}': ${text}`);
  return match[1]!;
}

/** The next bot message (after `since`, in `conversationId`) whose card has an Action.Submit titled `title`. */
async function botCard(
  playground: PlaygroundApi,
  conversationId: string,
  title: string,
  since: number,
): Promise<StreamMessage> {
  const found = await playground.waitForMessage(
    (e) => e.message.from.id !== playground.config.currentUser.id && hasSubmit(e.message, title),
    {
      since,
      conversationId,
      timeoutMs: 20_000,
    },
  );
  return found.message;
}

describe('Several instances on one PostgreSQL database serve one bot @e2e', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-invite-multi-e2e-'));
  const chat = personalChatId(megan);
  let databaseUrl = '';
  let simulator: RunningSimulator;
  let bots: BotProcess[] = [];
  let proxy: RoundRobin;
  let playground: RunningPlayground | undefined;
  /** The Playgrounds of the other people (started by the tests that need them). */
  const others: RunningPlayground[] = [];
  const otherApis: PlaygroundApi[] = [];
  let api: PlaygroundApi;
  let store: Store;

  before(async function () {
    this.timeout(120_000);
    databaseUrl = await createDatabase('multi_instance');
    simulator = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true });
    const env = {
      DATABASE_URL: databaseUrl,
      STORE_PATH: path.join(tmp, 'must-not-exist', 'bot.sqlite'),
      OPERATION_LEASE: '2s',
      OPERATION_RESUME_INTERVAL: '1s',
      SETUP_SCAN_INTERVAL: '1h',
    };
    // started together, as instances of a scaled-out app are: they migrate the empty database at the same time
    bots = await Promise.all(
      [0, 1].map(() => startBot({ graphBaseUrl: simulator.graphBaseUrl, storePath: env.STORE_PATH, env })),
    );
    proxy = await startRoundRobin(bots.map((b) => `http://127.0.0.1:${b.port}`));
    playground = await startPlayground({
      botEndpoint: `${proxy.url}/api/messages`,
      configPath: writePlaygroundConfig('megan', tmp),
      logFile: path.join(tmp, 'playground.log'),
    });
    api = await PlaygroundApi.connect(playground.url);
    store = await openPostgresStore(databaseUrl, { poolSize: 2 });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      bots.forEach((bot, i) => {
        console.error(`  --- bot ${i} (last 60 lines) ---`);
        for (const line of bot.process.recentOutput().slice(-60)) console.error(`  ${line}`);
      });
    }
  });

  after(async function () {
    this.timeout(30_000);
    api?.close();
    otherApis.forEach((other) => other.close());
    await Promise.all([playground, ...others].map((p) => p?.stop().catch(() => undefined)));
    await Promise.all(bots.map((b) => b.stop().catch(() => undefined)));
    await proxy?.close();
    await store?.close();
    await simulator?.close().catch(() => undefined);
    if (databaseUrl) await dropDatabase(databaseUrl).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the start-up setup scan on one instance: each problem is recorded and alerted once', async () => {
    const scanned = await Promise.race(bots.map((b) => b.log.waitFor('setup.scanned', { timeoutMs: 20_000 })));
    assert.ok(Number(scanned.problems) > 0, `the demo tenant has setup problems: ${JSON.stringify(scanned)}`);
    // both instances' first scan is due 2 s after their start; give the other one time to (not) run it
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const scans = bots.map((b) => b.log.events('setup.scanned').length);
    assert.deepEqual([...scans].sort(), [0, 1], `one instance scanned: ${JSON.stringify(scans)}`);
    const alerts = await store.alerts.list(DEMO_TENANT_ID, ['open'], 100);
    assert.equal(alerts.length, Number(scanned.problems));
    assert.deepEqual(
      alerts.filter((a) => a.count !== 1).map((a) => `${a.key}: ${a.count}`),
      [],
      'each problem was recorded once',
    );
    assert.equal(fs.existsSync(path.join(tmp, 'must-not-exist')), false, 'nothing is kept in local files');
  });

  /** Walks Megan's invite dialog to the confirmation card; each turn goes to the next instance. */
  async function walkToConfirmation(email: string): Promise<StreamMessage> {
    const card = (title: string, since: number): Promise<StreamMessage> => botCard(api, chat, title, since);
    let since = api.mark();
    await api.sendMessage('invite guest', chat);
    const appCard = await card('Next', since);
    since = api.mark();
    await api.submitCard(appCard, 'Next', { appId: choiceValue(appCard, EXPENSES_APP) }, chat);
    const details = await card('Review', since);
    since = api.mark();
    await api.submitCard(details, 'Review', { email, message: 'Welcome.' }, chat);
    return card('Send invitation', since);
  }

  it('completes the invite dialog while its turns alternate between the instances', async () => {
    const email = 'multi.one@adatum.com';
    const first = proxy.served.length;
    const confirm = await walkToConfirmation(email);
    const since = api.mark();
    await api.submitCard(confirm, 'Send invitation', {}, chat);
    const outcome = await api.waitForMessage(
      (e) =>
        e.action === 'updateMessage' &&
        e.message.messageId === confirm.messageId &&
        messageContains(e.message, 'Guest invited'),
      {
        since,
        timeoutMs: 20_000,
      },
    );
    assert.deepEqual(cardActions(cardOf(outcome.message)!), []);
    const turns = proxy.served.slice(first);
    assert.ok(turns.length >= 4, `four turns at least: ${JSON.stringify(turns)}`);
    for (let i = 1; i < turns.length; i++)
      assert.notEqual(turns[i], turns[i - 1], `turns alternate: ${JSON.stringify(turns)}`);
    assert.equal(invitationsFor(simulator.requests(), email).length, 1);
  });

  /** Starts a Playground as `who` in front of the proxy and connects to it. */
  async function openPlaygroundAs(who: 'alex' | 'adele'): Promise<PlaygroundApi> {
    const started = await startPlayground({
      botEndpoint: `${proxy.url}/api/messages`,
      configPath: writePlaygroundConfig(who, tmp),
      logFile: path.join(tmp, `playground-${who}.log`),
    });
    others.push(started);
    const connected = await PlaygroundApi.connect(started.url);
    otherApis.push(connected);
    return connected;
  }

  /** `person` says hello in their chat; the bot answers and keeps their conversation reference (their Playground). */
  async function sayHello(playground: PlaygroundApi, person: DemoUser): Promise<void> {
    const conversationId = personalChatId(person);
    const since = playground.mark();
    await playground.sendMessage('help', conversationId);
    await playground.waitForMessage((e) => e.message.from.id !== playground.config.currentUser.id, {
      since,
      conversationId,
      timeoutMs: 20_000,
    });
    const reference = await waitUntil(
      `${person.name}'s conversation reference`,
      () => store.conversations.get(DEMO_TENANT_ID, person.aadObjectId),
      { timeoutMs: 10_000 },
    );
    assert.equal(
      new URL(String(reference.serviceUrl)).port,
      new URL(playground.baseUrl).port,
      `${person.name}'s reference points at their own Playground`,
    );
  }

  it('two owners approving the same request at the same moment on different instances: one membership write, both cards end in the same final state', async () => {
    const owners = [
      { person: megan, playground: api },
      { person: alex, playground: await openPlaygroundAs('alex') },
    ];
    const adeleApi = await openPlaygroundAs('adele');
    const adeleChat = personalChatId(adele);
    for (const { person, playground: p } of [...owners, { person: adele, playground: adeleApi }])
      await sayHello(p, person);

    // Adele asks for Contoso Expenses; each owner gets the approval card in their own chat
    const ownerStarts = owners.map((o) => o.playground.mark());
    let since = adeleApi.mark();
    await adeleApi.sendMessage('request access', adeleChat);
    const appCard = await botCard(adeleApi, adeleChat, 'Next', since);
    since = adeleApi.mark();
    await adeleApi.submitCard(appCard, 'Next', { appId: choiceValue(appCard, EXPENSES_APP) }, adeleChat);
    const reasonCard = await botCard(adeleApi, adeleChat, 'Review', since);
    since = adeleApi.mark();
    await adeleApi.submitCard(
      reasonCard,
      'Review',
      { justification: 'Quarterly audit of partner expenses' },
      adeleChat,
    );
    const confirm = await botCard(adeleApi, adeleChat, 'Send request', since);
    since = adeleApi.mark();
    await adeleApi.submitCard(confirm, 'Send request', {}, adeleChat);
    const sent = await adeleApi.waitForMessage(
      (e) => e.message.from.id !== adeleApi.config.currentUser.id && messageContains(e.message, 'Request sent'),
      { since, timeoutMs: 30_000 },
    );
    for (const { person } of owners)
      assert.ok(messageContains(sent.message, person.name), `'Request sent' names ${person.name} as a decider`);
    const adeleStart = adeleApi.mark();
    const cards = await Promise.all(
      owners.map(async ({ person, playground: p }, i) => {
        const event = await p.waitForMessage(
          (e) =>
            e.action === 'createMessage' &&
            messageContains(e.message, 'Adele Vance') &&
            cardActions(cardOf(e.message)!).some((a) => a.type === 'Action.Execute' && a.title === 'Approve'),
          {
            since: ownerStarts[i],
            conversationId: personalChatId(person),
            timeoutMs: 20_000,
          },
        );
        return event.message;
      }),
    );

    // Graph is slow to add the member, so the second decision comes while the first one's write is still going on
    simulator.setFaults({ rules: [{ method: 'POST', path: '/groups/*/members/$ref', latencyMs: 4_000 }] });
    const logStart = simulator.requests().length;
    const dispatched = proxy.served.length;
    const botMarks = bots.map((b) => b.log.mark());
    const answers = await Promise.all(
      owners.map(async ({ person, playground: p }, i) => {
        const answer = await p.executeCard(cards[i]!, 'Approve', {}, personalChatId(person));
        return { answer, at: p.mark() };
      }),
    );
    assert.deepEqual(
      [...proxy.served.slice(dispatched)].sort(),
      [0, 1],
      `the two clicks went to different instances: ${JSON.stringify(proxy.served.slice(dispatched))}`,
    );
    for (const { answer } of answers) assert.equal(answer.type, 'application/vnd.microsoft.card.adaptive');

    // each owner's card ends approved, Adele added, with no buttons: the last update of each card after its click's
    // answer
    const finalText =
      /Approved by (Megan Bowen|Alex Wilber) on .*Adele Vance was added to Expenses External Reviewers\./;
    const finals = await Promise.all(
      owners.map(({ person, playground: p }, i) =>
        p.waitForMessage(
          (e) =>
            e.action === 'updateMessage' &&
            e.message.messageId === cards[i]!.messageId &&
            messageContains(e.message, finalText),
          {
            since: answers[i]!.at,
            conversationId: personalChatId(person),
            timeoutMs: 30_000,
          },
        ),
      ),
    );
    const told = await adeleApi.waitForText('Your access request was approved', {
      since: adeleStart,
      conversationId: adeleChat,
      timeoutMs: 20_000,
    });
    simulator.setFaults(null);
    // the work each instance carried on after answering its click has ended: nothing more is coming
    await waitUntil(
      'both instances to finish the work they deferred',
      () =>
        bots.every(
          (b, i) =>
            b.log.events('work.finished', botMarks[i]).length >= b.log.events('work.deferred', botMarks[i]).length,
        ),
      { timeoutMs: 30_000 },
    );

    // each instance answered its click with "working on it" and went on: the two decisions were under way together
    const deferred = bots.map(
      (b, i) => b.log.events('work.deferred', botMarks[i]).filter((l) => l.what === 'request.approve').length,
    );
    assert.deepEqual(
      deferred,
      [1, 1],
      `each instance carried a decision on after answering: ${JSON.stringify(deferred)}`,
    );
    const approver = finals.map((f) => finalText.exec(messageStrings(f.message).find((s) => finalText.test(s))!)![1]);
    assert.equal(approver[0], approver[1], `both cards name the same approver: ${JSON.stringify(approver)}`);
    owners.forEach(({ person, playground: p }, i) => {
      const updates = p.messagesSince(
        (e) => e.action === 'updateMessage' && e.message.messageId === cards[i]!.messageId,
        { since: answers[i]!.at },
      );
      const last = updates.at(-1)!;
      assert.ok(
        messageContains(last.message, finalText),
        `${person.name}'s card ends in the final state: ${JSON.stringify(cardOf(last.message))}`,
      );
      assert.ok(
        messageContains(last.message, `Approved by ${approver[0]}`),
        `${person.name}'s card names ${approver[0]}`,
      );
      assert.deepEqual(cardActions(cardOf(last.message)!), [], `${person.name}'s card has no buttons left`);
    });
    const decided = (await store.requests.get(
      String(cardActions(cardOf(cards[0]!)!).find((a) => a.title === 'Approve')!.data!.requestId),
    ))!;
    assert.equal(decided.state, 'approved');
    assert.equal(decided.decidedByName, approver[0]);

    const writes = membershipWrites(simulator.requests().slice(logStart));
    assert.equal(
      writes.length,
      1,
      `one membership write: ${JSON.stringify(writes.map((e) => ({ status: e.status, body: e.requestBody })))}`,
    );
    assert.equal(writes[0]!.status, 204);
    assert.ok(JSON.stringify(writes[0]!.requestBody).includes(adele.aadObjectId), 'the member added is Adele');
    const notices = adeleApi.messagesSince((e) => messageContains(e.message, 'Your access request was approved'), {
      since: adeleStart,
      conversationId: adeleChat,
    });
    assert.deepEqual(
      notices.map((e) => e.action),
      ['createMessage'],
      'Adele is told once',
    );
    assert.ok(messageContains(told.message, `Approved by ${approver[0]}`));
  });

  it('an instance killed while its membership write is held is finished by the other once the lease expires', async () => {
    const email = 'multi.two@adatum.com';
    simulator.setFaults({ rules: [{ method: 'POST', path: '/groups/*/members/$ref', latencyMs: 8_000 }] });
    const logStart = simulator.requests().length;
    const confirm = await walkToConfirmation(email);
    const since = api.mark();
    const dispatched = proxy.served.length;
    void api.submitCard(confirm, 'Send invitation', {}, chat).catch(() => undefined);
    await waitUntil(
      'the membership write held by the simulator',
      () => (simulator.faultStats().rules[0]?.matched ?? 0) >= 1,
      { timeoutMs: 20_000 },
    );
    const writer = proxy.served[dispatched]!;
    const survivor = 1 - writer;
    const exit = await killGroup(bots[writer]!.process, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    simulator.setFaults(null);

    const outcome = await api.waitForMessage(
      (e) =>
        e.action === 'updateMessage' &&
        e.message.messageId === confirm.messageId &&
        messageContains(e.message, 'Guest invited'),
      {
        since,
        timeoutMs: 30_000,
      },
    );
    assert.ok(messageContains(outcome.message, email));
    const resumed = await bots[survivor]!.log.waitFor('invite.resumed', { timeoutMs: 10_000 });
    assert.equal(resumed.outcome, 'done');
    await waitUntil(
      "the killed instance's held write to be answered",
      () => membershipWrites(simulator.requests().slice(logStart)).filter((e) => e.injectedLatencyMs).length >= 1,
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(invitationsFor(simulator.requests(), email).length, 1, 'invited once');
    const members = await fetch(`${simulator.graphBaseUrl}/groups/${EXPENSES_REVIEWERS}/members?$select=id,mail`, {
      headers: { Authorization: 'Bearer t' },
    });
    const page = (await members.json()) as { value: Array<{ mail?: string | null }> };
    assert.equal(page.value.filter((m) => m.mail?.toLowerCase() === email).length, 1, 'a member once');
  });
});
