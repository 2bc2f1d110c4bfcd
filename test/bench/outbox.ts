/**
 * Proactive delivery at scale through the Teams connector double with its limits on (src/simulator/teams): the
 * messages of a review sweep opening reviews for 200 groups with 2 owners each, and of a setup scan alerting 30
 * admins about 8 problems each, sent through the outbox as the bot sends them. 20% of the owners never installed
 * the app: the bot installs itself for them through the Graph simulator (PersonalChatService with
 * GraphTeamsAppInstaller, TeamsAppInstallation.ReadWriteSelfForUser.All; the double is linked to the simulator's
 * Teams apps, so an install made through Graph makes the person reachable), as src/bot/compose.ts wires it. Each
 * Graph request takes 50 ms (simulated latency, as in the bulk bench). The bot reads the installation's chat from
 * Graph and sends there, with no createConversation. Each install brings Teams' installationUpdate, which the bot
 * answers with one short welcome through the outbox: sent here the same way (BENCH_OUTBOX_WELCOMES=0 leaves it out),
 * counted apart from the 640 messages.
 *
 * Figures: messages asked for, delivered, unreachable, lost (a message missing), duplicated, welcomes arrived and
 * failed, HTTP attempts to the Teams connector (every one the double saw, 429s and any createConversation
 * included) per message, the Graph requests (installs, and all of them) counted apart, and the
 * wall time against the floor Teams' limits allow for every request they see (each send, welcomes included, and
 * each createConversation, the refused ones included, 429s left out; 50 requests a second per app and tenant;
 * 7/1 s and 8/2 s per conversation). Graph is not under Teams'
 * limits: the floor leaves its calls out (docs/benchmark.md says what that means).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite';
import { TeamsReviewMessenger } from '../../src/bot/guests/reviewMessenger';
import type { AlertNotice } from '../../src/domain/admin/alerts';
import { alertNotice } from '../support/alertNotice';
import type { ReviewView } from '../../src/domain/guests/review';
import {
  BOT_APP_ID,
  TENANT,
  type Connector,
  installFor,
  messengerOn,
  person,
  referenceFor,
  startConnector,
} from '../support/teamsConnector';
import { silentLogger } from '../../src/logging';
import {
  MessageFactory,
  TurnContext,
  type Activity as BotActivity,
  type CloudAdapter,
  type ConversationReference,
} from 'botbuilder';
import type { JsonObject, Store } from '../../src/store/store';
import { helpCard } from '../../src/bot/mainDialog';
import { localizer } from '../../src/i18n';
import type { VisibleMessage } from '../../src/simulator/teams';
import type { Activity } from '../simulator/teamsHelpers';
import { createGraphClient } from '../../src/graph/client';
import { GraphHttp } from '../../src/graph/graphHttp';
import { GraphTeamsAppInstaller } from '../../src/graph/teamsApps';
import { PersonalChatService } from '../../src/bot/delivery/reachability';
import type { TeamsMessenger } from '../../src/bot/messenger';
import { loadDemoSeed, startSimulator, type RunningSimulator, type TenantSeed } from '../../src/simulator';
import { msg } from '../../src/domain/shared/message';

export interface OutboxBenchResult {
  messages: number;
  delivered: number;
  unreachable: number;
  lost: number;
  duplicated: number;
  /** Owners who had never installed the app and were installed for through Graph (a 201 to the POST). */
  installedThroughGraph: number;
  /**
   * Help cards the bot answers an install with (sent as replies, outside the outbox's pace; not counted as messages).
   */
  welcomes: number;
  welcomesFailed: number;
  /** POST /users/{id}/teamwork/installedApps requests the Graph simulator received. */
  graphInstallCalls: number;
  /** Every request the Graph simulator received (installs, reading the installation, its chat, the catalog id). */
  graphRequests: number;
  /** createConversation attempts the double saw (none when the bot opens chats through Graph). */
  createConversations: number;
  httpAttempts: number;
  throttled: number;
  attemptsPerMessage: number;
  /** The requests Teams' limits had to let through (each send and createConversation once): the floor's count. */
  teamsRequests: number;
  /** HTTP attempts per request needed: above 1 only by retries (429s and others). */
  attemptsPerRequest: number;
  wallMs: number;
  floorMs: number;
  wallVsFloor: number;
  /** CPU time of this process (bot side and connector double together) during the run: near wallMs means CPU-bound. */
  cpuMs: number;
}

const GROUPS = 200;
const ADMINS = 30;
const PROBLEMS = 8;

function view(i: number): ReviewView {
  return {
    reviewId: `review-${i}`,
    tenantId: TENANT,
    appId: `app-${i}`,
    appName: `App ${i}`,
    groupId: `group-${i}`,
    groupName: `Group ${i}`,
    openedAt: '2026-12-07T09:00:00.000Z',
    deadline: '2026-12-21T09:00:00.000Z',
    entries: [],
    cards: [],
  };
}

function notice(i: number): AlertNotice {
  return alertNotice(i, `Partners ${i}`);
}

/** The shortest time `n` requests take in one tenant under 50 a second (a sliding window), and per conversation. */
function floorMs(requests: number, perConversation: number): number {
  const tenant = Math.floor((requests - 1) / 50) * 1_000;
  const conversation =
    perConversation <= 7 ? 0 : perConversation <= 8 ? 1_000 : Math.ceil((perConversation - 8) / 4) * 2_000 + 1_000;
  return Math.max(tenant, conversation);
}

/**
 * Graph's latency per request in the bench (as the bulk bench; BENCH_GRAPH_LATENCY_MS changes it): installs take time.
 */
const GRAPH_LATENCY_MS = Number(process.env.BENCH_GRAPH_LATENCY_MS ?? 50);

/** The demo tenant plus the bench's owners and admins, with the Guest Invite app's bot being the double's bot. */
function benchSeed(people: readonly string[]): TenantSeed {
  const seed = loadDemoSeed();
  for (const [i, id] of people.entries()) {
    const upn = `bench.person${i}@contoso.com`;
    seed.users.push({
      id,
      displayName: `Bench Person ${i}`,
      userPrincipalName: upn,
      mail: upn,
      userType: 'Member',
      accountEnabled: true,
    });
  }
  const app = seed.teamsApps!.catalog.find((a) => a.displayName === 'Guest Invite')!;
  app.botId = BOT_APP_ID;
  return seed;
}

/**
 * The bot's chats as src/bot/compose.ts builds them: installs through Graph, createConversation paced by the outbox.
 */
function chatsFor(
  sim: RunningSimulator,
  connector: Connector,
  store: Store,
  seed: TenantSeed,
): { chats: PersonalChatService; messenger: TeamsMessenger } {
  const client = createGraphClient({
    baseUrl: sim.graphBaseUrl,
    auth: { kind: 'static', token: 'bench' },
    logger: silentLogger,
  });
  const manifestId = seed.teamsApps!.catalog.find((a) => a.displayName === 'Guest Invite')!.externalId;
  const chats: PersonalChatService = new PersonalChatService({
    adapter: connector.adapter,
    appId: '',
    conversations: store.conversations,
    state: store.state,
    logger: silentLogger,
    installer: new GraphTeamsAppInstaller(new GraphHttp(client)),
    manifestId,
    catalogId: null,
    // Called only once the messenger below exists (as in src/bot/compose.ts).
    pace: (tenantId: string, userId: string): Promise<() => void> => messenger.outbox.paceFor(tenantId, userId),
  });
  const messenger: TeamsMessenger = messengerOn(connector, store, { chats });
  return { chats, messenger };
}

/** Each person's messages (the welcome cards left out) against what they should have received. */
function tally(
  connector: Connector,
  welcomes: Welcomes,
  expected: ReadonlyMap<string, number>,
): { delivered: number; lost: number; duplicated: number } {
  const counts = { delivered: 0, lost: 0, duplicated: 0 };
  for (const [who, count] of expected) {
    const seen = connector.double.messagesFor(who).filter((m) => !welcomes.isWelcome(m)).length;
    counts.delivered += Math.min(seen, count);
    counts.lost += Math.max(0, count - seen);
    counts.duplicated += Math.max(0, seen - count);
  }
  return counts;
}

/** The Graph simulator's top-level requests, its install calls, and the people a 201 installed the app for. */
function graphCounts(
  sim: RunningSimulator,
  people: readonly string[],
): { requests: number; installCalls: number; installed: number } {
  const graph = sim.requests().filter((r) => !r.batchId);
  if (process.env.BENCH_OUTBOX_DEBUG) {
    const kinds = new Map<string, number>();
    for (const r of graph) {
      const kind = `${r.method} ${r.url.split('?')[0].replace(/[0-9a-f-]{36}|inst-[^/]+|[A-Za-z0-9+/=_-]{40,}/g, '{id}')} ${r.status}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log('graph requests', JSON.stringify([...kinds]));
  }
  const installCalls = graph.filter(
    (r) => r.method === 'POST' && /\/teamwork\/installedApps$/.test(r.url.split('?')[0]),
  );
  const installed = people.filter((o) => installCalls.some((r) => r.status === 201 && r.url.includes(o))).length;
  return { requests: graph.length, installCalls: installCalls.length, installed };
}

/**
 * The bot's answer to an install in a 1:1 chat (src/bot/teamsBot.ts, onInstallationUpdateAdd): for an install the bot
 * made itself (PersonalChatService.installedByBot), one short welcome through the outbox (paced, retried); for anyone
 * else the help card, sent as a reply in the turn. The bench's bot endpoint answers the event; this sends it.
 */
class Welcomes {
  readonly pending = new Set<Promise<void>>();
  readonly card = JSON.stringify(helpCard(localizer({ locale: 'en-US' })).content);
  readonly text = localizer({ locale: 'en-US' }).t('reach:welcomeInstalledForYou');
  failed = 0;
  on = false;
  chats: PersonalChatService | undefined;
  messenger: TeamsMessenger | undefined;
  store: Store | undefined;

  constructor(private readonly adapter: () => CloudAdapter) {}

  onActivity(activity: Activity): void {
    const conversation = activity.conversation as { conversationType?: string } | undefined;
    if (
      !this.on ||
      activity.type !== 'installationUpdate' ||
      activity.action !== 'add' ||
      conversation?.conversationType !== 'personal'
    )
      return;
    const reference = TurnContext.getConversationReference(activity as unknown as Partial<BotActivity>);
    const userId = (activity.from as { aadObjectId?: string } | undefined)?.aadObjectId ?? '';
    const sending = (async (): Promise<void> => {
      // The bot keeps the event's conversation reference first (TeamsBot.remember): the welcome finds the chat stored.
      await this.store?.conversations.upsert(
        TENANT,
        userId,
        JSON.parse(JSON.stringify(reference)) as JsonObject,
        new Date(),
      );
      if (this.chats && this.messenger && (await this.chats.installedByBot(TENANT, userId))) {
        const sent = await this.messenger.sendToUserChat(TENANT, userId, {
          type: 'msg',
          msg: msg('reach:welcomeInstalledForYou'),
        });
        if (!sent.ok) throw new Error(sent.error);
        return;
      }
      await this.adapter().continueConversationAsync('', reference, async (context) => {
        await context.sendActivity(MessageFactory.attachment(helpCard(localizer({ locale: 'en-US' }))));
      });
    })().catch(() => void this.failed++);
    const done: Promise<void> = sending.finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  isWelcome(message: VisibleMessage): boolean {
    if (message.text && message.text.includes(this.text.slice(0, 40))) return true;
    return message.attachments.length > 0 && JSON.stringify(message.attachments[0].content) === this.card;
  }

  /** Welcomes that arrived (help cards and short welcomes). */
  count(connector: Connector, people: readonly string[]): number {
    return people.reduce((n, who) => n + connector.double.messagesFor(who).filter((m) => this.isWelcome(m)).length, 0);
  }

  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

export async function outboxBench(): Promise<OutboxBenchResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-outbox-bench-'));
  const owners = Array.from({ length: GROUPS * 2 }, (_, i) => person(i + 1));
  const admins = Array.from({ length: ADMINS }, (_, i) => person(10_000 + i));
  const seed = benchSeed([...owners, ...admins]);
  const latency = { seed: 1, rules: [{ path: '*', latencyMs: GRAPH_LATENCY_MS, topLevelOnly: true }] };
  const sim = await startSimulator({ seed, port: 0, faults: latency });
  const welcomes = new Welcomes(() => connector.adapter);
  const connector = await startConnector({ graph: sim.teamsApps, onActivity: (a) => welcomes.onActivity(a) });
  const store = openSqliteStore(path.join(dir, 'bench.db'));
  try {
    const installed = owners.filter((_, i) => i % 5 !== 0);
    const neverInstalled = owners.filter((_, i) => i % 5 === 0);
    await installFor(connector, store, [...installed, ...admins]);
    await connector.double.settleEvents();
    const { chats, messenger } = chatsFor(sim, connector, store, seed);
    welcomes.chats = chats;
    welcomes.messenger = messenger;
    welcomes.store = store;
    // The tenant's service URL and someone who has the app, as the bot keeps them from an admin's install.
    await chats.note(TENANT, referenceFor(connector.double, admins[0]) as Partial<ConversationReference>, admins[0]);
    const reviews = new TeamsReviewMessenger(messenger, 'remove', silentLogger);
    // BENCH_OUTBOX_WELCOMES=0 leaves the help cards out (the outbox alone).
    welcomes.on = process.env.BENCH_OUTBOX_WELCOMES !== '0';
    messenger.outbox.start();
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const queued: string[] = [];
    const sweep = async (): Promise<number> => {
      let unreachable = 0;
      for (let g = 0; g < GROUPS; g++) {
        for (const owner of [owners[2 * g], owners[2 * g + 1]]) {
          const sent = await reviews.sendReviewCard(view(g), { id: owner, displayName: owner }, 'new');
          if (!sent.ok) unreachable++;
          else if (typeof sent.location.outboxId === 'string') queued.push(sent.location.outboxId);
        }
      }
      return unreachable;
    };
    const scan = async (): Promise<void> => {
      for (let p = 0; p < PROBLEMS; p++)
        for (const admin of admins) await messenger.sendToUser(TENANT, admin, notice(p));
    };
    const [unreachableAtOnce] = await Promise.all([sweep(), scan()]);
    if (process.env.BENCH_OUTBOX_DEBUG)
      console.log('recorded all in', Date.now() - started, 'ms; sent by then', connector.double.stats().accepted);
    while ((await store.outbox.nextDue()) !== undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    await connector.double.settleEvents();
    await welcomes.settle();
    while ((await store.outbox.nextDue()) !== undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    const wallMs = Date.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    let unreachable = unreachableAtOnce;
    for (const id of queued) if ((await store.outbox.get(id))?.status === 'failed') unreachable++;
    await messenger.outbox.stop();
    const expected = new Map<string, number>([
      ...owners.map((o) => [o, 1] as const),
      ...admins.map((a) => [a, PROBLEMS] as const),
    ]);
    const { delivered, lost, duplicated } = tally(connector, welcomes, expected);
    const messages = GROUPS * 2 + ADMINS * PROBLEMS;
    const stats = connector.double.stats();
    const graph = graphCounts(sim, neverInstalled);
    if (process.env.BENCH_OUTBOX_DEBUG) {
      const throttled = Object.entries(stats.perConversation).filter(([, c]) => c.throttled > 0);
      console.log(
        'throttled conversations',
        throttled.length,
        JSON.stringify(throttled.slice(0, 5)),
        JSON.stringify(stats.byOperation),
      );
      console.log(
        JSON.stringify(
          connector.double
            .attempts()
            .filter((a) => a.status === 429)
            .slice(0, 3),
        ),
      );
    }
    // Every request Teams' limits see, the 429s' retries left out: each send and each createConversation (refused or
    // not).
    const teamsRequests = stats.attempts - stats.throttled;
    const floor = floorMs(teamsRequests, PROBLEMS);
    // The welcome a self-installed person gets is a message the bot sends too: attempts are counted against all of
    // them.
    const welcomed = welcomes.count(connector, owners);
    return {
      messages,
      delivered,
      unreachable,
      lost,
      duplicated,
      installedThroughGraph: graph.installed,
      welcomes: welcomed,
      welcomesFailed: welcomes.failed,
      graphInstallCalls: graph.installCalls,
      graphRequests: graph.requests,
      createConversations: stats.byOperation.createConversation?.attempts ?? 0,
      httpAttempts: stats.attempts,
      throttled: stats.throttled,
      attemptsPerMessage: stats.attempts / (messages + welcomed),
      teamsRequests,
      attemptsPerRequest: stats.attempts / teamsRequests,
      wallMs,
      floorMs: floor,
      wallVsFloor: wallMs / floor,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await store.close();
    await connector.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printOutboxBench(r: OutboxBenchResult): void {
  const fmt = (n: number, digits = 2): string => n.toFixed(digits);
  console.log(
    `Outbox (review sweep ${GROUPS} groups × 2 owners + setup scan ${ADMINS} admins × ${PROBLEMS} alerts, Teams double with limits): ` +
      `${r.messages} messages, ${r.delivered} delivered, ${r.unreachable} unreachable, ${r.lost} lost, ${r.duplicated} duplicated; ` +
      `${r.installedThroughGraph} never-installed owners installed through Graph (${r.graphInstallCalls} install calls, ${r.graphRequests} Graph requests in all, ${GRAPH_LATENCY_MS} ms each), ` +
      `${r.welcomes} welcomes arrived after their install${r.welcomesFailed ? ` (${r.welcomesFailed} failed)` : ''}; ` +
      `${r.httpAttempts} HTTP attempts to Teams (×${fmt(r.attemptsPerMessage)} the messages, welcomes included, ${r.createConversations} createConversation, ${r.throttled} answered 429; ` +
      `×${fmt(r.attemptsPerRequest)} the ${r.teamsRequests} requests needed); ` +
      `${fmt(r.wallMs / 1000, 1)} s vs a floor of ${fmt(r.floorMs / 1000, 1)} s (×${fmt(r.wallVsFloor)}); CPU ${fmt(r.cpuMs / 1000, 1)} s (bot and double in one process)`,
  );
}
