/**
 * The guest lifecycle end to end: the bot as its own process, the Graph tenant simulator, the Microsoft 365 Agents
 * Playground in Chromium, as the demo tenant's Megan Bowen: invite → `my guests` shows the guest pending with Megan
 * as sponsor → resend (a second resend within RESEND_COOLDOWN is refused) → the guest redeems (simulator) → shown
 * as accepted → removed from the group. Screenshots of every step go to test-results/.
 */
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { validateLog } from '../support/graphContract';
import {
  REPO_PLAYGROUND_CONFIG,
  clickButton,
  nextCard,
  openPlayground,
  screenshot,
  selectChoice,
  sendMessage,
  typeInto,
  useStack,
  waitForBotMessage,
} from './support';

const WIKI_PARTNER_READERS = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c03';
const GUEST = 'lifecycle.guest@adatum.com';

/**
 * Chooses GUEST in the card's Guest list (a compact Input.ChoiceSet, a <select> in the web client), then clicks the
 * button `title` under it (Resend and Remove act on the chosen guest).
 */
async function clickGuestButton(card: Locator, title: string): Promise<void> {
  // The Playground draws a compact ChoiceSet as a Fluent combobox (an input named by its placeholder) and options.
  await card.locator('input[role="combobox"][placeholder="Choose a guest"]').last().click();
  await card.page().getByRole('option', { name: GUEST }).last().click();
  await card.locator(`button[title="${title}"]`).last().click();
}

describe('Guest lifecycle in the Agents Playground, as Megan Bowen @e2e', function () {
  this.timeout(120_000);
  const stack = useStack({
    name: 'guests',
    users: ['megan'],
    configPaths: { megan: REPO_PLAYGROUND_CONFIG },
    setupTimeoutMs: 120_000,
    async setup(running) {
      await openPlayground(running.page('megan'), running.playground('megan').url);
    },
  });

  it('invite, my guests (pending, sponsor), resend once per cooldown, accepted, remove', async function () {
    const page = stack.page('megan');
    const graph = stack.simulator.graphBaseUrl;

    await sendMessage(page, 'invite guest');
    const appCard = await nextCard(page, { choice: 'Contoso Wiki', button: 'Next' });
    await selectChoice(appCard, 'Contoso Wiki');
    await clickButton(appCard, 'Next');
    const groupCard = await nextCard(page, { choice: 'Wiki Partner Readers', button: 'Next' });
    await selectChoice(groupCard, 'Wiki Partner Readers');
    await clickButton(groupCard, 'Next');
    const details = await nextCard(page, { label: 'Guest email', button: 'Review' });
    await typeInto(details, 'Guest email', GUEST);
    await clickButton(details, 'Review');
    await clickButton(await nextCard(page, { button: 'Send invitation' }), 'Send invitation');
    await waitForBotMessage(page, 'Guest invited', 30_000);
    await screenshot(page, 'guests-01-invited');

    await sendMessage(page, 'my guests');
    const list = await nextCard(page, { text: GUEST, button: 'Resend invitation' }, 20_000);
    const listText = await list.innerText();
    assert.match(listText, /Pending acceptance since/);
    assert.match(listText, /Invited by Megan Bowen/);
    assert.match(listText, /Sponsor: Megan Bowen/);
    await screenshot(page, 'guests-02-my-guests-pending');

    await clickGuestButton(list, 'Resend invitation');
    const resent = await waitForBotMessage(page, `I sent the invitation to ${GUEST} again`, 20_000);
    await screenshot(page, 'guests-03-resent');
    // The card was replaced in place by the invoke's answer: its new buttons are in the same message.
    await clickGuestButton(resent, 'Resend invitation');
    await waitForBotMessage(page, 'resent less than 24 hours ago', 20_000);
    await screenshot(page, 'guests-04-resend-refused');
    const invitations = stack.simulator
      .requests()
      .filter(
        (r) =>
          r.method === 'POST' && r.url.endsWith('/invitations') && JSON.stringify(r.requestBody ?? '').includes(GUEST),
      );
    assert.equal(invitations.length, 2, 'the invitation and one resend');

    const user = (await (
      await fetch(`${graph}/users?$filter=mail eq '${GUEST}'&$select=id`, { headers: { Authorization: 'Bearer test' } })
    ).json()) as { value: Array<{ id: string }> };
    const guestId = user.value[0].id;
    assert.equal(
      (await fetch(`${stack.simulator.url}/_simulator/users/${guestId}/redeem`, { method: 'POST' })).status,
      200,
    );

    await sendMessage(page, 'my guests');
    const accepted = await nextCard(
      page,
      { text: /Accepted [A-Z][a-z]{2} \d{1,2}, \d{4}/, button: 'Remove from group' },
      20_000,
    );
    assert.ok((await accepted.innerText()).includes(GUEST));
    await screenshot(page, 'guests-05-accepted');

    await clickGuestButton(accepted, 'Remove from group');
    const confirm = await waitForBotMessage(page, `Remove ${GUEST} from Wiki Partner Readers?`, 20_000);
    assert.match(await confirm.innerText(), /They lose access to Contoso Wiki/);
    await screenshot(page, 'guests-06-confirm-remove');
    await clickButton(confirm, 'Remove');
    await waitForBotMessage(page, `${GUEST} was removed from Wiki Partner Readers`, 30_000);
    await screenshot(page, 'guests-07-removed');

    const members = (await (
      await fetch(`${graph}/groups/${WIKI_PARTNER_READERS}/members?$select=id`, {
        headers: { Authorization: 'Bearer test' },
      })
    ).json()) as { value: Array<{ id: string }> };
    assert.ok(!members.value.some((m) => m.id === guestId), 'the group no longer has the guest');
    assert.deepEqual(validateLog(stack.simulator.requests()), []);
  });
});
