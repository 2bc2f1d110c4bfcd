import { strict as assert } from 'node:assert';
import {
  TENANT_ID,
  actionData,
  cardId,
  cardText,
  createHarness,
  groups,
  lastCard,
  textOf,
  users,
  type Harness,
} from '../../support/botHarness';
import { guestAction, guestChoices, guestItems } from '../../support/guestCard';
import { validateLog } from '../../support/graphContract';
import { isDirectoryWrite } from '../../support/graphLog';
import { guestId, invite, memberIds, reviewHarness, type RecordingReviews } from '../../support/guestReviews';
import { TEST_SETTINGS } from '../../support/settings';
import { loadDemoSeed } from '../../../src/simulator';

const DAY = 86_400_000;

describe('guest lifecycle: my guests, resend, remove, reviews (bot + domain + Graph client + simulator)', () => {
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

  it('invite → my guests shows pending with the owner as sponsor → resend once per cooldown → accepted → remove', async () => {
    const megan = h.chat(users.megan);
    await invite(megan, 'sam.partner@adatum.com');
    const id = await guestId(h, 'sam.partner@adatum.com');
    const [record] = (await h.store.guests.listForGroups(TENANT_ID, [groups.expenses], 10)).filter(
      (r) => r.guestId === id,
    );
    assert.equal(record.invitedBy, users.megan.aadObjectId);
    assert.equal(record.how, 'invite');
    assert.deepEqual(record.sponsorIds, [users.megan.aadObjectId]);
    assert.equal(
      record.sponsorInEntra,
      false,
      'User.ReadWrite.All is not granted by default: the sponsor is kept by the bot',
    );

    const list = await megan.send('my guests');
    const card = lastCard(list);
    const text = cardText(card);
    assert.match(text, /sam\.partner@adatum\.com/);
    assert.match(text, /Pending acceptance since/);
    assert.match(text, /Invited by Megan Bowen/);
    assert.match(text, /Sponsor: Megan Bowen/);

    h.sim.clearRequests();
    const resend = guestAction(card, 'Resend invitation', 'sam.partner@adatum.com');
    const first = await megan.invoke(resend.verb, resend.data, cardId(list));
    assert.match(cardText(first), /I sent the invitation to sam\.partner@adatum\.com again/);
    const posts = h.sim.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/invitations'));
    assert.equal(posts.length, 1);
    assert.equal((posts[0].requestBody as Record<string, unknown>).sendInvitationMessage, true);
    assert.deepEqual(
      (posts[0].requestBody as Record<string, unknown>).invitedUserMessageInfo,
      { messageLanguage: 'en-US' },
      'in the owner’s language (invitedusermessageinfo.md)',
    );

    now += 3_600_000;
    const second = await megan.invoke(resend.verb, resend.data, cardId(list));
    assert.match(cardText(second), /resent less than 24 hours ago\. You can resend it again in 23 hours\./);
    assert.equal(
      h.sim.requests().filter((r) => r.url.endsWith('/invitations')).length,
      1,
      'the second resend within the cooldown sends nothing',
    );
    assert.equal((await h.store.audit.list({ action: 'guest.resend.refused' }))[0].outcome, 'cooldown');

    const redeemed = await fetch(`${h.sim.url}/_simulator/users/${id}/redeem`, { method: 'POST' });
    assert.equal(redeemed.status, 200);
    assert.ok(
      h.sim.requests().some((r) => r.url.includes('/_simulator/users/') && r.url.endsWith('/redeem')),
      'the redeem is in the request log',
    );
    const accepted = lastCard(await megan.send('my guests'));
    assert.match(
      cardText(accepted),
      /Accepted [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M/,
      'a date in the reader’s locale',
    );
    // Resend is shared by the guests of the page: for one who has accepted, the server refuses and sends nothing.
    const resendAccepted = guestAction(accepted, 'Resend invitation', 'sam.partner@adatum.com');
    assert.match(
      cardText(await megan.invoke(resendAccepted.verb, resendAccepted.data)),
      /sam\.partner@adatum\.com has already accepted the invitation, so there is nothing to resend/,
    );
    assert.equal(
      h.sim.requests().filter((r) => r.url.endsWith('/invitations')).length,
      1,
      'no invitation resent to an accepted guest',
    );

    const remove = guestAction(accepted, 'Remove from group', 'sam.partner@adatum.com');
    const confirm = await megan.invoke(remove.verb, remove.data);
    assert.match(
      cardText(confirm),
      /Remove sam\.partner@adatum\.com from Expenses External Reviewers\? They lose access to Contoso Expenses\./,
    );
    assert.ok((await memberIds(h, groups.expenses)).includes(id), 'nothing removed before the confirmation');
    const yes = actionData(confirm, 'Remove') as Record<string, string>;
    const removed = await megan.invoke('guests.removeConfirm', yes);
    assert.match(cardText(removed), /was removed from Expenses External Reviewers/);
    assert.ok(!(await memberIds(h, groups.expenses)).includes(id));
    const again = await megan.invoke('guests.removeConfirm', yes);
    assert.match(cardText(again), /was removed/);
    assert.equal(
      h.sim.requests().filter((r) => r.method === 'DELETE' && r.url.includes('/members/')).length,
      1,
      'the same confirmation removes once',
    );
    const [audit] = await h.store.audit.list({ action: 'guest.removed' });
    assert.equal(audit.actorId, users.megan.aadObjectId);
    assert.equal((await h.store.guests.get(record))?.removedBy, 'Megan Bowen');
  });

  it('refuses and audits card actions of someone who does not own the group (forged or stale), writing nothing', async () => {
    await invite(h.chat(users.megan), 'kim.partner@adatum.com');
    const id = await guestId(h, 'kim.partner@adatum.com');
    h.sim.clearRequests();
    const adele = h.chat(users.adele);
    assert.match(
      cardText(await adele.invoke('guests.resend', { groupId: groups.expenses, guestId: id })),
      /not an owner of Expenses External Reviewers/,
    );
    assert.match(
      cardText(
        await adele.invoke('guests.removeConfirm', {
          groupId: groups.expenses,
          guestId: id,
          nonce: 'f0f0f0f0-0000-4000-8000-000000000001',
        }),
      ),
      /not an owner/,
    );
    const submitted = await adele.submit({
      verb: 'guests.removeConfirm',
      groupId: groups.expenses,
      guestId: id,
      nonce: 'f0f0f0f0-0000-4000-8000-000000000002',
    });
    assert.match(textOf(submitted), /not an owner/);
    assert.match(
      textOf(
        await adele.submit({
          verb: 'guests.removeConfirm',
          groupId: groups.expenses,
          guestId: id,
          nonce: 'x',
          extra: 'field',
        }),
      ),
      /cannot accept/,
    );
    assert.deepEqual(
      h.sim
        .requests()
        .filter(isDirectoryWrite)
        .map((r) => r.url),
      [],
    );
    assert.equal((await h.store.audit.list({ action: 'guest.resend.forged' })).length, 1);
    assert.equal((await h.store.audit.list({ action: 'guest.remove.forged' })).length, 2);
    assert.ok((await memberIds(h, groups.expenses)).includes(id));
  });

  it('guest report is for admins: per app counts from the bot records', async () => {
    await invite(h.chat(users.megan), 'count.me@adatum.com');
    assert.match(textOf(await h.chat(users.adele).send('guest report')), /for admins/);
    const report = cardText(lastCard(await h.chat(users.patti).send('guest report')));
    assert.match(report, /Contoso Expenses/);
    assert.match(report, /Guests: 1/);
    assert.match(report, /Pending invitations: 1/);
    assert.match(report, /Without a sponsor in Microsoft Entra ID: 1/);
    const setup = textOf(await h.chat(users.patti).send('setup check'));
    assert.match(setup, /Guest sponsors/);
    assert.match(setup, /grant the application permission User\.ReadWrite\.All and set GUEST_SPONSORS_IN_ENTRA=true/);
  });

  it('a removal answered 504 after it took effect is read back, not repeated; a refused one is explained; an interrupted one is resumed', async () => {
    const megan = h.chat(users.megan);
    await invite(megan, 'one@adatum.com');
    await invite(megan, 'two@adatum.com');
    await invite(megan, 'three@adatum.com');
    const [one, two, three] = [
      await guestId(h, 'one@adatum.com'),
      await guestId(h, 'two@adatum.com'),
      await guestId(h, 'three@adatum.com'),
    ];

    h.sim.setFaults({ rules: [{ method: 'DELETE', path: '/groups/*/members/*/$ref', rate504AfterWrite: 1 }] });
    const removed = await megan.invoke('guests.removeConfirm', {
      groupId: groups.expenses,
      guestId: one,
      nonce: 'a0a0a0a0-0000-4000-8000-000000000001',
    });
    assert.match(cardText(removed), /one@adatum\.com was removed/);
    assert.equal(
      h.sim.requests().filter((r) => r.method === 'DELETE' && r.url.includes(one)).length,
      1,
      'membership was read back instead of deleting again',
    );
    h.sim.setFaults(null);

    h.sim.setApplicationPermissions(
      (loadDemoSeed().applicationPermissions ?? []).filter((p) => p !== 'GroupMember.ReadWrite.All'),
    );
    const refused = await megan.invoke('guests.removeConfirm', {
      groupId: groups.expenses,
      guestId: two,
      nonce: 'a0a0a0a0-0000-4000-8000-000000000002',
    });
    assert.match(
      cardText(refused),
      /refused to remove two@adatum\.com from Expenses External Reviewers \(Authorization_RequestDenied\)/,
    );
    assert.match(cardText(refused), /GroupMember\.ReadWrite\.All/);
    assert.ok((await memberIds(h, groups.expenses)).includes(two));
    assert.equal((await h.store.audit.list({ action: 'guest.remove.refused' })).length, 1);
    h.sim.setApplicationPermissions(loadDemoSeed().applicationPermissions ?? null);

    // A removal confirmed just before a crash: its record is there, nothing was written yet.
    await h.store.operations.create(
      {
        id: 'remove-crashed',
        kind: 'removeGuest',
        tenantId: TENANT_ID,
        actorId: users.megan.aadObjectId,
        input: { groupId: groups.expenses, guestId: three, actorName: 'Megan Bowen', reviewId: null, byDefault: false },
      },
      new Date(now),
    );
    assert.ok((await h.resumeOperations()) >= 1);
    assert.ok(!(await memberIds(h, groups.expenses)).includes(three));
    assert.equal((await h.store.operations.get('remove-crashed'))?.status, 'succeeded');
    assert.equal(
      (await h.store.guests.get({ tenantId: TENANT_ID, groupId: groups.expenses, guestId: three }))?.removedBy,
      'Megan Bowen',
    );
  });

  it('pages 50 guests at a time, newest first, and filters pending only and by app', async () => {
    for (let n = 0; n < 55; n++) {
      const sent = await h.graph<{ invitedUser: { id: string } }>('/invitations', {
        method: 'POST',
        body: { invitedUserEmailAddress: `bulk${n}@adatum.com`, inviteRedirectUrl: 'https://myapps.microsoft.com' },
      });
      await h.graph(`/groups/${groups.wikiReaders}/members/$ref`, {
        method: 'POST',
        body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${sent.body.invitedUser.id}` },
      });
    }
    const megan = h.chat(users.megan);
    const first = lastCard(await megan.send('my guests'));
    const items = guestItems(first);
    assert.equal(items.length, 50);
    assert.equal(guestChoices(first).length, 50, 'every guest of the page can be chosen for Resend or Remove');
    const total = Number(/(\d+) guests in the groups you own · page 1 of 2/.exec(cardText(first))?.[1]);
    assert.ok(total > 55, cardText(first).slice(0, 200));
    const next = await megan.invoke('guests.list', actionData(first, 'Next page'));
    assert.match(cardText(next), /page 2 of 2/);
    assert.equal(guestItems(next!).length, total - 50);
    assert.equal(guestChoices(next!).length, total - 50);

    const pendingWiki = await megan.invoke('guests.list', {
      page: '0',
      pending: 'true',
      appId: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f02',
    });
    const text = cardText(pendingWiki);
    assert.doesNotMatch(text, /Contoso Expenses · /, 'only Contoso Wiki');
    assert.doesNotMatch(text, /Accepted /, 'only pending guests');
    assert.match(text, /bulk\d+@adatum\.com/);
    assert.ok(
      Number(/(\d+) guests in the groups you own/.exec(text)?.[1]) >= 55,
      'every bulk guest is pending in Contoso Wiki',
    );
  });

  it('speaks Dutch to a Dutch owner (nl-NL): my guests and the review card, while an English co-owner keeps English', async () => {
    const megan = h.chat(users.megan);
    await invite(megan, 'lotte@adatum.com');
    const alex = h.chat(users.alex);
    await alex.send('help');
    megan.locale = 'nl-NL';
    megan.localTimezone = 'Europe/Amsterdam';
    const text = cardText(lastCard(await megan.send('mijn gasten')));
    assert.match(text, /^Uw gasten \| 2 gasten in de groepen waarvan u eigenaar bent · pagina 1 van 1/);
    assert.match(text, /Contoso Expenses · Expenses External Reviewers/);
    assert.match(text, /Uitgenodigd door Megan Bowen op 24 nov\.? 2026, 10:\d\d/, 'a Dutch date in Amsterdam time');
    assert.match(text, /Wacht op acceptatie sinds/);
    assert.match(text, /Sponsor: Megan Bowen/);
    assert.match(text, /Alleen openstaande uitnodigingen \|.*Alle apps/);
    for (const button of ['Uitnodiging opnieuw versturen', 'Uit groep verwijderen', 'Filters toepassen'])
      assert.ok(text.includes(button), `${button} on: ${text}`);
    assert.doesNotMatch(text, /Your guests|Pending acceptance|Invited by|Resend|Remove/);

    now += 90 * DAY;
    assert.equal((await h.guestReview.sweep()).opened, 1);
    const dutchCard = reviews.latestFor(users.megan.aadObjectId);
    assert.match(
      cardText(dutchCard),
      /Beoordeling: hebben deze gasten Expenses External Reviewers nog nodig\? \| Contoso Expenses · beslis vóór 8 mrt\.? 2027, 10:00; daarna geldt de standaardkeuze: verwijderen\./,
    );
    assert.match(
      cardText(reviews.latestFor(users.alex.aadObjectId)),
      /Review: do these guests still need Expenses External Reviewers\?/,
    );
    const keep = guestAction(dutchCard, 'Behouden', 'lotte@adatum.com');
    assert.match(cardText(await megan.invoke(keep.verb, keep.data)), /lotte@adatum\.com behouden door Megan Bowen/);
    assert.match(
      cardText(reviews.latestFor(users.alex.aadObjectId)),
      /lotte@adatum\.com kept by Megan Bowen/,
      "Alex's copy is updated in English",
    );
  });

  describe('with GUEST_SPONSORS_IN_ENTRA=true', () => {
    beforeEach(async () => {
      await h.close();
      h = await createHarness({
        clock: () => new Date(now),
        reviewMessenger: reviews.messenger,
        guests: { ...TEST_SETTINGS.guests, sponsorsInEntra: true },
      });
      reviews.conversations = h.store.conversations;
    });

    it('without User.ReadWrite.All the invitation still happens, the sponsor stays in the records and the admins are told what to grant', async () => {
      await invite(h.chat(users.megan), 'no.grant@adatum.com');
      const id = await guestId(h, 'no.grant@adatum.com');
      const record = await h.store.guests.get({ tenantId: TENANT_ID, groupId: groups.expenses, guestId: id });
      assert.equal(record?.sponsorInEntra, false);
      assert.ok((await memberIds(h, groups.expenses)).includes(id));
      const alerts = await h.store.alerts.list(TENANT_ID, ['open'], 20);
      assert.ok(
        alerts.some((a) => a.key === 'missingPermission:User.ReadWrite.All'),
        alerts.map((a) => a.key).join(', '),
      );
    });

    it('with User.ReadWrite.All granted the owner becomes the sponsor in Entra, shown once in my guests', async () => {
      h.sim.setApplicationPermissions([...(loadDemoSeed().applicationPermissions ?? []), 'User.ReadWrite.All']);
      await invite(h.chat(users.megan), 'with.grant@adatum.com');
      const id = await guestId(h, 'with.grant@adatum.com');
      assert.equal(
        (await h.store.guests.get({ tenantId: TENANT_ID, groupId: groups.expenses, guestId: id }))?.sponsorInEntra,
        true,
      );
      const sponsors = await h.graph<{ value: Array<{ id: string }> }>(`/users/${id}/sponsors`);
      assert.deepEqual(
        sponsors.body.value.map((s) => s.id),
        [users.megan.aadObjectId],
      );
      const text = cardText(lastCard(await h.chat(users.megan).send('my guests')));
      assert.match(text, /with\.grant@adatum\.com[^|]*\|[^]*?Sponsor: Megan Bowen \|/);
    });
  });
});
