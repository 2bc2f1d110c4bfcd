/**
 * Membership requests end to end, with two people: one bot process, the Graph tenant simulator (in this
 * process) and TWO Microsoft 365 Agents Playgrounds in front of the same bot, one as Adele Vance (who asks)
 * and one as Megan Bowen (who owns the group), each with its chat UI in Chromium.
 *
 * Adele asks for Contoso Expenses in her chat; the bot sends the approval card proactively into Megan's chat
 * (through Megan's Playground, the service URL of her stored conversation reference); Megan approves with a
 * comment while Graph is slow to add the member, so her card first says "Working on it" and then shows the outcome;
 * both copies of the card and Adele's chat show the outcome; Graph has Adele in the group once.
 * Screenshots of every step go to test-results/request-NN-*.png.
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
  clickButton,
  messageContains,
  nextCard,
  openPlayground,
  personalChatId,
  screenshot,
  selectChoice,
  sendMessage,
  typeInto,
  useStack,
  waitForBotMessage,
  waitForConversationReference,
  type MessageEvent,
} from './support';

const EXPENSES_REVIEWERS = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01';
const REASON = 'Quarterly audit of partner expenses';
const COMMENT = 'Approved for the Q3 audit';
const { adele, megan, alex } = DEMO_USERS;

/** Ids of all members of a group, read through Graph (the simulator), following paging. */
async function memberIds(graphBaseUrl: string, groupId: string): Promise<string[]> {
  const ids: string[] = [];
  let next: string | undefined = `${graphBaseUrl}/groups/${groupId}/members?$select=id`;
  while (next) {
    const res = await fetch(next, { headers: { Authorization: 'Bearer test' } });
    assert.equal(res.status, 200, `GET ${next}`);
    const page = (await res.json()) as { value: Array<{ id: string }>; '@odata.nextLink'?: string };
    ids.push(...page.value.map((m) => m.id));
    next = page['@odata.nextLink'];
  }
  return ids;
}

/** The `requestId` in the data of the card's Action.Execute titled `title`. */
function executeRequestId(event: MessageEvent, title: string): string {
  const card = cardOf(event.message) as
    { actions?: Array<{ type?: string; title?: string; verb?: string; data?: { requestId?: unknown } }> } | undefined;
  const action = card?.actions?.find((a) => a.type === 'Action.Execute' && a.title === title);
  assert.ok(action, `the card has an Action.Execute titled '${title}': ${JSON.stringify(card)}`);
  const requestId = action.data?.requestId;
  assert.equal(typeof requestId, 'string');
  return requestId as string;
}

describe('Membership request approved by the group owner, in two Agents Playgrounds @e2e', function () {
  this.timeout(90_000);
  const stack = useStack({ name: 'request', users: ['megan', 'adele'], stopAfterFailure: true });
  let adeleApi: PlaygroundApi | undefined;
  let meganApi: PlaygroundApi | undefined;
  let approvalEvent: MessageEvent | undefined;
  let step = 0;

  /** test-results/request-NN-<who>-<what>.png, numbered in the order the steps happen. */
  const shot = (page: Page, who: 'adele' | 'megan', what: string) =>
    screenshot(page, `request-${String(++step).padStart(2, '0')}-${who}-${what}`);

  it('registers Megan and Adele with the bot when their Playgrounds open', async function () {
    // Megan's chat first: the bot must know where to reach her before Adele asks
    await openPlayground(stack.page('megan'), stack.playground('megan').url);
    await waitForBotMessage(stack.page('megan'), /request access/i, 20_000); // the welcome (help) card
    const meganRef = await waitForConversationReference(stack.storePath, DEMO_TENANT_ID, megan.aadObjectId);
    assert.equal(meganRef.conversation?.id, personalChatId(megan));
    assert.equal(meganRef.conversation?.conversationType, 'personal');
    assert.equal(meganRef.user?.id, megan.id);
    assert.equal(
      new URL(meganRef.serviceUrl!).port,
      String(stack.playground('megan').port),
      "Megan's reference points at her own Playground",
    );
    await shot(stack.page('megan'), 'megan', 'welcome');

    await openPlayground(stack.page('adele'), stack.playground('adele').url);
    await waitForBotMessage(stack.page('adele'), /request access/i, 20_000);
    const adeleRef = await waitForConversationReference(stack.storePath, DEMO_TENANT_ID, adele.aadObjectId);
    assert.equal(adeleRef.conversation?.id, personalChatId(adele));
    assert.equal(
      new URL(adeleRef.serviceUrl!).port,
      String(stack.playground('adele').port),
      "Adele's reference points at her own Playground",
    );
    await shot(stack.page('adele'), 'adele', 'welcome');

    // the streams see what each UI sees; they carry the card JSON (request id) and tell updates from new messages
    [adeleApi, meganApi] = await Promise.all([stack.connect('adele'), stack.connect('megan')]);
    assert.equal(adeleApi.config.currentUser.aadObjectId, adele.aadObjectId);
    assert.equal(meganApi.config.currentUser.aadObjectId, megan.aadObjectId);
  });

  it('Adele asks for Contoso Expenses in her chat', async function () {
    const page = stack.page('adele');
    const meganStart = meganApi!.mark();

    await sendMessage(page, 'request access');
    const appCard = await nextCard(page, { choice: 'Contoso Expenses', button: 'Next' });
    for (const app of ['Contoso Expenses', 'Contoso Wiki', 'Sales Insights']) {
      assert.equal(await appCard.getByRole('radio', { name: app, exact: true }).count(), 1, `'${app}' is offered`);
    }
    await shot(page, 'adele', 'app-card');
    await selectChoice(appCard, 'Contoso Expenses');
    await clickButton(appCard, 'Next');

    // Contoso Expenses has one group: no group card
    const reasonCard = await nextCard(page, { label: 'Why do you need access?', button: 'Review' });
    await typeInto(reasonCard, 'Why do you need access?', REASON);
    await shot(page, 'adele', 'reason');
    await clickButton(reasonCard, 'Review');

    const confirmCard = await nextCard(page, { button: 'Send request' });
    const confirmText = await confirmCard.innerText();
    for (const expected of ['Contoso Expenses', 'Expenses External Reviewers', REASON]) {
      assert.ok(confirmText.includes(expected), `the confirmation shows '${expected}':\n${confirmText}`);
    }
    await shot(page, 'adele', 'confirmation');
    await clickButton(confirmCard, 'Send request');

    const sent = await waitForBotMessage(page, 'Request sent', 30_000);
    const sentText = await sent.innerText();
    await shot(page, 'adele', 'request-sent');
    assert.equal(
      await page.locator('button[title="Send request"]').count(),
      0,
      'the confirmation card was replaced in place',
    );
    assert.ok(sentText.includes('Megan Bowen'), `'Request sent' names Megan Bowen as a decider:\n${sentText}`);
    assert.ok(
      sentText.includes(`Could not reach ${alex.name}`),
      `'Request sent' says that ${alex.name} (an owner without a Playground) could not be reached:\n${sentText}`,
    );

    // Alex has no Playground: the bot had no reference for him, tried to open a chat and recorded him as unreachable
    const unreachable = stack.bot.log.events('request.owner.unreachable');
    assert.deepEqual(
      unreachable.map((l) => l.ownerId),
      [alex.aadObjectId],
      `only Alex was unreachable: ${JSON.stringify(unreachable)}`,
    );

    // the approval card went to Megan's Playground, into her personal chat, as a new (proactive) message
    const approval = await meganApi!.waitForText('Access request', {
      since: meganStart,
      conversationId: personalChatId(megan),
      timeoutMs: 15_000,
    });
    assert.equal(approval.action, 'createMessage');
    assert.ok(messageContains(approval.message, REASON));
    approvalEvent = approval;
  });

  it('Megan gets the approval card in her chat and approves with a comment', async function () {
    const page = stack.page('megan');
    const adeleStart = adeleApi!.mark();
    const meganStart = meganApi!.mark();

    const card = await nextCard(page, { text: 'Access request', button: 'Approve' }, 20_000);
    const cardText = await card.innerText();
    for (const expected of [
      'Requested by',
      'Adele Vance',
      'Contoso Expenses',
      'Expenses External Reviewers',
      REASON,
      'Asked at',
    ]) {
      assert.ok(cardText.includes(expected), `the approval card shows '${expected}':\n${cardText}`);
    }
    assert.equal(await card.locator('button[title="Deny"]').count(), 1);
    const requestId = executeRequestId(approvalEvent!, 'Approve');
    assert.equal(executeRequestId(approvalEvent!, 'Deny'), requestId);
    await shot(page, 'megan', 'approval-card');

    await typeInto(card, 'Comment (optional)', COMMENT);
    await shot(page, 'megan', 'comment');
    // Graph is slow to add the member: the click is answered within the invoke deadline, the card updated later
    stack.simulator.setFaults({ rules: [{ method: 'POST', path: '/groups/*/members/$ref', latencyMs: 4_000 }] });
    await clickButton(card, 'Approve');

    const working = await waitForBotMessage(page, 'Working on it', 10_000);
    await shot(page, 'megan', 'working-on-it');
    assert.ok((await working.innerText()).includes('Your decision is being recorded'));
    const decided = await waitForBotMessage(page, 'Approved by Megan Bowen', 30_000);
    stack.simulator.setFaults(null);
    assert.equal(
      await page.locator('.ac-adaptiveCard', { hasText: 'Working on it' }).count(),
      0,
      'the "working on it" card was replaced by the outcome',
    );
    const decidedText = await decided.innerText();
    await shot(page, 'megan', 'approved');
    assert.ok(decidedText.includes('Access request: approved'), decidedText);
    assert.ok(decidedText.includes('Adele Vance was added to Expenses External Reviewers.'), decidedText);
    assert.ok(decidedText.includes(COMMENT), `the card shows Megan's comment:\n${decidedText}`);
    assert.equal(
      await page.locator('.ac-adaptiveCard button[title="Approve"]').count(),
      0,
      "no Approve button is left in Megan's chat",
    );
    assert.equal(
      await page.locator('.ac-adaptiveCard button[title="Deny"]').count(),
      0,
      "no Deny button is left in Megan's chat",
    );

    // her stored copy of the card was brought up to date as well (updateActivity on its activity id)
    const updated = await meganApi!.waitForMessage(
      (e) => e.action === 'updateMessage' && messageContains(e.message, 'Approved by Megan Bowen'),
      {
        since: meganStart,
        conversationId: personalChatId(megan),
      },
    );
    assert.deepEqual(cardActions(cardOf(updated.message)!), [], 'the updated card has no buttons');

    // Adele is told in her own chat
    const told = await adeleApi!.waitForText('Your access request was approved', {
      since: adeleStart,
      conversationId: personalChatId(adele),
      timeoutMs: 15_000,
    });
    assert.equal(told.action, 'createMessage');
  });

  it('Adele is told in her chat', async function () {
    const page = stack.page('adele');
    const told = await waitForBotMessage(page, 'Your access request was approved', 15_000);
    const toldText = await told.innerText();
    await shot(page, 'adele', 'approved');
    assert.ok(toldText.includes('Approved by Megan Bowen'), toldText);
    assert.ok(toldText.includes('Expenses External Reviewers'), toldText);
    assert.ok(toldText.includes(COMMENT), `Adele sees Megan's comment:\n${toldText}`);
  });

  it('added Adele to Expenses External Reviewers exactly once', async function () {
    const ids = await memberIds(stack.simulator.graphBaseUrl, EXPENSES_REVIEWERS);
    assert.equal(
      ids.filter((id) => id === adele.aadObjectId).length,
      1,
      `Adele is a member once: ${JSON.stringify(ids)}`,
    );
    const adds = stack.simulator
      .requests()
      .filter((e) => e.method === 'POST' && e.url.split('?')[0] === `/v1.0/groups/${EXPENSES_REVIEWERS}/members/$ref`);
    assert.equal(
      adds.length,
      1,
      `one POST .../members/$ref: ${JSON.stringify(adds.map((e) => ({ url: e.url, status: e.status })))}`,
    );
    assert.equal(adds[0]!.status, 204);
    assert.ok(JSON.stringify(adds[0]!.requestBody).includes(adele.aadObjectId), 'the reference added is Adele');
  });

  it('logged no turn errors', function () {
    // a failed proactive send must reach the messenger, not the turn error handler (which would apologise
    // into the owner's chat and drop its dialog state)
    const errors = stack.bot.log.lines().filter((l) => l.event.startsWith('turn.error'));
    assert.deepEqual(errors, [], 'the bot logged turn errors');
  });

  it('kept all Graph traffic within the v1.0 contract', function () {
    const entries = stack.simulator.requests();
    assert.ok(entries.length > 0);
    assert.deepEqual(validateLog(entries), []);
  });
});
