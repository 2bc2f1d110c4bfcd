/**
 * Guest reviews end to end: due reviews open one card per owner, decisions by owners, reminders and the default
 * after the grace period, and Keep all on a review of guests added by an approved request.
 */
import { strict as assert } from 'node:assert';
import {
  TENANT_ID,
  actionData,
  cardId,
  cardText,
  groups,
  lastCard,
  toConfirmation,
  users,
  type Harness,
} from '../../support/botHarness';
import { guestAction } from '../../support/guestCard';
import { validateLog } from '../../support/graphContract';
import { guestId, invite, memberIds, reviewHarness, type RecordingReviews } from '../../support/guestReviews';

const DAY = 86_400_000;

describe('guest reviews: due, decided, reminded and defaulted (bot + domain + Graph client + simulator)', () => {
  let h: Harness;
  let now: number;
  let reviews: RecordingReviews;

  beforeEach(async () => {
    now = Date.parse('2026-11-24T09:00:00Z');
    ({ h, reviews } = await reviewHarness(() => new Date(now), { adminUserIds: [users.patti.aadObjectId] }));
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    assert.deepEqual(problems, []);
  });

  it('a review comes due: one owner keeps a guest, the other removes another, and every owner card shows both', async () => {
    const megan = h.chat(users.megan);
    const alex = h.chat(users.alex);
    await megan.send('help');
    await alex.send('help');
    await invite(megan, 'keep.me@adatum.com');
    await invite(megan, 'drop.me@adatum.com');
    const keepId = await guestId(h, 'keep.me@adatum.com');
    const dropId = await guestId(h, 'drop.me@adatum.com');

    assert.deepEqual(await h.guestReview.sweep(), { opened: 0, reminded: 0, defaulted: 0 }, 'nothing due yet');
    now += 90 * DAY;
    h.sim.clearRequests();
    const swept = await h.guestReview.sweep();
    assert.equal(swept.opened, 2);
    assert.ok(
      h.sim.requests().length <= 20,
      `the sweep reads the catalog, not the guests (${h.sim.requests().length} requests)`,
    );
    const meganCard = reviews.latestFor(users.megan.aadObjectId);
    assert.match(cardText(meganCard), /Review: do these guests still need Expenses External Reviewers\?/);
    assert.match(cardText(reviews.latestFor(users.alex.aadObjectId)), /drop\.me@adatum\.com/);

    const keep = guestAction(meganCard, 'Keep', 'keep.me@adatum.com');
    const afterKeep = await megan.invoke(keep.verb, keep.data);
    assert.match(cardText(afterKeep), /keep\.me@adatum\.com kept by Megan Bowen/);
    assert.match(
      cardText(reviews.latestFor(users.alex.aadObjectId)),
      /keep\.me@adatum\.com kept by Megan Bowen/,
      "Alex's card shows Megan's decision",
    );

    const drop = guestAction(reviews.latestFor(users.alex.aadObjectId), 'Remove from group', 'drop.me@adatum.com');
    const afterDrop = await alex.invoke(drop.verb, drop.data);
    assert.match(cardText(afterDrop), /drop\.me@adatum\.com removed by Alex Wilber/);
    assert.match(cardText(reviews.latestFor(users.megan.aadObjectId)), /drop\.me@adatum\.com removed by Alex Wilber/);
    const members = await memberIds(h, groups.expenses);
    assert.ok(members.includes(keepId) && !members.includes(dropId));

    const late = await alex.invoke('review.keep', keep.data);
    assert.match(cardText(late), /already decided by Megan Bowen/);
    assert.equal((await h.store.audit.list({ action: 'review.stale' })).length, 1);
    const kept = await h.store.guests.get({ tenantId: TENANT_ID, groupId: groups.expenses, guestId: keepId });
    assert.equal(kept?.reviewState, 'none');
    assert.equal(kept?.lastKeptAt, new Date(now).toISOString(), 'the next review is due an interval after the keep');
    assert.deepEqual(
      (await h.store.audit.list({ action: 'review.decided' })).map((e) => `${e.outcome}:${e.actorName}`).sort(),
      ['keep:Megan Bowen', 'remove:Alex Wilber'],
    );
  });

  it('an unanswered review reminds halfway and removes by default after the grace period; owners and admins are told', async () => {
    const megan = h.chat(users.megan);
    await megan.send('help');
    await invite(megan, 'quiet.one@adatum.com');
    const id = await guestId(h, 'quiet.one@adatum.com');
    now += 90 * DAY;
    assert.equal((await h.guestReview.sweep()).opened, 1);
    now += 7 * DAY;
    assert.deepEqual(await h.guestReview.sweep(), { opened: 0, reminded: 2, defaulted: 0 });
    assert.match(
      cardText(reviews.latestFor(users.megan.aadObjectId)),
      /Reminder: review the guests of Expenses External Reviewers/,
    );
    assert.equal((await h.guestReview.sweep()).reminded, 0, 'one reminder only');
    now += 7 * DAY;
    assert.equal((await h.guestReview.sweep()).defaulted, 1);
    assert.ok(!(await memberIds(h, groups.expenses)).includes(id));
    assert.match(
      cardText(reviews.latestFor(users.megan.aadObjectId)),
      /quiet\.one@adatum\.com removed by default after grace/,
    );
    const told = reviews.notices.map((n) => n.userId).sort();
    assert.deepEqual(told, [users.alex.aadObjectId, users.megan.aadObjectId, users.patti.aadObjectId].sort());
    const [removed] = await h.store.audit.list({ action: 'guest.removed' });
    assert.equal(removed.outcome, 'defaultAfterGrace');
    assert.equal(removed.actorId, 'system');
    assert.equal((await h.guestReview.sweep()).defaulted, 0, 'applied once');
  });

  it('a guest added by an approved request is recorded with the approver as sponsor; Keep all keeps every guest of the review', async () => {
    const sam = { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f11', name: 'Sam Lee' };
    const chat = h.chat(sam);
    const first = await chat.send('request access to Contoso Wiki');
    let turn = first;
    for (let step = 0; step < 4 && !/Send request/.test(cardText(lastCard(turn))); step++) {
      const card = lastCard(turn);
      const text = cardText(card);
      if (/Wiki Partner Readers/.test(text) && /Next/.test(text))
        turn = await chat.submit({ ...actionData(card, 'Next'), groupId: groups.wikiReaders }, cardId(turn));
      else if (/Why do you need access/.test(text))
        turn = await chat.submit(
          { ...actionData(card, 'Review'), justification: 'Partner documentation' },
          cardId(turn),
        );
      else throw new Error(`unexpected card: ${text}`);
    }
    await chat.submit(actionData(lastCard(turn), 'Send request'), cardId(turn));
    const [request] = await h.store.requests.listByRequester(TENANT_ID, sam.aadObjectId, 5);
    await h.chat(users.megan).invoke('request.approve', { requestId: request.id });
    const record = await h.store.guests.get({
      tenantId: TENANT_ID,
      groupId: request.groupId,
      guestId: sam.aadObjectId,
    });
    assert.equal(record?.how, 'request');
    assert.equal(record?.invitedByName, 'Megan Bowen');
    assert.deepEqual(record?.sponsorIds, [users.megan.aadObjectId]);

    await h.chat(users.megan).send('help');
    const confirm = await toConfirmation(
      h.chat(users.megan),
      'Contoso Wiki',
      'Wiki Partner Readers',
      'also.kept@adatum.com',
    );
    await h.chat(users.megan).submit(actionData(lastCard(confirm), 'Send invitation'), cardId(confirm));
    now += 90 * DAY;
    await h.guestReview.sweep();
    const card = reviews.latestFor(users.megan.aadObjectId);
    const all = await h.chat(users.megan).invoke('review.keepAll', actionData(card, 'Keep all'));
    assert.match(cardText(card), /Never accepted \(invited/, 'Sam has been pending longer than INVITATION_STALE_AFTER');
    const resend = guestAction(card, 'Resend invitation', 'sam@northwindtraders.com');
    assert.equal(resend.data.reviewId, actionData(card, 'Keep all').reviewId);
    assert.match(
      cardText(await h.chat(users.megan).invoke(resend.verb, resend.data)),
      /Review: do these guests still need Wiki Partner Readers\?[^]*I sent the invitation to sam@northwindtraders\.com again/,
    );
    assert.doesNotMatch(cardText(all), /Waiting for an owner/);
    assert.match(cardText(all), /sam@northwindtraders\.com kept by Megan Bowen/);
    assert.match(cardText(all), /also\.kept@adatum\.com kept by Megan Bowen/);
    assert.equal(
      (await h.store.audit.list({ action: 'review.decided' })).filter((e) => e.outcome === 'keep').length,
      2,
    );
  });
});
