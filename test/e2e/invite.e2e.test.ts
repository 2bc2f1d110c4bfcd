/**
 * The whole product, end to end: the bot as its own process (node dist/src/index.js), the Graph tenant
 * simulator (in this process), the Microsoft 365 Agents Playground and its chat UI in Chromium, as the demo
 * tenant's Megan Bowen. Screenshots of every step go to test-results/.
 */
import assert from 'node:assert/strict';
import type { RequestLogEntry } from '../../src/simulator';
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
  waitForBotMessage,
} from './support';
import { isDirectoryWrite } from '../support/graphLog';

const WIKI_PARTNER_READERS = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c03';
const GUEST_EMAIL = 'pat.partner@adatum.com';
const WELCOME = 'Welcome to the wiki!\nSee you there.';

/** Members of a group with this mail, read through Graph (the simulator), following paging. */
async function membersWithMail(
  graphBaseUrl: string,
  groupId: string,
  mail: string,
): Promise<Array<{ id: string; mail: string | null }>> {
  const found: Array<{ id: string; mail: string | null }> = [];
  let next: string | undefined = `${graphBaseUrl}/groups/${groupId}/members?$select=id,mail`;
  while (next) {
    const res = await fetch(next, { headers: { Authorization: 'Bearer test' } });
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

/** True when `text` is one of the strings anywhere in `value` (JSON strings are looked into). */
function containsString(value: unknown, text: string): boolean {
  if (typeof value === 'string') {
    if (value.includes(text)) return true;
    try {
      return containsString(JSON.parse(value) as unknown, text);
    } catch {
      return false;
    }
  }
  if (Array.isArray(value)) return value.some((v) => containsString(v, text));
  if (value && typeof value === 'object') return Object.values(value).some((v) => containsString(v, text));
  return false;
}

/**
 * Requests that can change the directory. A `POST /$batch` is only an envelope: the simulator logs each of
 * its sub-requests as an entry of its own (with `batchId`), so those are what is checked.
 */
const writes = (entries: RequestLogEntry[]) => entries.filter(isDirectoryWrite);

describe('Guest Invite in the Agents Playground, as Megan Bowen @e2e', function () {
  this.timeout(90_000);
  let api: PlaygroundApi | undefined;
  const stack = useStack({
    name: 'invite',
    users: ['megan'],
    configPaths: { megan: REPO_PLAYGROUND_CONFIG },
    setupTimeoutMs: 120_000,
    async setup(running) {
      await openPlayground(running.page('megan'), running.playground('megan').url);
      // the stream sees what the UI sees; it tells an update in place from a new message
      api = await running.connect('megan');
    },
  });

  it('cancels an invitation without touching the directory', async function () {
    const page = stack.page('megan');
    const logStart = stack.simulator.requests().length;

    await sendMessage(page, 'invite guest');
    await nextCard(page, { choice: 'Contoso Wiki', button: 'Next' });
    await screenshot(page, 'invite-cancel-01-app-card');

    await sendMessage(page, 'cancel');
    await waitForBotMessage(page, /cancell?ed/i);
    await screenshot(page, 'invite-cancel-02-cancelled');

    assert.deepEqual(await membersWithMail(stack.simulator.graphBaseUrl, WIKI_PARTNER_READERS, GUEST_EMAIL), []);
    const since = stack.simulator.requests().slice(logStart);
    assert.ok(
      since.some((e) => e.method === 'GET'),
      'the simulator logged the reads (so an empty write list means something)',
    );
    assert.deepEqual(
      writes(since).map((e) => `${e.method} ${e.url}`),
      [],
      'no Graph writes after a cancel',
    );
  });

  it('invites pat.partner@adatum.com into Wiki Partner Readers', async function () {
    const page = stack.page('megan');
    const streamStart = api!.mark();

    await sendMessage(page, 'invite guest');
    const appCard = await nextCard(page, { choice: 'Contoso Wiki', button: 'Next' });
    await screenshot(page, 'invite-01-app-card');
    await selectChoice(appCard, 'Contoso Wiki');
    await clickButton(appCard, 'Next');

    const groupCard = await nextCard(page, { choice: 'Wiki Partner Readers', button: 'Next' });
    await screenshot(page, 'invite-02-group-card');
    await selectChoice(groupCard, 'Wiki Partner Readers');
    await clickButton(groupCard, 'Next');

    const detailsCard = await nextCard(page, { label: 'Guest email', button: 'Review' });
    await screenshot(page, 'invite-03-details-card');
    await typeInto(detailsCard, 'Guest email', GUEST_EMAIL);
    await typeInto(detailsCard, 'Welcome message (optional)', WELCOME);
    await screenshot(page, 'invite-04-details-filled');
    await clickButton(detailsCard, 'Review');

    const confirmCard = await nextCard(page, { button: 'Send invitation' });
    await screenshot(page, 'invite-05-confirmation');
    const confirmText = await confirmCard.innerText();
    for (const expected of [
      'Contoso Wiki',
      'Wiki Partner Readers',
      GUEST_EMAIL,
      'Welcome to the wiki!',
      'See you there.',
    ]) {
      assert.ok(confirmText.includes(expected), `the confirmation shows '${expected}':\n${confirmText}`);
    }
    await clickButton(confirmCard, 'Send invitation');

    const result = await waitForBotMessage(page, 'Guest invited', 30_000);
    await screenshot(page, 'invite-06-result');
    assert.ok((await result.innerText()).includes(GUEST_EMAIL), 'the result names the guest');
    assert.equal(
      await page.locator('button[title="Send invitation"]').count(),
      0,
      'the confirmation card was replaced',
    );
    const update = await api!.waitForMessage(
      (e) => e.action === 'updateMessage' && messageContains(e.message, 'Guest invited'),
      {
        since: streamStart,
      },
    );
    assert.ok(messageContains(update.message, GUEST_EMAIL));

    const members = await membersWithMail(stack.simulator.graphBaseUrl, WIKI_PARTNER_READERS, GUEST_EMAIL);
    assert.equal(members.length, 1, `exactly one member with mail ${GUEST_EMAIL}: ${JSON.stringify(members)}`);
    assert.ok(
      stack.simulator.requests().some((e) => e.method === 'POST' && containsString(e.requestBody, WELCOME)),
      'the welcome message (with its line break) reached Graph',
    );
  });

  it('kept all Graph traffic within the v1.0 contract', function () {
    const entries = stack.simulator.requests();
    assert.ok(entries.length > 0);
    assert.deepEqual(validateLog(entries), []);
  });
});
