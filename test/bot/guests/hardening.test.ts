/**
 * Issue 17, item 7, on the guest cards: a refused click does not block the real owners, the cards that name guests
 * check who asks first, and removals and guest records are for guest accounts (userType Guest) only.
 */
import { strict as assert } from 'node:assert';
import { TENANT_ID, cardText, createHarness, groups, lastCard, users, type Harness } from '../../support/botHarness';
import { guestAction } from '../../support/guestCard';
import { guestId, invite, memberIds, reviewHarness, type RecordingReviews } from '../../support/guestReviews';
import { loadDemoSeed } from '../../../src/simulator';

const DAY = 86_400_000;

/** Writes the bot may not make itself (the test plays an admin in the portal). */
async function asAdmin<T>(h: Harness, write: () => Promise<T>): Promise<T> {
  h.sim.setApplicationPermissions(null);
  try {
    return await write();
  } finally {
    h.sim.setApplicationPermissions(loadDemoSeed().applicationPermissions ?? null);
  }
}

describe('guest cards: who asks, and guests only (bot + domain + simulator)', () => {
  let h: Harness;
  let now: number;
  let reviews: RecordingReviews;
  beforeEach(async () => {
    now = Date.parse('2026-11-24T09:00:00Z');
    ({ h, reviews } = await reviewHarness(() => new Date(now)));
  });
  afterEach(async () => h.close());

  it("a former owner's refused Remove on a review card neither shows the guests nor blocks the real owners' Remove", async () => {
    const megan = h.chat(users.megan);
    const alex = h.chat(users.alex);
    await megan.send('help');
    await alex.send('help');
    await invite(megan, 'drop.me@adatum.com');
    const dropId = await guestId(h, 'drop.me@adatum.com');
    now += 90 * DAY;
    assert.equal((await h.guestReview.sweep()).opened, 1);
    const drop = guestAction(reviews.latestFor(users.megan.aadObjectId), 'Remove from group', 'drop.me@adatum.com');
    // Megan is no longer an owner; her old card still has the buttons.
    await asAdmin(h, () =>
      h.graph(`/groups/${groups.expenses}/owners/${users.megan.aadObjectId}/$ref`, { method: 'DELETE' }),
    );
    const refused = await megan.invoke(drop.verb, drop.data);
    assert.doesNotMatch(JSON.stringify(refused), /drop\.me@adatum\.com/, 'no guest address for a non-owner');
    assert.match(cardText(refused), /not for you/);
    assert.ok((await memberIds(h, groups.expenses)).includes(dropId));
    // Alex, an owner, removes the guest from his card.
    const alexDrop = guestAction(reviews.latestFor(users.alex.aadObjectId), 'Remove from group', 'drop.me@adatum.com');
    const removed = await alex.invoke(alexDrop.verb, alexDrop.data);
    assert.match(cardText(removed), /drop\.me@adatum\.com removed by Alex Wilber/);
    assert.ok(!(await memberIds(h, groups.expenses)).includes(dropId));
  });

  it('the remove confirmation is shown only to an owner of the group: a forged one names no guest', async () => {
    const megan = h.chat(users.megan);
    await invite(megan, 'pat@adatum.com');
    const patId = await guestId(h, 'pat@adatum.com');
    const forged = await h.chat(users.adele).invoke('guests.remove', { groupId: groups.expenses, guestId: patId });
    assert.doesNotMatch(JSON.stringify(forged), /pat@adatum\.com/);
    assert.match(cardText(forged), /not for you/);
    assert.match(
      cardText(await megan.invoke('guests.remove', { groupId: groups.expenses, guestId: patId })),
      /pat@adatum\.com/,
    );
  });

  it("a former owner's Resend or empty choice on a review card shows no guest address; an owner's shows the review", async () => {
    const megan = h.chat(users.megan);
    await megan.send('help');
    await invite(megan, 'drop.me@adatum.com');
    now += 90 * DAY;
    assert.equal((await h.guestReview.sweep()).opened, 1);
    const card = reviews.latestFor(users.megan.aadObjectId);
    const keep = guestAction(card, 'Keep', 'drop.me@adatum.com');
    const none = await megan.invoke(keep.verb, { ...keep.data, guest: '' });
    assert.match(cardText(none), /Choose a guest in the list first/);
    assert.match(cardText(none), /drop\.me@adatum\.com/, 'an owner sees the review again');
    await asAdmin(h, () =>
      h.graph(`/groups/${groups.expenses}/owners/${users.megan.aadObjectId}/$ref`, { method: 'DELETE' }),
    );
    const emptyChoice = await megan.invoke(keep.verb, { ...keep.data, guest: '' });
    assert.doesNotMatch(JSON.stringify(emptyChoice), /drop\.me@adatum\.com/);
    assert.match(cardText(emptyChoice), /not for you/);
    const resend = await megan.invoke('guests.resend', { ...keep.data });
    assert.doesNotMatch(JSON.stringify(resend), /drop\.me@adatum\.com/, 'the refused resend does not show the review');
  });

  it('the shared Resend and Remove of my guests act only on a chosen guest of a group the clicker owns', async () => {
    const megan = h.chat(users.megan);
    await invite(megan, 'pat@adatum.com');
    const patId = await guestId(h, 'pat@adatum.com');
    const list = lastCard(await megan.send('my guests'));
    const resend = guestAction(list, 'Resend invitation', 'pat@adatum.com');
    assert.equal(resend.data.guest, `${groups.expenses}/${patId}`, 'the choice names the group and the guest');
    const invitations = (): number => h.sim.requests().filter((r) => r.url.endsWith('/invitations')).length;
    const before = invitations();
    // Clicked without choosing a guest: the list says so and nothing is sent.
    const none = await megan.invoke(resend.verb, { ...resend.data, guest: '' });
    assert.match(cardText(none), /Choose a guest in the list first[^]*Nothing was changed/);
    assert.match(cardText(none), /pat@adatum\.com/, 'the list is shown again');
    assert.equal(invitations(), before);
    // The same choice sent by someone who does not own the group: refused, nothing sent or shown.
    const forged = await h
      .chat(users.adele)
      .invoke('guests.remove', { ...guestAction(list, 'Remove from group', 'pat@adatum.com').data });
    assert.doesNotMatch(JSON.stringify(forged), /pat@adatum\.com/);
    assert.match(cardText(forged), /not for you/);
    // A value that is not a group and a guest is refused before anything runs.
    const malformed = await megan.invoke('guests.remove', { guest: `${groups.expenses}/${patId}/x` });
    assert.doesNotMatch(JSON.stringify(malformed), /pat@adatum\.com/);
    assert.equal(invitations(), before);
    assert.match(
      cardText(await megan.invoke(resend.verb, resend.data)),
      /I sent the invitation to pat@adatum\.com again/,
    );
    assert.equal(invitations(), before + 1, 'the chosen guest is invited again');
  });

  it('a forged removal naming an internal member of a group the caller owns removes nobody', async () => {
    await asAdmin(h, () =>
      h.graph(`/groups/${groups.expenses}/members/$ref`, {
        method: 'POST',
        body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${users.lee.aadObjectId}` },
      }),
    );
    assert.ok((await memberIds(h, groups.expenses)).includes(users.lee.aadObjectId));
    const turn = await h.chat(users.megan).invoke('guests.removeConfirm', {
      groupId: groups.expenses,
      guestId: users.lee.aadObjectId,
      nonce: 'b0b0b0b0-0000-4000-8000-000000000001',
    });
    assert.match(cardText(turn), /not a guest account/);
    assert.ok((await memberIds(h, groups.expenses)).includes(users.lee.aadObjectId));
    assert.deepEqual(
      h.sim.requests().filter((r) => r.method === 'DELETE'),
      [],
    );
  });
});

describe('an existing member added to a group is not recorded as a guest', () => {
  it('invited by an address the member has among otherMails: added, but no guest record (so no review removes them)', async () => {
    const seed = loadDemoSeed();
    const lee = seed.users.find((u) => u.id === users.lee.aadObjectId)!;
    lee.otherMails = [...(lee.otherMails ?? []), 'lee.gu@adatum.com'];
    const h = await createHarness({ seed });
    try {
      await invite(h.chat(users.megan), 'lee.gu@adatum.com');
      assert.ok((await memberIds(h, groups.expenses)).includes(users.lee.aadObjectId));
      assert.equal(
        (await h.store.guests.get({ tenantId: TENANT_ID, groupId: groups.expenses, guestId: users.lee.aadObjectId })) ??
          null,
        null,
      );
    } finally {
      await h.close();
    }
  });
});
