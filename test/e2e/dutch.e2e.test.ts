/**
 * The invite flow in Dutch, end to end: the bot as its own process, the Graph tenant simulator, the Microsoft 365
 * Agents Playground and its chat UI in Chromium, as Megan Bowen with the client language nl-NL.
 *
 * The Playground (0.2.28) writes `locale: "en-US"` into every activity its UI and its submit API generate, so
 * Megan's turns go through its HTTP API (`POST /_internal/v1/customActivities`, forwarded to the bot as given)
 * with `locale: "nl-NL"` and `localTimezone: "Europe/Amsterdam"`. The bot's cards appear in the Playground's
 * chat UI as usual: each one is checked for Dutch text there and in the stream, with screenshots in test-results/.
 */
import assert from 'node:assert/strict';
import {
  type PlaygroundApi,
  REPO_PLAYGROUND_CONFIG,
  cardActions,
  cardOf,
  messageContains,
  openPlayground,
  screenshot,
  useStack,
  waitForBotMessage,
  type MessageEvent,
  type StreamMessage,
} from './support';

const GUEST_EMAIL = 'pat.partner@adatum.com';
const DUTCH = {
  locale: 'nl-NL',
  localTimezone: 'Europe/Amsterdam',
  entities: [{ type: 'clientInfo', locale: 'nl-NL', country: 'NL', platform: 'Web', timezone: 'Europe/Amsterdam' }],
};

describe('Guest Invite in Dutch in the Agents Playground, as Megan Bowen (nl-NL) @e2e', function () {
  this.timeout(90_000);
  let api: PlaygroundApi | undefined;
  const stack = useStack({
    name: 'dutch',
    users: ['megan'],
    configPaths: { megan: REPO_PLAYGROUND_CONFIG },
    setupTimeoutMs: 120_000,
    async setup(running) {
      await openPlayground(running.page('megan'), running.playground('megan').url);
      api = await running.connect('megan');
    },
  });

  /** Megan types `text` in her personal chat, with a Dutch client. */
  async function say(text: string): Promise<void> {
    const chat = api!.config.personalChat.id;
    await api!.sendCustomActivity(await api!.messageFrom(api!.config.currentUser, text, chat, DUTCH));
  }

  /** Megan clicks the Action.Submit titled `title` on the card of `message`, with these inputs, with a Dutch client. */
  async function click(message: StreamMessage, title: string, inputs: Record<string, string> = {}): Promise<void> {
    const action = cardActions(cardOf(message)!).find((a) => a.type === 'Action.Submit' && a.title === title);
    assert.ok(action, `the card has a button '${title}': ${JSON.stringify(cardOf(message))}`);
    const chat = api!.config.personalChat.id;
    const activity = await api!.messageFrom(api!.config.currentUser, '', chat, {
      ...DUTCH,
      replyToId: message.messageId,
      value: { ...(action.data ?? {}), ...inputs },
    });
    delete activity.text;
    await api!.sendCustomActivity(activity);
  }

  async function card(since: number, text: string | RegExp): Promise<MessageEvent> {
    return api!.waitForMessage((e) => messageContains(e.message, text), { since, timeoutMs: 30_000 });
  }

  it('invites a guest with every card in Dutch', async function () {
    const page = stack.page('megan');

    let mark = api!.mark();
    await say('gast uitnodigen');
    const appCard = await card(
      mark,
      'Welke app wilt u delen met een externe gast? Dit zijn de apps met een toegangsgroep waarvan u eigenaar bent.',
    );
    assert.ok(messageContains(appCard.message, 'Volgende') && messageContains(appCard.message, 'Annuleren'));
    await waitForBotMessage(page, 'Welke app wilt u delen');
    await screenshot(page, 'dutch-01-app-card');

    const wiki = JSON.stringify(cardOf(appCard.message)).match(/"title":"Contoso Wiki","value":"([^"]+)"/)?.[1];
    assert.ok(wiki, 'Contoso Wiki is offered');
    mark = api!.mark();
    await click(appCard.message, 'Volgende', { appId: wiki });
    const groupCard = await card(
      mark,
      'Contoso Wiki geeft toegang via meerdere groepen waarvan u eigenaar bent. Aan welke groep moet de gast worden toegevoegd?',
    );
    await waitForBotMessage(page, 'Aan welke groep moet de gast worden toegevoegd?');
    await screenshot(page, 'dutch-02-group-card');

    const readers = JSON.stringify(cardOf(groupCard.message)).match(
      /"title":"Wiki Partner Readers","value":"([^"]+)"/,
    )?.[1];
    assert.ok(readers, 'Wiki Partner Readers is offered');
    mark = api!.mark();
    await click(groupCard.message, 'Volgende', { groupId: readers });
    const details = await card(mark, 'De gast wordt lid van Wiki Partner Readers en krijgt toegang tot Contoso Wiki.');
    assert.ok(
      messageContains(details.message, 'E-mailadres van de gast') &&
        messageContains(details.message, 'Welkomstbericht (optioneel)'),
    );
    await waitForBotMessage(page, 'De gast wordt lid van Wiki Partner Readers');
    await screenshot(page, 'dutch-03-details-card');

    mark = api!.mark();
    await click(details.message, 'Controleren', { email: GUEST_EMAIL, message: 'Welkom bij de wiki!' });
    const confirm = await card(mark, 'Deze uitnodiging versturen?');
    assert.ok(
      messageContains(
        confirm.message,
        'De gast krijgt een uitnodigingsmail van Microsoft en wordt direct aan de groep toegevoegd.',
      ),
    );
    await waitForBotMessage(page, 'Deze uitnodiging versturen?');
    await screenshot(page, 'dutch-04-confirmation');

    mark = api!.mark();
    await click(confirm.message, 'Uitnodiging versturen');
    const result = await card(mark, 'Gast uitgenodigd');
    assert.ok(messageContains(result.message, `${GUEST_EMAIL} is uitgenodigd en toegevoegd aan Wiki Partner Readers.`));
    assert.ok(!messageContains(result.message, /Guest invited|was invited/), 'no English left on the result');
    await waitForBotMessage(page, 'Gast uitgenodigd', 30_000);
    await screenshot(page, 'dutch-05-result');

    const invitation = stack.simulator.requests().find((e) => e.method === 'POST' && /\/invitations$/.test(e.url));
    assert.equal(
      (invitation?.requestBody as { invitedUserMessageInfo?: { messageLanguage?: string } }).invitedUserMessageInfo
        ?.messageLanguage,
      'nl-NL',
    );
  });
});
