/**
 * `invite guests` end to end in the Microsoft 365 Agents Playground (Chromium), as Megan Bowen: 25 addresses pasted
 * into the list, the review card, then the progress card updated in place until its final state.
 */
import assert from 'node:assert/strict';
import { validateLog } from '../support/graphContract';
import {
  type PlaygroundApi,
  REPO_PLAYGROUND_CONFIG,
  clickButton,
  messageContains,
  nextCard,
  openPlayground,
  screenshot,
  selectChoice,
  sendMessage,
  typeInto,
  useStack,
} from './support';

const ADDRESSES = Array.from({ length: 25 }, (_, i) => `playground.bulk.${i}@adatum.com`);

describe('invite guests (bulk) in the Agents Playground, as Megan Bowen @e2e', function () {
  this.timeout(120_000);
  let api: PlaygroundApi | undefined;
  const stack = useStack({
    name: 'bulk-invite',
    users: ['megan'],
    configPaths: { megan: REPO_PLAYGROUND_CONFIG },
    botEnv: { INVITES_PER_USER_PER_HOUR: '100' },
    setupTimeoutMs: 120_000,
    async setup(running) {
      await openPlayground(running.page('megan'), running.playground('megan').url);
      api = await running.connect('megan');
    },
  });

  it('pastes 25 addresses, reviews them and sees the progress card reach its final state', async function () {
    const page = stack.page('megan');
    const streamStart = api!.mark();
    await sendMessage(page, 'invite guests');
    const appCard = await nextCard(page, { choice: 'Contoso Expenses', button: 'Next' });
    await selectChoice(appCard, 'Contoso Expenses');
    await clickButton(appCard, 'Next');

    const listCard = await nextCard(page, { label: 'Guest email addresses', button: 'Check the list' });
    await typeInto(listCard, 'Guest email addresses', ADDRESSES.join(', '));
    await screenshot(page, 'bulk-01-list');
    await clickButton(listCard, 'Check the list');

    const review = await nextCard(page, { button: 'Send to 25 valid addresses' });
    await screenshot(page, 'bulk-02-review');
    const reviewText = await review.innerText();
    assert.match(reviewText, /Will be invited:\s*25/);
    assert.deepEqual(
      stack.simulator.requests().filter((r) => r.method !== 'GET' && r.batchId && !r.url.includes('checkMemberGroups')),
      [],
      'nothing written before sending',
    );
    await clickButton(review, 'Send to 25 valid addresses');

    const final = await api!.waitForMessage(
      (e) => e.action === 'updateMessage' && messageContains(e.message, 'Guests invited'),
      { since: streamStart, timeoutMs: 60_000 },
    );
    assert.ok(messageContains(final.message, ADDRESSES[24]), 'the final card lists the outcome per address');
    await page.getByText('Guests invited', { exact: true }).last().waitFor({ timeout: 15_000 });
    await screenshot(page, 'bulk-03-final');
    const sent = stack.simulator.invitationCounts();
    for (const address of ADDRESSES) assert.equal(sent[address], 1, `one invitation for ${address}`);
    assert.deepEqual(validateLog(stack.simulator.requests()), []);
  });
});
