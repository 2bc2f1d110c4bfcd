/**
 * An invitation the owner confirmed happens exactly once, even if the bot process dies halfway.
 *
 * The bot runs as its own process (node dist/src/index.js) on a temporary SQLite store with a short operation
 * lease; the Graph tenant simulator runs in this process and holds the membership write back (fault injection:
 * latency on POST /groups/{id}/members/$ref); one Microsoft 365 Agents Playground (as Megan Bowen) is driven
 * through its HTTP API and its conversation stream, no browser.
 *
 * Megan confirms an invitation; once Graph has answered the invitation (201) and the membership write is held
 * in the simulator, the bot's whole process group gets SIGKILL. The latency is removed and the bot is started
 * again on the same store and port: it must resume the record (without inviting again), add the guest once,
 * store the outcome and turn Megan's confirmation card into "Guest invited" in place.
 *
 * The killed process's membership write is still held in the simulator and lands later. Both orders are run:
 * 1. the bot is restarted at once, so the resumed run writes first and the late write answers "already exist";
 * 2. the bot is restarted only after the late write has landed, so the resumed run finds the guest in the group.
 *
 * A SIGTERM in the same situation is a graceful stop: new activities get 503, the turn in flight finishes the
 * invitation and updates the card, and the process exits 0 with nothing left to resume.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadDemoSeed,
  startSimulator,
  type FaultPlan,
  type RequestLogEntry,
  type RunningSimulator,
} from '../../src/simulator';
import { validateLog } from '../support/graphContract';
import {
  DEMO_TENANT_ID,
  DEMO_USERS,
  PlaygroundApi,
  cardActions,
  cardOf,
  freePort,
  messageContains,
  messageStrings,
  personalChatId,
  projectRoot,
  startPlayground,
  startProcess,
  waitForConversationReference,
  waitForHttp,
  writePlaygroundConfig,
  type ManagedProcess,
  type MessageEvent,
  type RunningPlayground,
  type StreamMessage,
} from './support';
import { killGroup, waitUntil } from './support/crash';
import { storedInvitations, type StoredOperation } from './support/operationStore';
import { isDirectoryWrite } from '../support/graphLog';

const EXPENSES_APP = 'Contoso Expenses';
const EXPENSES_REVIEWERS = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01';
const EXPENSES_REVIEWERS_NAME = 'Expenses External Reviewers';
const MEMBERSHIP_WRITE = `/v1.0/groups/${EXPENSES_REVIEWERS}/members/$ref`;
const WELCOME = 'Welcome to the expense reviews.';
const { megan } = DEMO_USERS;

interface BotLogLine {
  level?: string;
  event?: string;
  [field: string]: unknown;
}

/** One run of the bot process: its own output, kept whole for the failure report. */
interface BotRun {
  label: string;
  proc: ManagedProcess;
  lines: string[];
  log: BotLogLine[];
}

const pathOf = (entry: RequestLogEntry): string => entry.url.split('?')[0]!;

const delayMembershipWrite = (latencyMs: number): FaultPlan => ({
  rules: [{ method: 'POST', path: '/groups/*/members/$ref', latencyMs }],
});

/** The POST /invitations requests for this address. */
function invitationsFor(entries: RequestLogEntry[], email: string): RequestLogEntry[] {
  return entries.filter(
    (e) =>
      e.method === 'POST' &&
      pathOf(e) === '/v1.0/invitations' &&
      String(
        (e.requestBody as { invitedUserEmailAddress?: unknown } | undefined)?.invitedUserEmailAddress ?? '',
      ).toLowerCase() === email.toLowerCase(),
  );
}

/** The POST .../members/$ref requests of Expenses External Reviewers that add this user. */
function membershipWritesFor(entries: RequestLogEntry[], userId: string): RequestLogEntry[] {
  return entries.filter(
    (e) =>
      e.method === 'POST' && pathOf(e) === MEMBERSHIP_WRITE && JSON.stringify(e.requestBody ?? '').includes(userId),
  );
}

const alreadyExists = (entry: RequestLogEntry): boolean =>
  entry.status === 400 && /already exist/i.test(JSON.stringify(entry.responseBody ?? ''));

/** Members of Expenses External Reviewers with this mail, read through Graph with a bearer token, following paging. */
async function membersWithMail(
  graphBaseUrl: string,
  mail: string,
): Promise<Array<{ id: string; mail: string | null }>> {
  const found: Array<{ id: string; mail: string | null }> = [];
  let next: string | undefined = `${graphBaseUrl}/groups/${EXPENSES_REVIEWERS}/members?$select=id,mail`;
  while (next) {
    const res = await fetch(next, { headers: { Authorization: 'Bearer crash-test' } });
    assert.equal(res.status, 200, `GET ${next}`);
    const page = (await res.json()) as {
      value: Array<{ id: string; mail?: string | null }>;
      '@odata.nextLink'?: string;
    };
    found.push(
      ...page.value
        .filter((m) => m.mail?.toLowerCase() === mail.toLowerCase())
        .map((m) => ({ id: m.id, mail: m.mail ?? null })),
    );
    next = page['@odata.nextLink'];
  }
  return found;
}

const hasAction = (message: StreamMessage, title: string): boolean => {
  const card = cardOf(message);
  return !!card && cardActions(card).some((a) => a.type === 'Action.Submit' && a.title === title);
};

/** The value of the choice titled `title` in the card's Input.ChoiceSet `id`. */
function choiceValue(message: StreamMessage, id: string, title: string): string {
  let found: string | undefined;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as { type?: unknown; id?: unknown; choices?: Array<{ title?: unknown; value?: unknown }> };
      if (n.type === 'Input.ChoiceSet' && n.id === id) {
        const choice = n.choices?.find((c) => c.title === title);
        if (typeof choice?.value === 'string') found = choice.value;
      }
      Object.values(node).forEach(walk);
    }
  };
  walk(cardOf(message));
  assert.ok(found, `the card has a ChoiceSet '${id}' with a choice '${title}': ${JSON.stringify(cardOf(message))}`);
  return found;
}

const short = (e: MessageEvent): string =>
  `${e.action} ${e.message.messageId}: ${messageStrings(e.message).join(' | ').slice(0, 300)}`;

describe('An invitation confirmed once happens once, even when the bot is killed or stopped halfway @e2e', function () {
  this.timeout(120_000);
  const root = projectRoot();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-invite-crash-e2e-'));
  const storePath = path.join(tmp, 'bot.sqlite');
  const chat = personalChatId(megan);
  let simulator: RunningSimulator | undefined;
  let playground: RunningPlayground | undefined;
  let api: PlaygroundApi | undefined;
  let botPort = 0;
  const runs: BotRun[] = [];
  let setupFailed = false;

  /** The running bot process: the one the previous case left running, or a new run if that one is gone. */
  const runningBot = async (): Promise<BotRun> => {
    const last = runs[runs.length - 1];
    return last && !last.proc.hasExited() ? last : startBot(`bot, run ${runs.length + 1}`);
  };

  /** Starts the bot on the same port and store every time, with a 2 s lease and a resume pass every second. */
  async function startBot(label: string): Promise<BotRun> {
    const lines: string[] = [];
    const log: BotLogLine[] = [];
    const proc = startProcess(label, process.execPath, [path.join(root, 'dist', 'src', 'index.js')], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(botPort),
        GRAPH_BASE_URL: simulator!.graphBaseUrl,
        STORE_PATH: storePath,
        LOG_LEVEL: 'debug',
        OPERATION_LEASE: '2s',
        OPERATION_RESUME_INTERVAL: '1s',
      },
      keepLines: 1000,
      onLine: (line) => {
        lines.push(line);
        try {
          log.push(JSON.parse(line) as BotLogLine);
        } catch {
          // not a log record (e.g. a Node warning)
        }
      },
    });
    const run: BotRun = { label, proc, lines, log };
    runs.push(run);
    await waitForHttp(`http://127.0.0.1:${botPort}/healthz`, { timeoutMs: 30_000, process: proc });
    return run;
  }

  /** Index in `runs` of the first bot run the current case uses (the one it finds running). */
  let caseFirstRun = 0;

  function dumpFailure(): void {
    for (const run of runs.slice(caseFirstRun)) {
      const state = run.proc.hasExited() ? ' (exited)' : '';
      console.error(`  --- ${run.label}${state}: ${run.lines.length} lines (the last 120) ---`);
      for (const line of run.lines.slice(-120)) console.error(`  ${line}`);
    }
    if (playground) {
      console.error('  --- Playground (last 40 lines) ---');
      for (const line of playground.process.recentOutput().slice(-40)) console.error(`  ${line}`);
    }
    if (api) {
      console.error('  --- Playground stream (last 20 events) ---');
      for (const e of api.streamed().slice(-20)) console.error(`  ${JSON.stringify(e).slice(0, 400)}`);
    }
    if (simulator) {
      console.error('  --- simulator writes (by arrival; $batch envelopes left out) ---');
      const writes = simulator.requests().filter(isDirectoryWrite);
      for (const e of writes.sort((a, b) => a.time.localeCompare(b.time))) {
        console.error(
          `  ${e.time} ${e.method} ${e.url} -> ${e.status}${e.fault ? ` (${e.fault} ${e.injectedLatencyMs ?? ''})` : ''}`,
        );
      }
    }
  }

  /** Walks the invite dialog to the confirmation card for `email` (Contoso Expenses has one group: no group card). */
  async function walkToConfirmation(email: string): Promise<StreamMessage> {
    const pg = api!;
    const newCard = (title: string, since: number, what: string) =>
      pg
        .waitForMessage((e) => e.message.from.id !== pg.config.currentUser.id && hasAction(e.message, title), {
          since,
          conversationId: chat,
          timeoutMs: 20_000,
        })
        .catch((error: unknown) => {
          throw new Error(`no ${what} card: ${(error as Error).message}`);
        });

    let since = pg.mark();
    await pg.sendMessage('invite guest', chat);
    const appCard = await newCard('Next', since, 'app');
    const appId = choiceValue(appCard.message, 'appId', EXPENSES_APP);

    since = pg.mark();
    await pg.submitCard(appCard.message, 'Next', { appId }, chat);
    const detailsCard = await newCard('Review', since, 'details');

    since = pg.mark();
    await pg.submitCard(detailsCard.message, 'Review', { email, message: WELCOME }, chat);
    const confirmCard = await newCard('Send invitation', since, 'confirmation');
    for (const expected of [EXPENSES_APP, EXPENSES_REVIEWERS_NAME, email, WELCOME]) {
      assert.ok(
        messageContains(confirmCard.message, expected),
        `the confirmation shows '${expected}': ${short(confirmCard)}`,
      );
    }
    return confirmCard.message;
  }

  /**
   * Confirms the invitation for `email` with the membership write delayed by `latencyMs`, kills the bot's process
   * group once Graph answered the invitation and the membership write is held, and checks what the store holds
   * at that moment. Returns what the later checks need.
   */
  async function confirmAndKill(email: string, latencyMs: number) {
    const sim = simulator!;
    const pg = api!;
    const bot = await runningBot();
    sim.setFaults(delayMembershipWrite(latencyMs));
    const logStart = sim.requests().length;

    const confirm = await walkToConfirmation(email);
    const sinceConfirm = pg.mark();
    // not awaited: should the Playground answer only once the bot's turn ends, that never happens here
    const submitted = pg.submitCard(confirm, 'Send invitation', {}, chat).catch((error: unknown) => error as Error);

    const invitation = await waitUntil(
      'POST /invitations answered 201',
      () => invitationsFor(sim.requests().slice(logStart), email).find((e) => e.status === 201),
      {
        timeoutMs: 20_000,
        describe: () => `bot log tail:\n${bot.lines.slice(-20).join('\n')}`,
      },
    );
    await waitUntil(
      'the membership write held by the simulator',
      () => (sim.faultStats().rules[0]?.matched ?? 0) >= 1,
      { timeoutMs: 20_000 },
    );
    const exit = await killGroup(bot.proc, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL', `the bot was killed (it ${JSON.stringify(exit)})`);
    const heldWrites = sim.faultStats().rules[0]!.matched;
    sim.setFaults(null);

    const guestId = (invitation.responseBody as { invitedUser?: { id?: unknown } } | undefined)?.invitedUser?.id;
    assert.equal(
      typeof guestId,
      'string',
      `the invitation answer names the new user: ${JSON.stringify(invitation.responseBody)}`,
    );

    // the card showed the work in progress before the crash
    await pg.waitForMessage(
      (e) =>
        e.action === 'updateMessage' &&
        e.message.messageId === confirm.messageId &&
        messageContains(e.message, 'Sending the invitation'),
      {
        since: sinceConfirm,
        timeoutMs: 5_000,
      },
    );
    // the killed process got as far as the invitation, not further
    const [atCrash, ...others] = storedInvitations(storePath, email);
    assert.ok(atCrash, 'the bot recorded the confirmed invitation before it wrote to Graph');
    assert.deepEqual(others, [], 'one operation record for the invitation');
    assert.equal(atCrash.status, 'running', `the record is unfinished at the crash: ${JSON.stringify(atCrash)}`);
    assert.deepEqual(
      Object.keys(atCrash.steps).sort(),
      ['check', 'invite'],
      `steps recorded at the crash: ${JSON.stringify(atCrash.steps)}`,
    );
    assert.equal(atCrash.steps.invite!.result?.userId, guestId, 'the invite step recorded the invited user');
    assert.equal(atCrash.result, null);
    assert.ok(atCrash.leaseOwner, 'the killed process still holds the lease');
    assert.equal(atCrash.replyTo?.activityId, confirm.messageId, 'the record keeps the confirmation card to update');
    assert.equal(
      membershipWritesFor(sim.requests().slice(logStart), guestId as string).length,
      0,
      'the held membership write has not been answered yet',
    );
    return { confirm, guestId: guestId as string, heldWrites, logStart, submitted, operationId: atCrash.id };
  }

  /** Everything that must hold once the restarted bot has finished the invitation. */
  async function checkFinished(
    email: string,
    crash: Awaited<ReturnType<typeof confirmAndKill>>,
    restarted: BotRun,
    sinceRestart: number,
  ): Promise<void> {
    const sim = simulator!;
    const pg = api!;

    // the owner's card is replaced in place (same message id) by the outcome, after the restart
    const outcome = await pg
      .waitForMessage(
        (e) =>
          e.action === 'updateMessage' &&
          e.message.messageId === crash.confirm.messageId &&
          !messageContains(e.message, 'Sending the invitation'),
        {
          since: sinceRestart,
          timeoutMs: 30_000,
        },
      )
      .catch((error: unknown) => {
        throw new Error(`the restarted bot did not update the confirmation card: ${(error as Error).message}`);
      });

    // the killed process's held write lands in the end: wait for it, so the counts below are final
    await waitUntil(
      `the ${crash.heldWrites} held membership write(s) to be answered`,
      () =>
        membershipWritesFor(sim.requests().slice(crash.logStart), crash.guestId).filter((e) => e.injectedLatencyMs)
          .length >= crash.heldWrites,
      { timeoutMs: 30_000 },
    );

    const members = await membersWithMail(sim.graphBaseUrl, email);
    assert.deepEqual(
      members,
      [{ id: crash.guestId, mail: email }],
      `the guest is a member of ${EXPENSES_REVIEWERS_NAME} exactly once`,
    );

    const all = sim.requests();
    const invitations = invitationsFor(all, email);
    assert.deepEqual(
      invitations.map((e) => e.status),
      [201],
      `one POST /invitations for ${email} in the whole test, answered 201 (never re-invited): ${JSON.stringify(invitations.map((e) => ({ time: e.time, status: e.status })))}`,
    );
    const writes = membershipWritesFor(all, crash.guestId);
    const described = JSON.stringify(
      writes.map((e) => ({ time: e.time, status: e.status, held: e.injectedLatencyMs ?? 0, body: e.responseBody })),
    );
    assert.ok(writes.length >= 1 && writes.length <= 2, `one or two membership writes: ${described}`);
    assert.equal(
      writes.filter((e) => e.status === 204).length,
      1,
      `exactly one membership write succeeded: ${described}`,
    );
    assert.ok(
      writes.every((e) => e.status === 204 || alreadyExists(e)),
      `the other membership write, if any, answered "already exist": ${described}`,
    );

    const [record, ...others] = storedInvitations(storePath, email);
    assert.deepEqual(others, [], 'still one operation record for the invitation');
    assert.ok(record);
    assert.equal(record.id, crash.operationId);
    assert.equal(record.status, 'succeeded', `the record is finished: ${JSON.stringify(record)}`);
    assert.deepEqual(
      Object.keys(record.steps).sort(),
      ['addMember', 'check', 'invite'],
      `steps: ${JSON.stringify(record.steps)}`,
    );
    for (const [name, step] of Object.entries(record.steps)) assert.equal(step.status, 'done', `step ${name}`);
    assert.equal(
      record.steps.invite!.result?.userId,
      crash.guestId,
      'the invite step still names the user invited before the crash',
    );
    assert.equal(record.result?.kind, 'done', `the stored outcome: ${JSON.stringify(record.result)}`);
    assert.equal(record.leaseOwner, null, 'the lease was released');

    const resumed = restarted.log.filter((l) => l.event === 'invite.resumed');
    assert.deepEqual(
      resumed.map((l) => ({ operationId: l.operationId, outcome: l.outcome })),
      [{ operationId: crash.operationId, outcome: 'done' }],
      'the restarted bot resumed the record once',
    );
    assertNoTurnErrors(restarted);

    // last, what Megan sees: the outcome of this invitation, in place of her confirmation card
    const newMessages = pg
      .streamed()
      .slice(sinceRestart)
      .filter((e): e is MessageEvent => e.action === 'createMessage' && e.actionConversationId === chat);
    assert.deepEqual(newMessages.map(short), [], 'the outcome replaced the card instead of coming as a new message');
    assert.deepEqual(cardActions(cardOf(outcome.message)!), [], 'the outcome card has no buttons left');
    assert.ok(messageContains(outcome.message, email), `the card names the guest: ${short(outcome)}`);
    assert.ok(
      messageContains(outcome.message, 'Guest invited'),
      `the card says 'Guest invited' (this operation invited the guest and added them): ${short(outcome)}`,
    );
  }

  function assertNoTurnErrors(run: BotRun): void {
    const errors = run.log.filter((l) => typeof l.event === 'string' && l.event.startsWith('turn.error'));
    assert.deepEqual(errors, [], `${run.label} logged turn errors`);
  }

  const recordOf = (email: string): StoredOperation | undefined => storedInvitations(storePath, email)[0];

  before(async function () {
    this.timeout(120_000);
    try {
      simulator = await startSimulator({
        seed: loadDemoSeed(),
        port: 0,
        recordBodies: true,
        faults: delayMembershipWrite(10_000),
      });
      botPort = await freePort();
      await startBot('bot, run 1');
      playground = await startPlayground({
        botEndpoint: `http://127.0.0.1:${botPort}/api/messages`,
        configPath: writePlaygroundConfig('megan', tmp),
        logFile: path.join(tmp, 'playground.log'),
      });
      api = await PlaygroundApi.connect(playground.url);
      assert.equal(api.config.currentUser.aadObjectId, megan.aadObjectId);
      assert.equal(api.config.personalChat.id, chat);
    } catch (error) {
      setupFailed = true;
      console.error(`  setup failed: ${(error as Error).message}`);
      dumpFailure();
      throw error;
    }
  });

  beforeEach(function () {
    if (setupFailed) this.skip();
    caseFirstRun = Math.max(0, runs.length - 1);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      console.error(`  '${this.currentTest.title}' failed; the bot's runs, the Playground and the simulator's writes:`);
      dumpFailure();
    }
  });

  after(async function () {
    this.timeout(30_000);
    api?.close();
    await playground?.stop().catch(() => undefined);
    await Promise.all(runs.map((run) => run.proc.stop(1000).catch(() => undefined)));
    await simulator?.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('resumes after a SIGKILL during the membership write: invited once, added once, card updated in place', async function () {
    const email = 'crash.test@adatum.com';
    // held 10 s: far longer than restart (~1 s) + lease expiry (2 s) + resume pass (1 s), so the resumed run writes
    // first
    const crash = await confirmAndKill(email, 10_000);

    // the Playground keeps the bot's endpoint (and gave the bot its serviceUrl): same port, same store
    const sinceRestart = api!.mark();
    const restarted = await startBot(`bot, run ${runs.length + 1} (restarted)`);
    await checkFinished(email, crash, restarted, sinceRestart);

    // the Playground still talks to the new process
    const since = api!.mark();
    await api!.sendMessage('help', chat);
    await api!.waitForMessage((e) => e.action === 'createMessage' && e.message.from.id !== megan.id, {
      since,
      conversationId: chat,
      timeoutMs: 15_000,
    });
    const reference = await waitForConversationReference(storePath, DEMO_TENANT_ID, megan.aadObjectId);
    assert.equal(
      new URL(reference.serviceUrl!).port,
      String(playground!.port),
      "Megan's stored reference points at her Playground",
    );
    const answered = membershipWritesFor(simulator!.requests(), crash.guestId).map(
      (e) => `${e.status}${e.injectedLatencyMs ? " (the killed run's)" : " (the resumed run's)"}`,
    );
    console.log(`      membership writes in the order answered: ${answered.join(', ')}`);
    const submitError = await crash.submitted;
    assert.ok(!(submitError instanceof Error), `the Playground took the confirmation: ${String(submitError)}`);
  });

  it("resumes after a SIGKILL when the killed process's membership write lands before the restart", async function () {
    const email = 'crash.late@adatum.com';
    const crash = await confirmAndKill(email, 3_000);

    // let the held write land while no bot runs: the guest is in the group before the record is resumed
    const landed = await waitUntil(
      'the held membership write to land',
      () =>
        membershipWritesFor(simulator!.requests().slice(crash.logStart), crash.guestId).find(
          (e) => e.injectedLatencyMs,
        ),
      { timeoutMs: 15_000 },
    );
    assert.equal(landed.status, 204, "the killed process's write added the guest");
    assert.equal(recordOf(email)?.status, 'running', 'the record is still unfinished');

    const sinceRestart = api!.mark();
    const restarted = await startBot(`bot, run ${runs.length + 1} (restarted)`);
    await checkFinished(email, crash, restarted, sinceRestart);
  });

  it('stops gracefully on SIGTERM during the membership write: refuses new activities, finishes the invitation, exits 0', async function () {
    const email = 'sigterm.test@adatum.com';
    const sim = simulator!;
    const pg = api!;
    const bot = await runningBot();
    sim.setFaults(delayMembershipWrite(2_000));
    const logStart = sim.requests().length;
    const confirm = await walkToConfirmation(email);
    const sinceConfirm = pg.mark();
    const submitted = pg.submitCard(confirm, 'Send invitation', {}, chat).catch((error: unknown) => error as Error);
    await waitUntil(
      'the membership write held by the simulator',
      () => (sim.faultStats().rules[0]?.matched ?? 0) >= 1,
      { timeoutMs: 20_000 },
    );

    process.kill(bot.proc.child.pid!, 'SIGTERM');
    await waitUntil('the bot to log that it is stopping', () => bot.log.some((l) => l.event === 'bot.stopping'), {
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    // while the turn in flight finishes, new activities are refused (the Bot Framework delivers them again later)
    const refused = await waitUntil(
      'a new activity refused with 503',
      async () => {
        const res = await fetch(`http://127.0.0.1:${botPort}/api/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            id: 'after-sigterm',
            text: 'help',
            channelId: 'msteams',
            serviceUrl: playground!.url,
            conversation: { id: chat },
            from: { id: megan.id },
            recipient: { id: 'bot' },
          }),
        });
        return res.status === 503 ? res : false;
      },
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(bot.proc.hasExited(), false, 'the process waits for the turn in flight');

    const exit = await bot.proc.exited;
    assert.equal(exit.code, 0, `the bot exited cleanly: ${JSON.stringify(exit)}`);
    const drained = bot.log.find((l) => l.event === 'bot.drained');
    assert.equal(drained?.turnsEnded, true, `the turn in flight ended before the exit: ${JSON.stringify(drained)}`);
    assert.ok(bot.log.some((l) => l.event === 'bot.stopped'));
    assertNoTurnErrors(bot);

    const outcome = await pg.waitForMessage(
      (e) =>
        e.action === 'updateMessage' &&
        e.message.messageId === confirm.messageId &&
        messageContains(e.message, 'Guest invited'),
      { since: sinceConfirm, timeoutMs: 5_000 },
    );
    assert.ok(messageContains(outcome.message, email));
    const [record, ...others] = storedInvitations(storePath, email);
    assert.deepEqual(others, []);
    assert.equal(
      record?.status,
      'succeeded',
      `finished before the exit, nothing left to resume: ${JSON.stringify(record)}`,
    );
    assert.deepEqual(
      invitationsFor(sim.requests().slice(logStart), email).map((e) => e.status),
      [201],
    );
    assert.equal((await membersWithMail(sim.graphBaseUrl, email)).length, 1);
    sim.setFaults(null);
    const submitError = await submitted;
    assert.ok(!(submitError instanceof Error), `the Playground took the confirmation: ${String(submitError)}`);
  });

  it('kept all Graph traffic within the v1.0 contract', function () {
    const entries = simulator!.requests();
    assert.ok(entries.length > 0);
    assert.deepEqual(validateLog(entries), []);
  });
});
