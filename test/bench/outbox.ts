/**
 * Proactive delivery at scale through the Teams connector double with its limits on (src/simulator/teams): the
 * messages of a review sweep opening reviews for 200 groups with 2 owners each, and of a setup scan alerting 30
 * admins about 8 problems each, sent through the outbox as the bot sends them. 20% of the owners never installed
 * the app: the bot has no chat with them and (until it can install itself through Graph) counts them unreachable.
 *
 * Figures: messages asked for, delivered, unreachable, lost (a reachable person missing a message), duplicated,
 * HTTP attempts (every one the double saw, 429s included) per message, and the wall time against the floor the
 * limits allow for the requests needed (each delivered message and each createConversation; 50 requests a second per
 * app and tenant; 7/1 s and 8/2 s per conversation).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite';
import { TeamsReviewMessenger } from '../../src/bot/guests/reviewMessenger';
import type { AlertNotice } from '../../src/domain/adminAlerts';
import type { ReviewView } from '../../src/domain/guestReview';
import { TENANT, installFor, messengerOn, person, startConnector } from '../support/teamsConnector';
import { silentLogger } from '../../src/logging';

export interface OutboxBenchResult {
  messages: number;
  delivered: number;
  unreachable: number;
  lost: number;
  duplicated: number;
  httpAttempts: number;
  throttled: number;
  attemptsPerMessage: number;
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
    reviewId: `review-${i}`, tenantId: TENANT, appId: `app-${i}`, appName: `App ${i}`, groupId: `group-${i}`, groupName: `Group ${i}`,
    openedAt: '2026-12-07T09:00:00.000Z', deadline: '2026-12-21T09:00:00.000Z', entries: [], cards: [],
  };
}

function notice(i: number): AlertNotice {
  return {
    alert: {
      tenantId: TENANT, key: `groupDynamic:g${i}`, kind: 'groupDynamic', appId: 'sp9', appName: 'Contoso Wiki', groupId: `g${i}`, groupName: `Partners ${i}`,
      summary: `Partners ${i} has dynamic membership.`, fix: ['Create an assigned group.'], state: 'open', count: 1, countSinceAlert: 1, lastBlocked: null,
      firstSeen: '2026-12-07T09:00:00.000Z', lastSeen: '2026-12-07T09:00:00.000Z', lastAlertedAt: null, pendingDelivery: false, acknowledgedBy: null, resolvedAt: null, version: 1,
    },
    event: 'problem', blocks: 0, at: '2026-12-07T09:00:00.000Z',
  };
}

/** The shortest time `n` requests take in one tenant under 50 a second (a sliding window), and per conversation. */
function floorMs(requests: number, perConversation: number): number {
  const tenant = Math.floor((requests - 1) / 50) * 1_000;
  const conversation = perConversation <= 7 ? 0 : perConversation <= 8 ? 1_000 : Math.ceil((perConversation - 8) / 4) * 2_000 + 1_000;
  return Math.max(tenant, conversation);
}

export async function outboxBench(): Promise<OutboxBenchResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-outbox-bench-'));
  const connector = await startConnector();
  const store = openSqliteStore(path.join(dir, 'bench.db'));
  try {
    const owners = Array.from({ length: GROUPS * 2 }, (_, i) => person(i + 1));
    const admins = Array.from({ length: ADMINS }, (_, i) => person(10_000 + i));
    const installed = owners.filter((_, i) => i % 5 !== 0);
    await installFor(connector, store, [...installed, ...admins]);
    const messenger = messengerOn(connector, store);
    const reviews = new TeamsReviewMessenger(messenger, 'remove', silentLogger);
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
      for (let p = 0; p < PROBLEMS; p++) for (const admin of admins) await messenger.sendToUser(TENANT, admin, notice(p));
    };
    const [unreachableAtOnce] = await Promise.all([sweep(), scan()]);
    if (process.env.BENCH_OUTBOX_DEBUG) console.log('recorded all in', Date.now() - started, 'ms; sent by then', connector.double.stats().accepted);
    while ((await store.outbox.nextDue()) !== undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    const wallMs = Date.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    let unreachable = unreachableAtOnce;
    for (const id of queued) if ((await store.outbox.get(id))?.status === 'failed') unreachable++;
    await messenger.outbox.stop();
    const expected = new Map<string, number>([...installed.map((o) => [o, 1] as const), ...admins.map((a) => [a, PROBLEMS] as const)]);
    let delivered = 0;
    let lost = 0;
    let duplicated = 0;
    for (const [who, count] of expected) {
      const seen = connector.double.messagesFor(who).length;
      delivered += Math.min(seen, count);
      lost += Math.max(0, count - seen);
      duplicated += Math.max(0, seen - count);
    }
    const messages = GROUPS * 2 + ADMINS * PROBLEMS;
    const stats = connector.double.stats();
    if (process.env.BENCH_OUTBOX_DEBUG) {
      const throttled = Object.entries(stats.perConversation).filter(([, c]) => c.throttled > 0);
      console.log('throttled conversations', throttled.length, JSON.stringify(throttled.slice(0, 5)), JSON.stringify(stats.byOperation));
      console.log(JSON.stringify(connector.double.attempts().filter((a) => a.status === 429).slice(0, 3)));
    }
    // The requests the limits count: every message that reached a chat, and every createConversation.
    const floor = floorMs(delivered + (stats.byOperation.createConversation?.accepted ?? 0) + (stats.byOperation.createConversation?.attempts ?? 0) - (stats.byOperation.createConversation?.throttled ?? 0) - (stats.byOperation.createConversation?.accepted ?? 0), PROBLEMS);
    return {
      messages, delivered, unreachable, lost, duplicated, httpAttempts: stats.attempts, throttled: stats.throttled,
      attemptsPerMessage: stats.attempts / messages, wallMs, floorMs: floor, wallVsFloor: wallMs / floor, cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await store.close();
    await connector.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printOutboxBench(r: OutboxBenchResult): void {
  const fmt = (n: number, digits = 2): string => n.toFixed(digits);
  console.log(
    `Outbox (review sweep ${GROUPS} groups × 2 owners + setup scan ${ADMINS} admins × ${PROBLEMS} alerts, Teams double with limits): ` +
      `${r.messages} messages, ${r.delivered} delivered, ${r.unreachable} unreachable (never installed), ${r.lost} lost, ${r.duplicated} duplicated; ` +
      `${r.httpAttempts} HTTP attempts (×${fmt(r.attemptsPerMessage)} the messages, ${r.throttled} answered 429); ` +
      `${fmt(r.wallMs / 1000, 1)} s vs a floor of ${fmt(r.floorMs / 1000, 1)} s (×${fmt(r.wallVsFloor)}); CPU ${fmt(r.cpuMs / 1000, 1)} s (bot and double in one process)`,
  );
}
