import { strict as assert } from 'node:assert';
import type { NewGuestRecord, Store } from '../../src/store/store';
import { ConflictError } from '../../src/store/store';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const DAY = 86_400_000;

function guest(n: number, overrides: Partial<NewGuestRecord> = {}): NewGuestRecord {
  return {
    tenantId: 't1',
    groupId: `g${n % 3}`,
    guestId: `u${n}`,
    guestEmail: `guest${n}@fabrikam.com`,
    guestName: `Guest ${n}`,
    appId: 'app1',
    appName: 'Contoso Wiki',
    groupName: `Group ${n % 3}`,
    invitedBy: 'owner1',
    invitedByName: 'Olivia Owner',
    how: 'invite',
    operationId: `op${n}`,
    sponsorIds: ['owner1'],
    sponsorInEntra: false,
    redemption: 'PendingAcceptance',
    ...overrides,
  };
}

describeEachEngine('store: guest records', 'guest-invite-guests-', (stores) => {
  let store: Store;
  beforeEach(async () => {
    store = await stores.open();
  });

  it('records who added a guest, when, how and the sponsor; the same operation again changes nothing', async () => {
    const first = await store.guests.recordAdded(guest(1), T0);
    assert.equal(first.invitedAt, T0.toISOString());
    assert.equal(first.lastKeptAt, T0.toISOString());
    assert.deepEqual(first.sponsorIds, ['owner1']);
    assert.equal(first.sponsorInEntra, false);
    assert.equal(first.reviewState, 'none');
    assert.equal(first.version, 1);
    const again = await store.guests.recordAdded(guest(1), at(DAY));
    assert.deepEqual(again, first, 'a resumed operation records nothing new');
    const readBack = await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: 'u1' });
    assert.deepEqual(readBack, first);
  });

  it('a guest added again by another operation starts a new review period and is no longer removed', async () => {
    const first = await store.guests.recordAdded(guest(1), T0);
    const removed = await store.guests.update(
      first,
      first.version,
      { removedAt: at(1).toISOString(), removedBy: 'owner1', reviewState: 'open' },
      at(1),
    );
    assert.equal(removed.removedAt, at(1).toISOString());
    const readded = await store.guests.recordAdded(
      guest(1, { operationId: 'op-again', how: 'request', invitedBy: 'owner2', sponsorIds: ['owner2'] }),
      at(2 * DAY),
    );
    assert.equal(readded.removedAt, null);
    assert.equal(readded.reviewState, 'none');
    assert.equal(readded.how, 'request');
    assert.equal(readded.lastKeptAt, at(2 * DAY).toISOString());
    assert.deepEqual(readded.sponsorIds, ['owner2']);
    assert.equal(readded.version, removed.version + 1);
  });

  it('updates compare-and-set and refuses a stale version', async () => {
    const first = await store.guests.recordAdded(guest(1), T0);
    const kept = await store.guests.update(
      first,
      1,
      { lastKeptAt: at(5).toISOString(), keptBy: 'owner1', sponsorInEntra: true, lastResentAt: at(4).toISOString() },
      at(5),
    );
    assert.equal(kept.version, 2);
    assert.equal(kept.sponsorInEntra, true);
    assert.equal(kept.lastResentAt, at(4).toISOString());
    await assert.rejects(store.guests.update(first, 1, { keptBy: 'x' }, at(6)), ConflictError);
    await assert.rejects(
      store.guests.update({ ...first, guestId: 'nobody' }, 1, { keptBy: 'x' }, at(6)),
      ConflictError,
    );
    await assert.rejects(store.guests.update(first, 2, { reviewState: 'bogus' as 'open' }, at(6)), TypeError);
  });

  it("lists a group's guests newest first, without the removed ones", async () => {
    for (let n = 0; n < 6; n++) await store.guests.recordAdded(guest(n), at(n * 1000));
    const g1 = await store.guests.listForGroups('t1', ['g1', 'g2'], 50);
    assert.deepEqual(
      g1.map((g) => g.guestId),
      ['u5', 'u4', 'u2', 'u1'],
    );
    await store.guests.update(g1[0], g1[0].version, { removedAt: at(9000).toISOString() }, at(9000));
    assert.deepEqual(
      (await store.guests.listForGroups('t1', ['g1', 'g2'], 2)).map((g) => g.guestId),
      ['u4', 'u2'],
    );
    assert.deepEqual(await store.guests.listForGroups('t1', [], 5), []);
    assert.deepEqual(await store.guests.listForGroups('t2', ['g1'], 5), []);
    assert.equal((await store.guests.listForTenant('t1', 100)).length, 6, 'the tenant list keeps removed guests');
  });

  it('finds the groups with reviews due and the open reviews by date', async () => {
    for (let n = 0; n < 4; n++) await store.guests.recordAdded(guest(n), at(n * DAY));
    const due = await store.guests.listDueGroups(at(1 * DAY), 10);
    assert.deepEqual(due.map((g) => g.groupId).sort(), ['g0', 'g1']);
    const u0 = (await store.guests.get({ tenantId: 't1', groupId: 'g0', guestId: 'u0' }))!;
    await store.guests.update(
      u0,
      u0.version,
      { reviewState: 'open', reviewId: 'r1', reviewOpenedAt: at(3 * DAY).toISOString() },
      at(3 * DAY),
    );
    assert.deepEqual(
      (await store.guests.listDueGroups(at(1 * DAY), 10)).map((g) => g.groupId),
      ['g1'],
    );
    assert.deepEqual(
      (await store.guests.listOpenReviews(at(3 * DAY), 10)).map((g) => g.guestId),
      ['u0'],
    );
    assert.deepEqual(await store.guests.listOpenReviews(at(3 * DAY - 1), 10), []);
  });

  it('opens a review once per guest and marks its reminder once', async () => {
    for (let n = 0; n < 6; n++) await store.guests.recordAdded(guest(n), T0);
    await store.guests.recordAdded(guest(7), at(DAY));
    const opened = await store.guests.openReview('t1', 'g1', T0, 'r1', at(DAY));
    assert.deepEqual(
      opened.map((g) => g.guestId).sort(),
      ['u1', 'u4'],
      'u7 is not due yet, the others are in other groups',
    );
    assert.ok(
      opened.every(
        (g) => g.reviewState === 'open' && g.reviewId === 'r1' && g.reviewOpenedAt === at(DAY).toISOString(),
      ),
    );
    assert.deepEqual(await store.guests.openReview('t1', 'g1', T0, 'r2', at(DAY)), [], 'already under review');
    assert.equal((await store.guests.markReminded('r1', at(2 * DAY))).length, 2);
    assert.deepEqual(await store.guests.markReminded('r1', at(3 * DAY)), [], 'reminded once');
  });

  it('rejects bad records', async () => {
    await assert.rejects(store.guests.recordAdded(guest(1, { how: 'magic' as 'invite' }), T0), TypeError);
    await assert.rejects(store.guests.recordAdded(guest(1, { sponsorIds: [''] }), T0), TypeError);
    await assert.rejects(store.guests.recordAdded(guest(1, { guestId: '' }), T0), TypeError);
  });
});
