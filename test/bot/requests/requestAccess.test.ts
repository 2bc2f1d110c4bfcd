import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  actionData,
  apps,
  cardId,
  cardText,
  choices,
  createHarness,
  groups,
  lastCard,
  requestExpenses,
  textOf,
  users,
  type Harness,
} from '../../support/botHarness';
import { validateLog } from '../../support/graphContract';

function memberWrites(h: Harness): string[] {
  return h.sim
    .requests()
    .filter((r) => r.method === 'POST' && r.url.includes('/members/$ref'))
    .map((r) => r.url);
}

async function members(h: Harness, groupId: string): Promise<string[]> {
  const res = await h.graph<{ value: Array<{ id: string }> }>(`/groups/${groupId}/members?$select=id`);
  return res.body.value.map((m) => m.id);
}

describe('membership requests decided by group owners (bot + domain + Graph client + simulator)', () => {
  let h: Harness;
  let now: number;
  let dir: string;

  beforeEach(async () => {
    now = Date.parse('2026-11-24T09:00:00Z');
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-requests-'));
    h = await createHarness({ clock: () => new Date(now), storePath: path.join(dir, 'bot.sqlite') });
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
  });

  it('offers the self-service apps the requester does not reach yet', async () => {
    const adele = lastCard(await h.chat(users.adele).send('request access'));
    assert.deepEqual(
      choices(adele, 'appId').map((c) => c.title),
      ['Contoso Expenses', 'Contoso Wiki', 'Sales Insights'],
    );
    const alex = lastCard(await h.chat(users.alex).send('request access'));
    assert.ok(
      !choices(alex, 'appId').some((c) => c.title === 'Contoso Expenses'),
      'Alex is in the Expenses group already',
    );
  });

  it('sends a request to every owner, who approves it: one membership write, every card final, requester told once', async () => {
    const sent = await requestExpenses(h.chat(users.adele));
    const sentText = textOf(sent);
    assert.match(sentText, /Request sent/);
    assert.match(sentText, /Megan Bowen and Alex Wilber decide/);
    const [request] = await h.store.requests.listByRequester(
      users.adele.aadObjectId ? '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01' : '',
      users.adele.aadObjectId,
      5,
    );
    assert.equal(request.state, 'pending');
    assert.deepEqual([...request.ownerIds].sort(), [users.megan.aadObjectId, users.alex.aadObjectId].sort());
    assert.equal(h.messenger.cardsFor(users.megan.aadObjectId).length, 1);
    const pendingCard = h.messenger.cardsFor(users.alex.aadObjectId)[0];
    assert.match(cardText(pendingCard), /Quarterly audit of partner expenses/);
    assert.deepEqual(
      (pendingCard.actions as Array<{ title: string; type: string }>).map((a) => `${a.type}:${a.title}`),
      ['Action.Execute:Approve', 'Action.Execute:Deny'],
    );
    assert.deepEqual(memberWrites(h), []);

    const response = await h
      .chat(users.megan)
      .invoke('request.approve', { requestId: request.id, comment: 'Welcome aboard' });
    assert.match(cardText(response), /Approved by Megan Bowen/);
    assert.match(cardText(response), /Adele Vance was added to Expenses External Reviewers/);
    assert.equal((response?.actions as unknown[]).length, 0);
    assert.ok((await members(h, groups.expenses)).includes(users.adele.aadObjectId));
    assert.equal(memberWrites(h).length, 1);
    for (const card of [...h.messenger.cards.values()])
      assert.match(cardText(card.card), /Approved by Megan Bowen .*Welcome aboard/s);
    assert.deepEqual(
      h.messenger.notices.map((n) => `${n.event}:${n.state}`),
      ['decided:approved'],
    );
    const actions = (await h.store.audit.list({ operationId: request.id })).map((e) => e.action).sort();
    assert.deepEqual(actions, ['membership.added', 'request.approved', 'request.created']);
  });

  it('two owners approving at the same moment: exactly one Graph write, the same final card for both, one notice', async () => {
    await requestExpenses(h.chat(users.adele));
    const [request] = await h.requests.listPendingForOwner({
      tenantId: '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      userId: users.megan.aadObjectId,
      displayName: 'Megan Bowen',
    });
    const [a, b] = await Promise.all([
      h.chat(users.megan).invoke('request.approve', { requestId: request.id }),
      h.chat(users.alex).invoke('request.approve', { requestId: request.id }),
    ]);
    assert.equal(memberWrites(h).length, 1);
    const final = (await h.store.requests.get(request.id))!;
    assert.equal(final.state, 'approved');
    const expected = new RegExp(`Approved by ${final.decidedByName}`);
    assert.match(cardText(a), expected);
    assert.match(cardText(b), expected);
    assert.match(cardText(a), /was added to/);
    assert.match(cardText(b), /was added to/);
    for (const card of h.messenger.cards.values()) assert.match(cardText(card.card), expected);
    assert.equal(h.messenger.notices.length, 1);
  });

  it('a stale card (already decided) returns the decided card and runs nothing twice', async () => {
    await requestExpenses(h.chat(users.adele));
    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      1,
    );
    await h.chat(users.megan).invoke('request.deny', { requestId: request.id, comment: 'Not this quarter' });
    const late = await h.chat(users.alex).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(late), /Denied by Megan Bowen/);
    assert.match(cardText(late), /Not this quarter/);
    assert.equal((await h.store.requests.get(request.id))?.state, 'denied');
    assert.deepEqual(memberWrites(h), []);
    assert.deepEqual(
      h.messenger.notices.map((n) => n.state),
      ['denied'],
    );
  });

  it('refuses self-approval and a forged decision by a non-owner carrying a real request id', async () => {
    await requestExpenses(h.chat(users.adele));
    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      1,
    );
    const self = await h.chat(users.adele).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(self), /cannot decide on your own request/);
    const forged = await h.chat(users.lee).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(forged), /not an owner of Expenses External Reviewers/);
    const unknownVerb = await h.chat(users.megan).invoke('request.approveAll', { requestId: request.id });
    assert.match(cardText(unknownVerb), /cannot accept/);
    const badId = await h.chat(users.megan).invoke('request.approve', { requestId: { $ne: null } });
    assert.match(cardText(badId), /cannot accept/);
    assert.equal((await h.store.requests.get(request.id))?.state, 'pending');
    assert.deepEqual(memberWrites(h), []);
    const refusals = (await h.store.audit.list({ action: 'request.decision.refused' })).map((e) => e.outcome).sort();
    assert.deepEqual(refusals, ['notOwner', 'selfDecision']);
  });

  it('refuses a duplicate request and asks again for an empty or too long reason', async () => {
    const adele = h.chat(users.adele);
    await requestExpenses(adele);
    const again = await requestExpenses(adele, 'Still need it');
    assert.match(textOf(again), /already asked for Expenses External Reviewers/);
    const first = await adele.send('request access to contoso wiki');
    const wiki = lastCard(first);
    assert.deepEqual(
      choices(wiki, 'groupId').map((c) => c.title),
      ['Wiki Partner Editors', 'Wiki Partner Readers'],
    );
    const details = await adele.submit(
      { ...actionData(wiki, 'Next'), groupId: choices(wiki, 'groupId')[1].value },
      cardId(first),
    );
    const empty = await adele.submit(
      { ...actionData(lastCard(details), 'Review'), justification: '   ' },
      cardId(details),
    );
    assert.match(cardText(lastCard(empty)), /Say briefly why you need access/);
    const long = await adele.submit(
      { ...actionData(lastCard(empty), 'Review'), justification: 'x'.repeat(501) },
      cardId(empty),
    );
    assert.match(cardText(lastCard(long)), /500 is the most/);
  });

  it('matches "request access to <app>" forgivingly and skips the app card', async () => {
    const turn = await h.chat(users.adele).send('Request access to  EXPENSES!');
    assert.match(cardText(lastCard(turn)), /Why do you need access\?/);
    const none = await h.chat(users.adele).send('request access to nothing-like-this');
    assert.match(textOf(none), /found no app called “nothing-like-this”/);
    assert.equal(choices(lastCard(none), 'appId').length, 3);
  });

  it("lists my requests and withdraws a pending one; the owners' cards show it", async () => {
    const adele = h.chat(users.adele);
    await requestExpenses(adele);
    const list = await adele.send('my requests');
    const card = lastCard(list);
    assert.match(cardText(card), /Contoso Expenses · Expenses External Reviewers/);
    assert.match(cardText(card), /Waiting for an owner/);
    const withdraw = JSON.stringify(card).match(/"verb":"request.withdraw","requestId":"([^"]+)"/);
    assert.ok(withdraw);
    const done = await adele.submit({ verb: 'request.withdraw', requestId: withdraw[1] }, cardId(list));
    assert.match(textOf(done), /Withdrawn by the requester/);
    assert.equal((await h.store.requests.get(withdraw[1]))?.state, 'withdrawn');
    for (const c of h.messenger.cards.values()) assert.match(cardText(c.card), /withdrawn/i);
    const stranger = await h.chat(users.lee).submit({ verb: 'request.withdraw', requestId: withdraw[1] });
    assert.match(textOf(stranger), /found no request of yours/);
  });

  it('tells the requester which owner could not be reached; the others can still decide', async () => {
    h.messenger.unreachable.add(users.alex.aadObjectId);
    const sent = await requestExpenses(h.chat(users.adele));
    assert.match(textOf(sent), /Megan Bowen decides/);
    assert.match(textOf(sent), /Could not reach Alex Wilber/);
    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      1,
    );
    assert.deepEqual(request.ownerCards.map((c) => `${c.ownerName}:${c.status}`).sort(), [
      'Alex Wilber:unreachable',
      'Megan Bowen:sent',
    ]);
    const response = await h.chat(users.megan).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(response), /Approved by Megan Bowen/);
  });

  it('reminds owners after REQUEST_REMIND_AFTER and expires after REQUEST_EXPIRE_AFTER, once even with two sweepers', async () => {
    await requestExpenses(h.chat(users.adele));
    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      1,
    );
    now += 47 * 3600_000;
    assert.deepEqual(await h.requests.sweep(), { reminded: 0, expired: 0 });
    now += 2 * 3600_000;
    const [one, two] = await Promise.all([h.requests.sweep(), h.requests.sweep()]);
    assert.equal(one.reminded + two.reminded, 1);
    const reminders = [...h.messenger.cards.values()].filter((c) => /Reminder/.test(cardText(c.card)));
    assert.equal(reminders.length, 2, 'one reminder card per owner');
    now += 14 * 24 * 3600_000;
    const [x, y] = await Promise.all([h.requests.sweep(), h.requests.sweep()]);
    assert.equal(x.expired + y.expired, 1);
    assert.equal((await h.store.requests.get(request.id))?.state, 'expired');
    assert.deepEqual(
      h.messenger.notices.map((n) => n.event),
      ['expired'],
    );
    for (const c of h.messenger.cards.values()) assert.match(cardText(c.card), /Expired without a decision/);
  });

  it('pending requests re-sends the waiting cards to the owner', async () => {
    await requestExpenses(h.chat(users.adele));
    const turn = await h.chat(users.megan).send('pending requests');
    assert.match(textOf(turn), /1 request is waiting for your decision/);
    assert.equal(h.messenger.cardsFor(users.megan.aadObjectId).length, 2);
    assert.match(textOf(await h.chat(users.lee).send('pending requests')), /No request is waiting/);
  });

  it('a request made before a restart can be approved after it', async () => {
    await requestExpenses(h.chat(users.adele));
    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      1,
    );
    const simulatorState = await members(h, groups.expenses);
    await h.close();
    h = await createHarness({ clock: () => new Date(now), storePath: path.join(dir, 'bot.sqlite') });
    assert.deepEqual(await members(h, groups.expenses), simulatorState);
    const response = await h.chat(users.alex).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(response), /Approved by Alex Wilber/);
    assert.ok((await members(h, groups.expenses)).includes(users.adele.aadObjectId));
    assert.equal(apps.expenses.length, 36);
  });
});
