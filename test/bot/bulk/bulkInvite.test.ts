import { strict as assert } from 'node:assert';
import {
  actionData,
  cardId,
  cardOf,
  cardText,
  choices,
  createHarness,
  lastCard,
  TENANT_ID,
  users,
  type Harness,
  type UserChat,
} from '../../support/botHarness';
import { validateLog } from '../../support/graphContract';
import { isDirectoryWrite } from '../../support/graphLog';
import { progressCard } from '../../../src/bot/bulk/cards';
import { renderCardJson } from '../../../src/bot/cards';
import type { BulkSummary } from '../../../src/domain/bulk/model';
import { HourlyLimiter } from '../../../src/domain/shared/rateLimit';
import { localizer } from '../../../src/i18n';

/** `invite guests` → Contoso Expenses (one group) → the list card. */
async function toList(chat: UserChat): Promise<{ card: Record<string, unknown>; id: string }> {
  const first = await chat.send('invite guests');
  const appCard = lastCard(first);
  const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses')!;
  const list = await chat.submit({ ...actionData(appCard, 'Next'), appId: expenses.value }, cardId(first));
  return { card: lastCard(list), id: cardId(list) };
}

describe('invite guests (bulk): dialog, review and progress card', () => {
  let h: Harness;
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    assert.deepEqual(problems, []);
  });

  it('reviews the list before anything is sent, then invites, adds and shows the outcome per address on the same card', async () => {
    h = await createHarness();
    const chat = h.chat(users.megan);
    const list = await toList(chat);
    assert.match(cardText(list.card), /Guest email addresses/);
    const text = [
      'ana@adatum.com',
      'Bo Berg <bo@adatum.com>; jordan.rivera@fabrikam.com',
      'sam@northwindtraders.com',
      'not an address',
      'megan@contoso.com',
      'ana@adatum.com',
      'x@tailspintoys.com',
    ].join('\n');
    const reviewed = await chat.submit(
      { ...actionData(list.card, 'Check the list'), addresses: text, message: 'Welcome aboard' },
      list.id,
    );
    const review = lastCard(reviewed);
    const shown = cardText(review).replace(/\s+\|/g, ' |');
    for (const expected of [
      'Will be invited: | 3',
      'Already guests (only added): | 1',
      'Already members (skipped): | 1',
      'Lines that cannot be used: | 3',
      'duplicate in the list',
      'own domain',
      'checked when the invitations are sent',
    ]) {
      assert.ok(shown.includes(expected), `${expected} in ${shown}`);
    }
    assert.deepEqual(h.sim.requests().filter(isDirectoryWrite), [], 'nothing written before sending');

    const sent = await chat.submit(actionData(review, 'Send to 4 valid addresses'), cardId(reviewed));
    await h.background.drain(10_000);
    const updates = [...sent.updates.map((u) => cardOf(u)), ...h.cardUpdates.map((u) => u.card)];
    const final = updates[updates.length - 1]!;
    const finalText = cardText(final).replace(/\s+\|/g, ' |');
    assert.match(finalText, /Guests invited, with problems/);
    assert.match(finalText, /Done: \| 3/);
    assert.match(finalText, /x@tailspintoys\.com — refused/);
    assert.match(finalText, /jordan\.rivera@fabrikam\.com — added/);
    const counts = h.sim.invitationCounts();
    assert.deepEqual(
      [counts['ana@adatum.com'], counts['bo@adatum.com'], counts['jordan.rivera@fabrikam.com']],
      [1, 1, undefined],
    );
    const invites = h.sim.requests().filter((r) => r.method === 'POST' && r.url.includes('/invitations') && r.batchId);
    assert.ok(
      invites.every(
        (r) =>
          (r.requestBody as { invitedUserMessageInfo?: { customizedMessageBody?: string } }).invitedUserMessageInfo
            ?.customizedMessageBody === 'Welcome aboard',
      ),
    );
  });

  it('offers "Several guests" on the single invitation card, leading to the list', async () => {
    h = await createHarness();
    const chat = h.chat(users.megan);
    const first = await chat.send('invite guest');
    const appCard = lastCard(first);
    const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses')!;
    const details = await chat.submit({ ...actionData(appCard, 'Next'), appId: expenses.value }, cardId(first));
    const list = await chat.submit(actionData(lastCard(details), 'Several guests…'), cardId(details));
    assert.match(cardText(lastCard(list)), /Guest email addresses/);
  });

  it('hourly limit (INVITES_PER_USER_PER_HOUR): the review lists new addresses beyond the allowance as refused with when it frees up; only those that fit are invited', async () => {
    h = await createHarness({ actionsPerUserPerHour: 3 });
    const chat = h.chat(users.megan);
    const list = await toList(chat);
    const addresses =
      'a1@adatum.com, a2@adatum.com, jordan.rivera@fabrikam.com, a3@adatum.com, a4@adatum.com, a5@adatum.com';
    const reviewed = await chat.submit({ ...actionData(list.card, 'Check the list'), addresses }, list.id);
    const review = lastCard(reviewed);
    const shown = cardText(review).replace(/\s+\|/g, ' |');
    for (const expected of [
      'Will be invited: | 3',
      'Already guests (only added): | 1',
      'Over your hourly limit (not sent): | 2',
      'You may send 3 more new invitations this hour (the limit is 3 an hour)',
    ]) {
      assert.ok(shown.includes(expected), `${expected} in ${shown}`);
    }
    assert.match(
      shown,
      /5\. a4@adatum\.com — over your limit of 3 new invitations an hour; it frees up in \d+ minutes?/,
    );
    assert.match(shown, /6\. a5@adatum\.com — over your limit/);
    // The existing guest is only added: it does not use the allowance.
    await chat.submit(actionData(review, 'Send to 4 valid addresses'), cardId(reviewed));
    await h.background.drain(10_000);
    const counts = h.sim.invitationCounts();
    assert.deepEqual(
      ['a1@adatum.com', 'a2@adatum.com', 'a3@adatum.com', 'a4@adatum.com', 'a5@adatum.com'].map((a) => counts[a]),
      [1, 1, 1, undefined, undefined],
    );

    // The allowance is used up: a new check refuses every new address and offers nothing to send.
    const again = await toList(chat);
    const second = lastCard(
      await chat.submit({ ...actionData(again.card, 'Check the list'), addresses: 'a4@adatum.com' }, again.id),
    );
    const secondText = cardText(second).replace(/\s+\|/g, ' |');
    assert.ok(
      secondText.includes('Will be invited: | 0') && secondText.includes('no more new invitations this hour'),
      secondText,
    );
    assert.ok(!/Send to/.test(secondText), 'no send button');
  });

  it('hourly limit: when the allowance shrank between the check and the send, nothing is sent', async () => {
    h = await createHarness({ actionsPerUserPerHour: 3 });
    const chat = h.chat(users.megan);
    const list = await toList(chat);
    const reviewed = await chat.submit(
      { ...actionData(list.card, 'Check the list'), addresses: 'a1@adatum.com, a2@adatum.com, a3@adatum.com' },
      list.id,
    );
    // Another invitation by the same owner in the meantime (e.g. from a second chat).
    assert.ok(await new HourlyLimiter(h.store.state, 3).take('invite', TENANT_ID, users.megan.aadObjectId));
    const sent = await chat.submit(actionData(lastCard(reviewed), 'Send to 3 valid addresses'), cardId(reviewed));
    assert.match(
      cardText(cardOf(sent.updates[sent.updates.length - 1]) ?? lastCard(sent)),
      /changed since the list was checked \(2 left\)\. Nothing was sent/,
    );
    assert.deepEqual(h.sim.requests().filter(isDirectoryWrite), []);
  });

  it('renders the review card in Dutch for an nl-NL activity, and the progress card updated after it', async () => {
    h = await createHarness();
    const chat = h.chat(users.megan);
    chat.locale = 'nl-NL';
    const first = await chat.send('gasten uitnodigen');
    const appCard = lastCard(first);
    const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses')!;
    const list = await chat.submit({ ...actionData(appCard, 'Volgende'), appId: expenses.value }, cardId(first));
    const listCard = lastCard(list);
    assert.match(cardText(listCard), /E-mailadressen van de gasten/);
    const reviewed = await chat.submit(
      {
        ...actionData(listCard, 'Lijst controleren'),
        addresses: 'ana@adatum.com\nana@adatum.com\nmegan@contoso.com\ngeen adres',
      },
      cardId(list),
    );
    const shown = cardText(lastCard(reviewed)).replace(/\s+\|/g, ' |');
    for (const expected of [
      'Gasten uitnodigen',
      'Worden uitgenodigd: | 1',
      'Onbruikbare regels: | 3',
      'staat al eerder in de lijst',
      'het eigen domein van uw organisatie',
      'Dat is geen e-mailadres',
      'Versturen naar 1 geldig adres',
      'Annuleren',
    ]) {
      assert.ok(shown.includes(expected), `${expected} in ${shown}`);
    }
    assert.doesNotMatch(shown, /Will be invited|Check the list|duplicate/);

    // The progress card, updated in place after the send, follows the owner's stored locale.
    const sent = await chat.submit(actionData(lastCard(reviewed), 'Versturen naar 1 geldig adres'), cardId(reviewed));
    await h.background.drain(10_000);
    const updates = [...sent.updates.map((u) => cardOf(u)), ...h.cardUpdates.map((u) => u.card)];
    const finalText = cardText(updates[updates.length - 1]!).replace(/\s+\|/g, ' |');
    assert.match(finalText, /^Gasten uitgenodigd \| Klaar: \| 1/);
    assert.match(finalText, /ana@adatum\.com — uitgenodigd en toegevoegd/);
    // invitedusermessageinfo.md: Microsoft's invitation email in the inviting owner's language
    const invitation = h.sim.requests().find((r) => r.method === 'POST' && r.url.includes('/invitations') && r.batchId);
    assert.deepEqual((invitation?.requestBody as { invitedUserMessageInfo?: unknown }).invitedUserMessageInfo, {
      messageLanguage: 'nl-NL',
    });
  });
});

describe('bulk progress card', () => {
  it('pages a long outcome in the client (Action.ToggleVisibility), problems first', () => {
    const summary: BulkSummary = {
      kind: 'bulk',
      operationId: 'bulk:x',
      status: 'finished',
      app: { id: 'a', displayName: 'App' },
      group: { id: 'g', displayName: 'Group' },
      message: null,
      entries: Array.from({ length: 120 }, (_, i) => ({
        address: `g${i}@adatum.com`,
        state: i === 110 ? 'refused' : 'added',
        invited: true,
        detail: i === 110 ? 'blocked' : undefined,
      })),
    };
    const card = progressCard(localizer({ locale: 'en-US' }), summary).content as {
      body: Array<{ type: string; id?: string; isVisible?: boolean; items?: unknown[] }>;
    };
    const pages = card.body.filter((b) => b.id?.startsWith('bulk-page-'));
    assert.deepEqual(
      pages.map((p) => [p.id, p.isVisible]),
      [
        ['bulk-page-0', true],
        ['bulk-page-1', false],
        ['bulk-page-2', false],
      ],
    );
    assert.match(cardText(pages[0]), /^Page 1 of 3 \| g110@adatum\.com — refused: blocked/);
    assert.ok(
      JSON.stringify(card).length < 28_000,
      'well under the 100 KB message limit (and under 28 KB for Teams cards)',
    );
    const running = renderCardJson(
      'bulk-progress',
      { title: 't', color: 'Default', facts: [], pages: [], note: '' },
      localizer({ locale: 'en-US' }),
    );
    assert.equal((running.body as unknown[]).length, 1);
  });
});
