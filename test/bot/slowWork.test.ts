import { strict as assert } from 'node:assert';
import {
  actionData,
  cardId,
  cardText,
  createHarness,
  groups,
  lastCard,
  requestExpenses,
  textOf,
  toConfirmation,
  users,
  TENANT_ID,
  type Harness,
  type HarnessOptions,
} from '../support/botHarness';
import { validateLog } from '../support/graphContract';
import type { AccessRequestRecord } from '../../src/store/store';

function memberWrites(h: Harness): number {
  return h.sim.requests().filter((r) => r.method === 'POST' && r.url.includes('/members/$ref')).length;
}

async function memberIds(h: Harness, groupId: string): Promise<string[]> {
  const res = await h.graph<{ value: Array<{ id: string }> }>(`/groups/${groupId}/members?$select=id`);
  return res.body.value.map((m) => m.id);
}

/** Adele's pending request for Contoso Expenses and the activity id of Megan's copy of the approval card. */
async function pendingRequest(h: Harness): Promise<{ request: AccessRequestRecord; meganCard: string }> {
  await requestExpenses(h.chat(users.adele));
  const [request] = await h.store.requests.listByRequester(TENANT_ID, users.adele.aadObjectId, 1);
  const meganCard = [...h.messenger.cards.entries()].find(([, c]) => c.ownerId === users.megan.aadObjectId)?.[0];
  assert.ok(meganCard);
  return { request, meganCard };
}

describe('slow directory writes: turns answer in time, cards are updated when the work ends', () => {
  let h: Harness;
  let now: number;
  const start = (options: HarnessOptions = {}): Promise<Harness> =>
    createHarness({ clock: () => new Date(now), ...options });

  beforeEach(() => {
    now = Date.parse('2026-11-24T09:00:00Z');
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    assert.deepEqual(problems, []);
  });

  it('an approval slower than the invoke deadline is answered "working on it"; the clicked card gets the outcome later', async () => {
    h = await start({ invokeDeadlineMs: 50 });
    const { request, meganCard } = await pendingRequest(h);
    h.sim.setFaults({ rules: [{ method: 'POST', path: '/groups/*/members/$ref', latencyMs: 600 }] });

    const began = Date.now();
    const response = await h.chat(users.megan).invoke('request.approve', { requestId: request.id }, meganCard);
    const answeredInMs = Date.now() - began;
    assert.match(cardText(response), /Working on it/);
    assert.ok(answeredInMs < 600, `the invoke was answered before the membership write ended (${answeredInMs} ms)`);
    assert.equal(h.cardUpdates.length, 0, 'nothing is updated before the work ends');

    assert.equal(await h.background.drain(10_000), true);
    const late = h.cardUpdates.filter((u) => u.activityId === meganCard);
    assert.equal(late.length, 1);
    assert.match(cardText(late[0].card), /Approved by Megan Bowen/);
    assert.match(cardText(late[0].card), /Adele Vance was added to Expenses External Reviewers/);
    assert.equal(memberWrites(h), 1);
    assert.ok((await memberIds(h, groups.expenses)).includes(users.adele.aadObjectId));
    for (const card of h.messenger.cards.values()) assert.match(cardText(card.card), /Approved by Megan Bowen/);
    assert.deepEqual(
      h.messenger.notices.map((n) => n.state),
      ['approved'],
    );
  });

  it('an approval within the deadline is answered with the final card and nothing is deferred', async () => {
    h = await start({ invokeDeadlineMs: 5_000 });
    const { request, meganCard } = await pendingRequest(h);
    const response = await h
      .chat(users.megan)
      .invoke('request.deny', { requestId: request.id, comment: 'Not now' }, meganCard);
    assert.match(cardText(response), /Denied by Megan Bowen/);
    assert.equal(h.background.size, 0);
    assert.deepEqual(h.cardUpdates, []);
  });

  it('an invitation slower than the turn deadline ends the turn with "still working"; the card shows the outcome later', async () => {
    h = await start({ turnDeadlineMs: 50 });
    const chat = h.chat(users.megan);
    const confirm = await toConfirmation(chat, 'Contoso Expenses', null, 'slow.guest@adatum.com');
    h.sim.setFaults({ rules: [{ method: 'POST', path: '/invitations', latencyMs: 600 }] });
    const card = cardId(confirm);

    const turn = await chat.submit(actionData(lastCard(confirm), 'Send invitation'), card);
    assert.match(textOf(turn), /slow to answer right now/);
    assert.doesNotMatch(textOf(turn), /Guest invited/);

    assert.equal(await h.background.drain(10_000), true);
    assert.equal(h.cardUpdates.length, 1);
    assert.equal(h.cardUpdates[0].activityId, card);
    assert.match(cardText(h.cardUpdates[0].card), /Guest invited/);
    assert.match(cardText(h.cardUpdates[0].card), /slow\.guest@adatum\.com was invited and added/);
    const invitations = h.sim
      .requests()
      .filter((r) => r.method === 'POST' && r.url.endsWith('/invitations') && r.status === 201);
    assert.equal(invitations.length, 1);

    // The same click delivered again (Teams re-sends slow turns): the dialog has ended, nothing runs twice.
    const again = await chat.submit(actionData(lastCard(confirm), 'Send invitation'), card);
    assert.doesNotMatch(textOf(again), /Guest invited/);
    assert.equal(h.sim.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/invitations')).length, 1);
  });
});
