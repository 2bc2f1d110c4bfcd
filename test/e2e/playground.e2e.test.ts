/**
 * Proves the end-to-end harness against a tiny in-test echo bot: the Playground with the committed config,
 * its chat UI in Chromium (text and card round trips, in-place update), its HTTP API and stream, custom
 * activities from another user, and a second Playground generated for another current user.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEMO_USERS,
  PlaygroundApi,
  REPO_PLAYGROUND_CONFIG,
  botMessages,
  cardOf,
  cards,
  clickButton,
  launchBrowser,
  nextCard,
  openPlayground,
  personalChatId,
  playgroundConfigYaml,
  reportFailure,
  screenshot,
  selectChoice,
  sendMessage,
  startEchoBot,
  startPlayground,
  typeInto,
  waitForBotMessage,
  writePlaygroundConfig,
  type Browser,
  type EchoBot,
  type RunningPlayground,
} from './support';

describe('Playground harness (echo bot) @e2e', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-invite-smoke-'));
  let echo: EchoBot | undefined;
  let playground: RunningPlayground | undefined;
  let browser: Browser | undefined;
  let api: PlaygroundApi | undefined;

  before(async function () {
    echo = await startEchoBot();
    playground = await startPlayground({
      botEndpoint: echo.endpoint,
      configPath: REPO_PLAYGROUND_CONFIG,
      logFile: path.join(tmp, 'playground.log'),
    });
    browser = await launchBrowser();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      await reportFailure(`playground-smoke-${this.currentTest.title.replace(/\W+/g, '-')}`, browser?.page, [
        playground?.process,
      ]);
    }
  });

  after(async function () {
    api?.close();
    await browser?.close();
    await playground?.stop();
    await echo?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves on the port it was given', async function () {
    const res = await fetch(`${playground!.url}/_debug/ping`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'pong');
  });

  it('chats in the UI: text, card inputs, card updated in place', async function () {
    const { page } = browser!;
    await openPlayground(page, playground!.url);

    await sendMessage(page, 'hello playground');
    await waitForBotMessage(page, 'echo: hello playground');

    await sendMessage(page, 'card');
    const card = await nextCard(page, { choice: 'Contoso Wiki', label: 'Guest email' });
    await selectChoice(card, 'Sales Insights');
    await typeInto(card, 'Guest email', 'pat.partner@adatum.com');
    await typeInto(card, 'Welcome message (optional)', 'Line one\nLine two');
    await clickButton(card, 'Submit');
    const submitted = await waitForBotMessage(page, 'submitted:');
    assert.equal(
      (await submitted.innerText()).split('\n').find((line) => line.startsWith('submitted:')),
      'submitted: {"action":"submit","appId":"sales","email":"pat.partner@adatum.com","message":"Line one\\nLine two"}',
    );
    await screenshot(page, 'playground-smoke');

    await clickButton(card, 'Update');
    await waitForBotMessage(page, 'updated: {"action":"update"');
    assert.equal(await cards(page).count(), 0, 'the card was replaced in place by the update');
    assert.equal(await botMessages(page).count(), 3);

    // what the bot received: Teams-shaped activities from the configured current user
    const submit = echo!.received.find((a) => a.type === 'message' && a.value !== undefined)!;
    const megan = DEMO_USERS.megan;
    assert.deepEqual(submit.from, { id: megan.id, name: megan.name, aadObjectId: megan.aadObjectId });
    assert.equal(submit.channelId, 'msteams');
    assert.equal(submit.conversation?.id, personalChatId(megan));
    assert.equal(submit.conversation?.conversationType, 'personal');
    assert.deepEqual(submit.channelData, {
      source: { name: 'message' },
      tenant: { id: '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01' },
    });
    assert.ok(
      echo!.received.some((a) => a.type === 'installationUpdate'),
      'page load sends installationUpdate',
    );
    assert.ok(
      echo!.received.some((a) => a.type === 'conversationUpdate'),
      'page load sends conversationUpdate',
    );
  });

  it('chats through the HTTP API and reads the stream', async function () {
    api = await PlaygroundApi.connect(playground!.url);
    assert.equal(api.config.currentUser.id, DEMO_USERS.megan.id);

    let since = api.mark();
    await api.sendMessage('ping over http');
    const echoed = await api.waitForText('echo: ping over http', { since });
    assert.equal(echoed.action, 'createMessage');
    assert.equal(echoed.actionConversationId, personalChatId(DEMO_USERS.megan));
    assert.equal(echoed.message.from.id, api.config.bot.id);

    since = api.mark();
    await api.sendMessage('card');
    const cardEvent = await api.waitForMessage((e) => cardOf(e.message) !== undefined, { since });
    since = api.mark();
    await api.submitCard(cardEvent.message, 'Submit', { appId: 'wiki', email: 'a@adatum.com', message: 'x\ny' });
    await api.waitForText('submitted: {"action":"submit","appId":"wiki","email":"a@adatum.com","message":"x\\ny"}', {
      since,
    });

    since = api.mark();
    await api.submitCard(cardEvent.message, 'Update');
    const updated = await api.waitForText('updated:', { since });
    assert.equal(updated.action, 'updateMessage');
    assert.equal(updated.message.messageId, cardEvent.message.messageId, 'an update keeps the message id');

    // a raw activity from another user, into the group chat
    since = api.mark();
    const adele = api.config.users.find((u) => u.name === 'Adele Vance')!;
    await api.sendCustomActivity(await api.messageFrom(adele, 'hi from Adele'));
    const reply = await api.waitForText('echo: hi from Adele', { since });
    assert.equal(reply.actionConversationId, api.config.groupChats[0]!.id);
    const fromAdele = echo!.received.find((a) => a.text === 'hi from Adele')!;
    assert.equal(fromAdele.from?.aadObjectId, DEMO_USERS.adele.aadObjectId);
    assert.equal(fromAdele.conversation?.conversationType, 'groupChat');
  });

  it('runs a second Playground as another demo user from a generated config', async function () {
    assert.equal(
      fs.readFileSync(REPO_PLAYGROUND_CONFIG, 'utf8'),
      playgroundConfigYaml('megan'),
      '.m365agentsplayground.yml is the generated config',
    );
    const asPatti = await startPlayground({
      botEndpoint: echo!.endpoint,
      configPath: writePlaygroundConfig('patti', tmp),
      logFile: path.join(tmp, 'playground-patti.log'),
    });
    let pattiApi: PlaygroundApi | undefined;
    try {
      assert.notEqual(asPatti.port, playground!.port);
      pattiApi = await PlaygroundApi.connect(asPatti.url);
      const since = pattiApi.mark();
      await pattiApi.sendMessage('hello as Patti');
      await pattiApi.waitForText('echo: hello as Patti', { since });
      const seen = echo!.received.find((a) => a.text === 'hello as Patti')!;
      assert.equal(seen.from?.id, DEMO_USERS.patti.id);
      assert.equal(seen.conversation?.id, personalChatId(DEMO_USERS.patti));
    } finally {
      pattiApi?.close();
      await asPatti.stop();
    }
  });
});
