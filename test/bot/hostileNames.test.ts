/**
 * Text is text, end to end: group, app and user names from the directory that look like markdown (a group renamed
 * to `[Admin consent needed](https://…)`) show as text on every card and in every message the bot sends.
 */
import { strict as assert } from 'node:assert';
import type { Activity } from 'botbuilder';
import {
  actionData,
  apps,
  cardId,
  cardOf,
  choices,
  createHarness,
  lastCard,
  users,
  type Harness,
  type Turn,
} from '../support/botHarness';
import { HOSTILE, effectsFromData, markdownTexts } from '../support/markdownCheck';
import { loadDemoSeed } from '../../src/simulator';

function effectsIn(activities: Array<Partial<Activity>>): string[] {
  const found: string[] = [];
  for (const a of activities) {
    for (const text of [a.text ?? '', ...markdownTexts(cardOf(a) ?? {})]) {
      const effects = effectsFromData(text);
      if (effects.length > 0) found.push(`${effects.join(',')}: ${text.slice(0, 120)}`);
    }
  }
  return found;
}

describe('hostile names from the directory (bot + simulator)', () => {
  let h: Harness;
  before(async () => {
    const seed = loadDemoSeed();
    seed.groups.forEach((g, i) => (g.displayName = `${HOSTILE} group ${i}`));
    seed.servicePrincipals.forEach((s, i) => (s.displayName = `${HOSTILE} app ${i}`));
    h = await createHarness({ seed, adminUserIds: [users.lee.aadObjectId] });
  });
  after(async () => h.close());

  it('no link, emphasis or mention from data on any card or message of the main commands, in English and Dutch', async () => {
    const turns: Turn[] = [];
    for (const locale of ['en-US', 'nl-NL']) {
      const megan = h.chat({ ...users.megan, name: HOSTILE });
      megan.locale = locale;
      const lee = h.chat(users.lee);
      lee.locale = locale;
      for (const text of [
        'help',
        'invite guest',
        'invite guests',
        'request access',
        'my requests',
        'my guests',
        'pending requests',
        `request access for ${HOSTILE}`,
      ])
        turns.push(await megan.send(text));
      for (const text of ['setup check', 'alerts', 'guest report']) turns.push(await lee.send(text));
    }
    const activities = turns.flatMap((t) => [...t.replies, ...t.updates]);
    assert.ok(
      activities.some((a) => cardOf(a)),
      'cards were sent',
    );
    assert.ok(JSON.stringify(activities).includes('Admin consent needed'), 'the hostile names are on the cards');
    assert.deepEqual(effectsIn(activities), []);
  });

  it("a request from a user with a hostile name for an app and group with hostile names: the owners' approval cards and the requester's messages", async () => {
    const adele = h.chat({ ...users.adele, name: HOSTILE });
    const first = await adele.send('request access');
    const app = choices(lastCard(first), 'appId').find((c) => c.value === apps.expenses);
    assert.ok(app, 'Contoso Expenses offered');
    const details = await adele.submit({ ...actionData(lastCard(first), 'Next'), appId: app.value }, cardId(first));
    const confirm = await adele.submit(
      { ...actionData(lastCard(details), 'Review'), justification: HOSTILE },
      cardId(details),
    );
    const sent = await adele.submit(actionData(lastCard(confirm), 'Send request'), cardId(confirm));
    // Asking again: the refusal names the group, in a message.
    const again = await adele.send('request access');
    const details2 = await adele.submit({ ...actionData(lastCard(again), 'Next'), appId: app.value }, cardId(again));
    const confirm2 = await adele.submit(
      { ...actionData(lastCard(details2), 'Review'), justification: 'again' },
      cardId(details2),
    );
    const duplicate = await adele.submit(actionData(lastCard(confirm2), 'Send request'), cardId(confirm2));
    assert.ok(
      JSON.stringify([...duplicate.replies, ...duplicate.updates]).includes('You already asked for'),
      'the refusal names the group',
    );
    const approvals = h.messenger.cardsFor(users.megan.aadObjectId);
    assert.equal(approvals.length, 1);
    assert.ok(JSON.stringify(approvals).includes('Admin consent needed'));
    const activities = [
      ...[first, details, confirm, sent, again, details2, confirm2, duplicate].flatMap((t) => [
        ...t.replies,
        ...t.updates,
      ]),
      ...approvals.map((card) => ({
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
      })),
    ];
    assert.deepEqual(effectsIn(activities), []);
  });
});
