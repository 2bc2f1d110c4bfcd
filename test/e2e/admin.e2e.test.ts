/**
 * Setup checks and proactive alerts for admins, end to end: one bot process, the Graph tenant simulator (in
 * this process) and TWO Microsoft 365 Agents Playgrounds in front of the same bot, one as Patti Fernandez
 * (Global Administrator) and one as Adele Vance (who co-owns only the dynamic group of Partner Portal), each
 * with its chat UI in Chromium.
 *
 * The bot scans the tenant 2 s after it starts. Nobody has installed it yet, so the 8 alerts of that scan
 * wait in the store; when Patti opens her Playground (installationUpdate) she gets the help card and the setup
 * summary listing those 8 problems, which count as told (no separate alert cards). Patti runs `setup check`;
 * Adele is blocked by the dynamic group, which counts against that alert (within the quiet period: no card);
 * Patti acknowledges that alert and sees it, with Adele's blocks, in `alerts`; Adele may not run admin commands.
 * Screenshots of every step go to test-results/admin-NN-*.png.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { validateLog } from '../support/graphContract';
import {
  DEMO_TENANT_ID,
  DEMO_USERS,
  type PlaygroundApi,
  cardActions,
  cardOf,
  cardTitle,
  cards,
  hideLogPanel,
  nextCard,
  openPlayground,
  personalChatId,
  screenshot,
  sendMessage,
  storedAlert,
  storedAlerts,
  storedConversationReference,
  useStack,
  waitForBotMessage,
  waitForConversationReference,
  type AdaptiveCard,
  type AdaptiveCardAction,
  type MessageEvent,
  type StoredAlert,
} from './support';

const { patti, adele } = DEMO_USERS;
/** The dynamic group of Partner Portal, co-owned by Adele. */
const PARTNER_PORTAL_DYNAMIC = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04';
const DYNAMIC_KEY = `groupDynamic:${PARTNER_PORTAL_DYNAMIC}`;
const DYNAMIC_SUMMARY = 'Partner Portal Dynamic Partners (assigned to Partner Portal) has dynamic membership';
const FIRST_FIX_STEP = '1. In the Microsoft Entra admin center, open Groups › New group';
/** What the demo tenant's setup check finds. */
const PROBLEMS = 8;
const REPORT_TITLE = `Setup check: ${PROBLEMS} problems to fix`;
const ALERT_TITLE = 'Setup problem';
/** How long to keep watching for a message that must not come. */
const GRACE_MS = 2_000;

/** The parts of a card built from cards/report.json (setup report, alert, alert list). */
interface ReportCard {
  title: string;
  facts: Record<string, string>;
  sections: Array<{ heading: string; lines: string[]; actions: AdaptiveCardAction[] }>;
}

interface CardNode {
  type?: string;
  text?: string;
  separator?: boolean;
  items?: CardNode[];
  inlines?: CardNode[];
  actions?: AdaptiveCardAction[];
}

const inlineText = (node: CardNode): string => (node.inlines ?? []).map((i) => i.text ?? '').join('');

function readReportCard(card: AdaptiveCard): ReportCard {
  const body = (card.body ?? []) as CardNode[];
  const facts: Record<string, string> = {};
  const sections: ReportCard['sections'] = [];
  for (const node of body) {
    if (node.type !== 'Container') continue;
    const items = node.items ?? [];
    if (!node.separator) {
      for (const fact of items) {
        const [label, value] = (fact.inlines ?? []).map((i) => i.text ?? '');
        facts[(label ?? '').replace(/:\s*$/, '')] = value ?? '';
      }
      continue;
    }
    const texts = items.filter((i) => i.type === 'RichTextBlock').map(inlineText);
    sections.push({
      heading: texts[0] ?? '',
      lines: texts.slice(1),
      actions: items.flatMap((i) => (i.type === 'ActionSet' ? (i.actions ?? []) : [])),
    });
  }
  const title = body.find((n) => n.type === 'TextBlock')?.text ?? '';
  return { title, facts, sections };
}

function reportOf(event: MessageEvent): ReportCard {
  const card = cardOf(event.message);
  assert.ok(card, `message ${event.message.messageId} has an Adaptive Card`);
  return readReportCard(card);
}

/** The `key` of the alert card's Acknowledge action. */
function alertKey(event: MessageEvent): string {
  const ack = cardActions(cardOf(event.message)!).find((a) => a.type === 'Action.Submit' && a.title === 'Acknowledge');
  assert.ok(ack, `the alert card has an Acknowledge button: ${JSON.stringify(cardOf(event.message))}`);
  assert.equal(ack.data?.verb, 'alert.ack');
  assert.equal(typeof ack.data?.key, 'string');
  return ack.data!.key as string;
}

const isAlert = (e: MessageEvent) => e.action === 'createMessage' && cardTitle(e.message) === ALERT_TITLE;

describe('Setup checks and proactive alerts for admins, in two Agents Playgrounds @e2e', function () {
  this.timeout(90_000);
  const stack = useStack({
    name: 'admin',
    users: ['patti', 'adele'],
    // one start-up scan (2 s after start), then none for a day; alerts are quiet for a day once sent
    botEnv: { SETUP_SCAN_INTERVAL: '24h', ALERT_QUIET_PERIOD: '24h' },
    stopAfterFailure: true,
  });
  let pattiApi: PlaygroundApi | undefined;
  /** The dynamic group's alert as stored once it was delivered to Patti. */
  let delivered: StoredAlert | undefined;
  let step = -1;

  /** test-results/admin-NN-<what>.png, numbered in the order the steps happen (00 is Patti's install). */
  const shot = (page: Page, what: string) => screenshot(page, `admin-${String(++step).padStart(2, '0')}-${what}`);

  it('keeps the alerts of the start-up scan while no admin can be reached', async function () {
    const scanned = await stack.bot.log.waitFor('setup.scanned', { timeoutMs: 20_000 });
    assert.equal(scanned.problems, PROBLEMS, JSON.stringify(scanned));
    assert.equal(scanned.alerted, PROBLEMS, JSON.stringify(scanned));
    assert.equal(scanned.fixed, 0, JSON.stringify(scanned));
    // after the scan the bot tries the pending alerts once more (nobody to send them to): let that finish,
    // so that it cannot overlap with the delivery at Patti's install
    await stack.bot.log.waitForQuiet(1_000);

    assert.equal(
      storedConversationReference(stack.storePath, DEMO_TENANT_ID, patti.aadObjectId),
      undefined,
      'Patti has not installed the bot yet',
    );
    const alerts = storedAlerts(stack.storePath, DEMO_TENANT_ID);
    assert.equal(alerts.length, PROBLEMS, JSON.stringify(alerts, null, 2));
    for (const alert of alerts) {
      assert.equal(alert.state, 'open', alert.key);
      assert.equal(alert.pendingDelivery, true, `${alert.key} waits for an admin`);
      assert.equal(alert.count, 1, alert.key);
      assert.equal(alert.lastBlocked, null, `${alert.key}: nobody was blocked yet`);
    }
    const dynamic = alerts.find((a) => a.key === DYNAMIC_KEY);
    assert.ok(dynamic, `the scan found the dynamic group: ${alerts.map((a) => a.key).join(', ')}`);
    assert.equal(dynamic.appName, 'Partner Portal');
    assert.equal(dynamic.groupName, 'Partner Portal Dynamic Partners');
  });

  it('Patti installs the bot: the welcome and one setup summary; the problems it lists are not sent again as alert cards', async function () {
    const page = stack.page('patti');
    const chat = personalChatId(patti);
    // connected before the page loads, so that the stream sees every message of the install
    pattiApi = await stack.connect('patti');
    assert.equal(pattiApi.config.currentUser.aadObjectId, patti.aadObjectId);

    await openPlayground(page, stack.playground('patti').url);
    await pattiApi.waitForMessage((e) => cardTitle(e.message) === REPORT_TITLE, {
      conversationId: chat,
      timeoutMs: 30_000,
    });
    const ref = await waitForConversationReference(stack.storePath, DEMO_TENANT_ID, patti.aadObjectId);
    assert.equal(ref.conversation?.id, chat);
    assert.equal(
      new URL(ref.serviceUrl!).port,
      String(stack.playground('patti').port),
      "Patti's reference points at her own Playground",
    );
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));

    // in her chat: the help card and the setup summary, nothing else (was: 8 alert cards after them)
    const created = pattiApi.messagesSince((e) => e.action === 'createMessage', { conversationId: chat });
    const titles = created.map((e) => cardTitle(e.message) ?? e.message.text ?? '');
    assert.deepEqual(titles, ['Guest Invite', REPORT_TITLE], JSON.stringify(titles));
    assert.equal(pattiApi.messagesSince(isAlert, { since: 0 }).length, 0);
    await waitForBotMessage(page, REPORT_TITLE);
    await hideLogPanel(page);
    await shot(page, 'patti-installed');

    // told by the summary: nothing is pending any more, every problem stays open
    for (const stored of storedAlerts(stack.storePath, DEMO_TENANT_ID)) {
      assert.equal(stored.pendingDelivery, false, `${stored.key} was told by the summary`);
      assert.equal(stored.state, 'open', stored.key);
    }
    delivered = storedAlert(stack.storePath, DEMO_TENANT_ID, DYNAMIC_KEY);
    assert.ok(delivered?.lastAlertedAt);
  });

  it('Patti runs "setup check" in her chat', async function () {
    const page = stack.page('patti');
    const start = pattiApi!.mark();
    await sendMessage(page, 'setup check');
    const card = await nextCard(page, { text: REPORT_TITLE }, 20_000);
    const text = await card.innerText();
    await shot(page, 'setup-check');
    for (const expected of [
      REPORT_TITLE,
      'Apps with groups assigned: 7',
      'Ready for self-service: 3',
      'With problems: 4',
      'Guest invitations: allowed for the bot (allowInvitesFrom = everyone)',
      'Partner Portal: 2 problems',
      DYNAMIC_SUMMARY,
      FIRST_FIX_STEP,
      'Contoso Expenses: ready',
    ]) {
      assert.ok(text.includes(expected), `the report shows '${expected}':\n${text}`);
    }

    const event = await pattiApi!.waitForMessage((e) => cardTitle(e.message) === REPORT_TITLE, {
      since: start,
      conversationId: personalChatId(patti),
    });
    const report = reportOf(event);
    assert.deepEqual(report.facts, {
      'Apps with groups assigned': '7',
      'Ready for self-service': '3',
      'With problems': '4',
      'Guest invitations': 'allowed for the bot (allowInvitesFrom = everyone)',
      'Guest sponsors':
        "Kept in the bot's records only (the inviting or approving owner). To have them in Microsoft Entra ID too, grant the application permission User.ReadWrite.All and set GUEST_SPONSORS_IN_ENTRA=true.",
      'Reaching people in Teams':
        'the bot installs itself for people who never opened it (TeamsAppInstallation.ReadWriteSelfForUser.All)',
    });
    const portal = report.sections.find((s) => s.heading === 'Partner Portal: 2 problems');
    assert.ok(portal, `a Partner Portal section: ${JSON.stringify(report.sections.map((s) => s.heading))}`);
    assert.ok(
      portal.lines.some((l) => l.startsWith(DYNAMIC_SUMMARY)),
      JSON.stringify(portal.lines),
    );
    assert.ok(
      portal.lines.some((l) => l.startsWith(FIRST_FIX_STEP)),
      JSON.stringify(portal.lines),
    );
    assert.ok(report.sections.some((s) => s.heading === 'Contoso Expenses: ready'));
    assert.equal(report.sections.filter((s) => s.heading.endsWith(': ready')).length, 3);
    assert.equal(pattiApi!.messagesSince(isAlert, { since: start }).length, 0, 'a setup check sends no alerts');
  });

  it('Adele is told there is nothing to share yet; her block is counted against the alert Patti has', async function () {
    const page = stack.page('adele');
    await openPlayground(page, stack.playground('adele').url);
    await waitForBotMessage(page, /request access/i, 20_000); // the welcome (help) card
    await waitForConversationReference(stack.storePath, DEMO_TENANT_ID, adele.aadObjectId);
    const pattiStart = pattiApi!.mark();

    await sendMessage(page, 'invite guest');
    const told = await nextCard(page, { text: 'Nothing to share yet' }, 20_000);
    const toldText = await told.innerText();
    await shot(page, 'adele-nothing-to-share');
    for (const expected of [
      'Partner Portal Dynamic Partners has dynamic membership',
      'a rule decides its members',
      'An admin can fix this',
    ]) {
      assert.ok(toldText.includes(expected), `Adele is told '${expected}':\n${toldText}`);
    }

    // the block was recorded before Adele's answer was sent
    const blocked = storedAlert(stack.storePath, DEMO_TENANT_ID, DYNAMIC_KEY)!;
    assert.equal(blocked.count, 2, JSON.stringify(blocked));
    assert.equal(blocked.countSinceAlert, 1, JSON.stringify(blocked));
    assert.equal(blocked.lastBlocked?.name, adele.name);
    assert.equal(blocked.lastBlocked?.userId, adele.aadObjectId);
    assert.deepEqual(
      blocked.lastBlocked?.doing,
      { key: 'admin:doing.sharing', params: { app: 'Partner Portal' } },
      'kept as a message, shown in each admin’s language',
    );
    assert.equal(blocked.state, 'open');
    // Patti was alerted about this problem at her install, within the quiet period: no new alert
    assert.equal(blocked.lastAlertedAt, delivered!.lastAlertedAt, 'not alerted again');
    assert.equal(blocked.pendingDelivery, false);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    assert.deepEqual(
      pattiApi!.messagesSince(isAlert, { since: pattiStart }).map((e) => alertKey(e)),
      [],
      "no new alert in Patti's chat",
    );
  });

  it('a second block within the quiet period sends Patti no card; the alert counts it', async function () {
    const pattiStart = pattiApi!.mark();
    await sendMessage(stack.page('adele'), 'invite guest');
    await nextCard(stack.page('adele'), { text: 'Nothing to share yet' }, 20_000);
    assert.equal(storedAlert(stack.storePath, DEMO_TENANT_ID, DYNAMIC_KEY)!.count, 3);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    assert.equal(pattiApi!.messagesSince(isAlert, { since: pattiStart }).length, 0, "no alert card in Patti's chat");
  });

  it('Patti acknowledges the Partner Portal alert', async function () {
    const page = stack.page('patti');
    // The Playground's UI sends no Action.Submit from a card that is not the newest in the chat, so the
    // acknowledgement is sent through its HTTP API, as from the summary card (value = the button's data).
    const summary = pattiApi!.messagesSince(
      (e) => e.action === 'createMessage' && cardTitle(e.message) === REPORT_TITLE,
      { since: 0 },
    )[0];
    assert.ok(summary, 'the setup summary is in the stream');
    await pattiApi!.submit(summary.message.messageId, { verb: 'alert.ack', key: DYNAMIC_KEY });
    const done = await waitForBotMessage(page, 'Acknowledged:', 15_000);
    const text = await done.innerText();
    await shot(page, 'patti-acknowledged');
    assert.ok(text.includes(`Acknowledged: ${DYNAMIC_SUMMARY}`), text);
    const stored = storedAlert(stack.storePath, DEMO_TENANT_ID, DYNAMIC_KEY)!;
    assert.equal(stored.state, 'acknowledged');
    assert.equal(stored.acknowledgedBy, patti.name);
  });

  it('"alerts" shows it as acknowledged, with the blocks by Adele', async function () {
    const page = stack.page('patti');
    const start = pattiApi!.mark();
    await sendMessage(page, 'alerts');
    const card = await nextCard(page, { text: `${PROBLEMS} open setup problems` }, 15_000);
    const text = await card.innerText();
    await card.getByText('(acknowledged)').scrollIntoViewIfNeeded();
    await shot(page, 'patti-alerts');
    for (const expected of [
      `(acknowledged) ${DYNAMIC_SUMMARY}`,
      'Seen 3 times',
      'Last blocked: Adele Vance while sharing Partner Portal with a guest',
    ]) {
      assert.ok(text.includes(expected), `the list shows '${expected}':\n${text}`);
    }

    const event = await pattiApi!.waitForMessage((e) => cardTitle(e.message) === `${PROBLEMS} open setup problems`, {
      since: start,
    });
    const list = reportOf(event);
    assert.equal(list.sections.length, PROBLEMS);
    const acknowledged = list.sections.filter((s) => s.heading.startsWith('(acknowledged) '));
    assert.equal(acknowledged.length, 1, JSON.stringify(list.sections.map((s) => s.heading)));
    assert.ok(acknowledged[0]!.heading.startsWith(`(acknowledged) ${DYNAMIC_SUMMARY}`));
    assert.deepEqual(acknowledged[0]!.actions, [], 'no Acknowledge button on it any more');
    assert.match(acknowledged[0]!.lines[0]!, /^Seen 3 times, last /);
    assert.match(
      acknowledged[0]!.lines[1]!,
      /^Last blocked: Adele Vance while sharing Partner Portal with a guest \([A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M\)\.$/,
    );
    const open = list.sections.filter((s) => !s.heading.startsWith('(acknowledged) '));
    assert.ok(
      open.every((s) => s.actions.length === 1 && s.actions[0]!.title === 'Acknowledge'),
      'the others can still be acknowledged',
    );
  });

  it('Adele may not run admin commands', async function () {
    const page = stack.page('adele');
    const logStart = stack.bot.log.mark();
    await sendMessage(page, 'setup check');
    const refused = await waitForBotMessage(page, 'That is for admins', 15_000);
    await shot(page, 'adele-not-admin');
    assert.ok((await refused.innerText()).includes('Global Administrator'));
    const logged = await stack.bot.log.waitFor('admin.refused', { since: logStart });
    assert.equal(logged.actorId, adele.aadObjectId);
    assert.equal(logged.command, 'setupCheck');
    assert.equal(await cards(page).filter({ hasText: 'Setup check:' }).count(), 0, 'Adele never got a setup report');
  });

  it('logged no errors', function () {
    const errors = stack.bot.log.lines().filter((l) => l.level === 'error' || l.event.startsWith('turn.error'));
    assert.deepEqual(errors, []);
  });

  it('kept all Graph traffic within the v1.0 contract', function () {
    const entries = stack.simulator.requests();
    assert.ok(entries.length > 0);
    assert.deepEqual(validateLog(entries), []);
  });
});
