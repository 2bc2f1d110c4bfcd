import { strict as assert } from 'node:assert';
import { applyMigrations, latestVersion, migrations } from '../../src/store/sqlite/migrations';
import { openSqliteStore } from '../../src/store/sqlite';
import {
  type AccessRequestRecord,
  ConflictError,
  DuplicateRequestError,
  type NewAccessRequest,
  type OwnerCard,
  type Store,
} from '../../src/store/store';
import { fileBeforeMigration, racePause, rejectsConflict, runStoreWorker, withDatabase } from '../support/sqliteStores';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function newRequest(id: string, extra: Partial<NewAccessRequest> = {}): NewAccessRequest {
  return {
    id,
    tenantId: 't1',
    requesterId: 'u1',
    requesterName: 'Ada Lovelace',
    appId: 'app-1',
    appName: 'Payroll',
    groupId: 'g1',
    groupName: 'Payroll users',
    justification: 'Monthly close',
    ownerIds: ['o1', 'o2'],
    ...extra,
  };
}

function card(ownerId: string, extra: Partial<OwnerCard> = {}): OwnerCard {
  return {
    ownerId,
    ownerName: `Owner ${ownerId}`,
    status: 'sent',
    location: { conversation: { id: `conv-${ownerId}` }, activityId: `act-${ownerId}` },
    error: null,
    at: T0.toISOString(),
    ...extra,
  };
}

const ids = (records: AccessRequestRecord[]): string[] => records.map((r) => r.id);

async function rejectsDuplicate(p: Promise<unknown>, existingId: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof DuplicateRequestError && err.existingId === existingId);
}

describeEachEngine('store: access requests', 'guest-invite-requests-', (stores) => {
  const { open, openTwo } = stores;
  const sqliteIt = stores.itOn('SQLite');

  describe('create and get', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    it('creates a pending request and reads every field back', async () => {
      const created = await store.requests.create(newRequest('r1'), T0);
      const expected: AccessRequestRecord = {
        ...newRequest('r1'),
        state: 'pending',
        ownerCards: [],
        decidedBy: null,
        decidedByName: null,
        decidedAt: null,
        comment: null,
        outcome: null,
        remindedAt: null,
        version: 1,
        createdAt: T0.toISOString(),
        updatedAt: T0.toISOString(),
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.requests.get('r1'), expected);
      assert.equal(await store.requests.get('missing'), undefined);
    });

    it('keeps owner ids as given, and display names and justification may be empty', async () => {
      await store.requests.create(
        newRequest('r1', { ownerIds: ['o2', 'o1', 'o2'], requesterName: '', justification: '' }),
        T0,
      );
      const got = await store.requests.get('r1');
      assert.deepEqual(got?.ownerIds, ['o2', 'o1', 'o2']);
      assert.equal(got?.justification, '');
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o2', 10)), ['r1']);
    });

    it('rejects invalid input without storing anything', async () => {
      await assert.rejects(store.requests.create(newRequest(''), T0), TypeError);
      await assert.rejects(store.requests.create(newRequest('r1', { groupId: '' }), T0), TypeError);
      await assert.rejects(
        store.requests.create(newRequest('r1', { ownerIds: 'o1' as unknown as string[] }), T0),
        TypeError,
      );
      await assert.rejects(store.requests.create(newRequest('r1', { ownerIds: ['o1', ''] }), T0), TypeError);
      await assert.rejects(store.requests.create(newRequest('r1'), new Date(Number.NaN)), TypeError);
      assert.equal(await store.requests.get('r1'), undefined);
    });
  });

  describe('one pending request per requester and group', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    it('refuses a second pending request for the same group with the id of the existing one', async () => {
      await store.requests.create(newRequest('r1'), T0);
      await rejectsDuplicate(store.requests.create(newRequest('r2', { ownerIds: ['o3'] }), at(1000)), 'r1');
      assert.equal(await store.requests.get('r2'), undefined);
      assert.deepEqual(await store.requests.listPendingForOwner('t1', 'o3', 10), [], 'no owner rows were left behind');
    });

    it('allows another group, another requester or another tenant', async () => {
      await store.requests.create(newRequest('r1'), T0);
      await store.requests.create(newRequest('r2', { groupId: 'g2' }), T0);
      await store.requests.create(newRequest('r3', { requesterId: 'u2' }), T0);
      await store.requests.create(newRequest('r4', { tenantId: 't2' }), T0);
      assert.equal((await store.requests.listPendingCreatedBefore(T0, 10)).length, 4);
    });

    for (const state of ['approved', 'denied', 'withdrawn', 'expired'] as const) {
      it(`allows a new request once the previous one is ${state}`, async () => {
        const first = await store.requests.create(newRequest('r1'), T0);
        await store.requests.update('r1', first.version, { state }, at(1000));
        const second = await store.requests.create(newRequest('r2'), at(2000));
        assert.equal(second.state, 'pending');
        await rejectsDuplicate(store.requests.create(newRequest('r3'), at(3000)), 'r2');
      });
    }

    it('throws a reused id as the constraint error it is, not as a duplicate', async () => {
      await store.requests.create(newRequest('r1'), T0);
      await assert.rejects(
        store.requests.create(newRequest('r1', { groupId: 'g2' }), T0),
        (err: unknown) =>
          // SQLite's primary key violation, or PostgreSQL's unique_violation (SQLSTATE 23505)
          !(err instanceof DuplicateRequestError) &&
          ['SQLITE_CONSTRAINT_PRIMARYKEY', '23505'].includes(String((err as { code?: string }).code)),
      );
      assert.equal((await store.requests.get('r1'))?.groupId, 'g1');
    });

    it('refuses to move a request back to pending while another one is pending for that group', async () => {
      const first = await store.requests.create(newRequest('r1'), T0);
      const withdrawn = await store.requests.update('r1', first.version, { state: 'withdrawn' }, T0);
      await store.requests.create(newRequest('r2'), at(1000));
      await rejectsDuplicate(store.requests.update('r1', withdrawn.version, { state: 'pending' }, at(2000)), 'r2');
      assert.equal((await store.requests.get('r1'))?.state, 'withdrawn');
    });
  });

  describe('update', () => {
    let store: Store;
    let created: AccessRequestRecord;
    beforeEach(async () => {
      store = await open();
      created = await store.requests.create(newRequest('r1'), T0);
    });

    it('compare-and-set: succeeds on the current version, conflicts on a stale one or a missing id', async () => {
      const v2 = await store.requests.update('r1', 1, { remindedAt: at(1000).toISOString() }, at(1000));
      assert.equal(v2.version, 2);
      assert.equal(v2.updatedAt, at(1000).toISOString());
      assert.equal(v2.createdAt, T0.toISOString());
      await rejectsConflict(store.requests.update('r1', 1, { state: 'approved' }, at(2000)));
      await rejectsConflict(store.requests.update('missing', 1, { state: 'approved' }, at(2000)));
      const current = await store.requests.get('r1');
      assert.deepEqual(current, v2, 'the failed updates changed nothing');
    });

    it('changes only the fields in the patch; an explicit null clears a field', async () => {
      const decided = await store.requests.update(
        'r1',
        created.version,
        {
          state: 'approved',
          decidedBy: 'o1',
          decidedByName: 'Owner o1',
          decidedAt: at(500).toISOString(),
          comment: 'ok for Q1',
          outcome: { membership: 'added', graphRequestId: 'req-1', nested: { list: [1, 'two', null, true] } },
        },
        at(500),
      );
      assert.deepEqual(decided, {
        ...created,
        state: 'approved',
        decidedBy: 'o1',
        decidedByName: 'Owner o1',
        decidedAt: at(500).toISOString(),
        comment: 'ok for Q1',
        outcome: { membership: 'added', graphRequestId: 'req-1', nested: { list: [1, 'two', null, true] } },
        version: 2,
        updatedAt: at(500).toISOString(),
      });

      const reminded = { comment: null, remindedAt: at(600).toISOString() };
      const commented = await store.requests.update('r1', 2, reminded, at(600));
      assert.deepEqual(commented, {
        ...decided,
        comment: null,
        remindedAt: at(600).toISOString(),
        version: 3,
        updatedAt: at(600).toISOString(),
      });

      const cleared = await store.requests.update('r1', 3, { outcome: null }, at(700));
      assert.equal(cleared.outcome, null);
      assert.equal(cleared.decidedBy, 'o1');

      const untouched = await store.requests.update('r1', 4, {}, at(800));
      assert.deepEqual(untouched, { ...cleared, version: 5, updatedAt: at(800).toISOString() });
    });

    it('round-trips owner cards as JSON', async () => {
      const cards: OwnerCard[] = [
        card('o1'),
        card('o1', { location: { conversation: { id: 'second-chat' }, activityId: 'a2' } }),
        card('o2', { status: 'unreachable', location: null, error: 'Bot not installed for this user' }),
      ];
      const updated = await store.requests.update('r1', created.version, { ownerCards: cards }, at(1));
      assert.deepEqual(updated.ownerCards, cards);
      assert.deepEqual((await store.requests.get('r1'))?.ownerCards, cards);

      const fewer = await store.requests.update('r1', updated.version, { ownerCards: cards.slice(0, 1) }, at(2));
      assert.deepEqual(fewer.ownerCards, cards.slice(0, 1));
    });

    it('rejects invalid patches without changing the record', async () => {
      const bad = [
        { state: 'maybe' },
        { state: null },
        { ownerCards: null },
        { ownerCards: { not: 'an array' } },
        { ownerCards: ['text'] },
        { outcome: ['not', 'an', 'object'] },
        { outcome: { n: 1n } },
        { comment: 42 },
      ];
      for (const patch of bad) {
        await assert.rejects(
          store.requests.update('r1', created.version, patch as never, at(1)),
          TypeError,
          JSON.stringify(patch, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
        );
      }
      await assert.rejects(store.requests.update('r1', 1.5, {}, at(1)), TypeError);
      await assert.rejects(store.requests.update('r1', 1, {}, new Date(Number.NaN)), TypeError);
      assert.deepEqual(await store.requests.get('r1'), created);
    });
  });

  describe('lists', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    async function decide(id: string, state: 'approved' | 'denied' | 'withdrawn' | 'expired'): Promise<void> {
      const current = await store.requests.get(id);
      assert.ok(current);
      await store.requests.update(id, current.version, { state }, at(99_000));
    }

    it("lists a requester's requests newest first, every state, with a limit", async () => {
      await store.requests.create(newRequest('r1', { groupId: 'g1' }), at(1000));
      await store.requests.create(newRequest('r2', { groupId: 'g2' }), at(3000));
      await store.requests.create(newRequest('r3', { groupId: 'g3' }), at(2000));
      await store.requests.create(newRequest('r4', { groupId: 'g4' }), at(3000));
      await store.requests.create(newRequest('other-user', { requesterId: 'u2' }), at(4000));
      await store.requests.create(newRequest('other-tenant', { tenantId: 't2' }), at(4000));
      await decide('r3', 'denied');

      assert.deepEqual(ids(await store.requests.listByRequester('t1', 'u1', 10)), ['r4', 'r2', 'r3', 'r1']);
      assert.deepEqual(ids(await store.requests.listByRequester('t1', 'u1', 2)), ['r4', 'r2']);
      assert.deepEqual(ids(await store.requests.listByRequester('t1', 'u2', 10)), ['other-user']);
      assert.deepEqual(ids(await store.requests.listByRequester('t2', 'u1', 10)), ['other-tenant']);
      assert.deepEqual(await store.requests.listByRequester('t1', 'nobody', 10), []);
    });

    it('lists the pending requests an owner was asked about, oldest first, with a limit', async () => {
      await store.requests.create(newRequest('r1', { groupId: 'g1', ownerIds: ['o1', 'o2'] }), at(3000));
      await store.requests.create(newRequest('r2', { groupId: 'g2', ownerIds: ['o2'] }), at(1000));
      await store.requests.create(newRequest('r3', { groupId: 'g3', ownerIds: ['o1'] }), at(2000));
      await store.requests.create(newRequest('r4', { groupId: 'g4', ownerIds: ['o1'] }), at(500));
      await store.requests.create(newRequest('r5', { groupId: 'g5', ownerIds: ['o1', 'o3'] }), at(2000));
      await store.requests.create(newRequest('r6', { tenantId: 't2', ownerIds: ['o1'] }), at(100));
      await store.requests.create(newRequest('r7', { groupId: 'g7', ownerIds: [] }), at(100));
      await decide('r4', 'approved');

      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o1', 10)), ['r3', 'r5', 'r1']);
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o1', 2)), ['r3', 'r5']);
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o2', 10)), ['r2', 'r1']);
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o3', 10)), ['r5']);
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t2', 'o1', 10)), ['r6']);
      assert.deepEqual(await store.requests.listPendingForOwner('t1', 'o9', 10), []);

      await decide('r3', 'withdrawn');
      assert.deepEqual(ids(await store.requests.listPendingForOwner('t1', 'o1', 10)), ['r5', 'r1']);
    });

    it('lists pending requests created at or before a date, oldest first, with a limit', async () => {
      await store.requests.create(newRequest('r1', { groupId: 'g1' }), at(1000));
      await store.requests.create(newRequest('r2', { groupId: 'g2' }), at(2000));
      await store.requests.create(newRequest('r3', { groupId: 'g3' }), at(500));
      await store.requests.create(newRequest('r4', { groupId: 'g4' }), at(3000));
      await store.requests.create(newRequest('r5', { groupId: 'g5', tenantId: 't2' }), at(1500));
      await store.requests.create(newRequest('r6', { groupId: 'g6' }), at(1000));
      await decide('r1', 'expired');

      assert.deepEqual(ids(await store.requests.listPendingCreatedBefore(at(2000), 10)), ['r3', 'r6', 'r5', 'r2']);
      assert.deepEqual(ids(await store.requests.listPendingCreatedBefore(at(1999), 10)), ['r3', 'r6', 'r5']);
      assert.deepEqual(ids(await store.requests.listPendingCreatedBefore(at(2000), 2)), ['r3', 'r6']);
      assert.deepEqual(await store.requests.listPendingCreatedBefore(at(0), 10), []);
    });

    it('rejects a limit that is not a positive integer', async () => {
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(store.requests.listByRequester('t1', 'u1', limit), TypeError);
        await assert.rejects(store.requests.listPendingForOwner('t1', 'o1', limit), TypeError);
        await assert.rejects(store.requests.listPendingCreatedBefore(T0, limit), TypeError);
      }
      await assert.rejects(store.requests.listPendingCreatedBefore(new Date(Number.NaN), 1), TypeError);
    });
  });

  describe('persistence and schema', () => {
    it('keeps requests, versions, owners and the pending rule across close and reopen', async () => {
      const first = await open('p.db');
      const created = await first.requests.create(newRequest('r1'), T0);
      const updated = await first.requests.update('r1', created.version, { ownerCards: [card('o1')] }, at(1000));
      await first.close();

      const second = await open('p.db');
      assert.deepEqual(await second.requests.get('r1'), updated);
      assert.deepEqual(ids(await second.requests.listPendingForOwner('t1', 'o2', 10)), ['r1']);
      await rejectsDuplicate(second.requests.create(newRequest('r2'), at(2000)), 'r1');
      await rejectsConflict(second.requests.update('r1', created.version, { state: 'denied' }, at(3000)));
      assert.equal((await second.requests.update('r1', updated.version, { state: 'denied' }, at(3000))).version, 3);
    });

    sqliteIt(
      'applies each migration once: user_version is the number of migrations, reopening applies nothing',
      async () => {
        const file = stores.files.path('m.db');
        await openSqliteStore(file).close();
        withDatabase(file, (raw) => {
          assert.equal(latestVersion(), migrations.length);
          assert.equal(raw.pragma('user_version', { simple: true }), migrations.length);
          const tables = raw
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'access_request%' ORDER BY name",
            )
            .all() as { name: string }[];
          assert.deepEqual(
            tables.map((t) => t.name),
            ['access_request_owners', 'access_requests'],
          );
          assert.deepEqual(applyMigrations(raw), { from: migrations.length, to: migrations.length });
        });
        const again = await open('m.db');
        await again.requests.create(newRequest('r1'), T0);
        await again.close();
        withDatabase(file, (check) => assert.equal(check.pragma('user_version', { simple: true }), migrations.length));
      },
    );

    sqliteIt('adds the request tables to a file at the previous schema version, keeping its data', async () => {
      fileBeforeMigration(stores.files.path('old.db'), 'access requests', T0);
      const store = await open('old.db');
      assert.deepEqual((await store.state.read(['k'])).get('k')?.value, { kept: true });
      await store.requests.create(newRequest('r1'), T0);
      assert.deepEqual(ids(await store.requests.listByRequester('t1', 'u1', 10)), ['r1']);
    });
  });

  describe('concurrency', () => {
    it('two owners on two stores approve the same version: exactly one wins, the other conflicts', async () => {
      const [a, b] = await openTwo('shared.db');
      await a.requests.create(newRequest('r1'), T0);
      for (let round = 0; round < 20; round++) {
        const seenByA = await a.requests.get('r1');
        const seenByB = await b.requests.get('r1');
        assert.ok(seenByA && seenByB);
        assert.equal(seenByA.version, seenByB.version);
        const approve = async (store: Store, owner: string): Promise<string> => {
          await racePause();
          try {
            await store.requests.update(
              'r1',
              seenByA.version,
              { decidedBy: owner, decidedByName: `Owner ${owner}`, comment: `round ${round}` },
              at(round),
            );
            return owner;
          } catch (err) {
            if (err instanceof ConflictError) return 'conflict';
            throw err;
          }
        };
        const results = await Promise.all([approve(a, 'o1'), approve(b, 'o2')]);
        const winners = results.filter((r) => r !== 'conflict');
        assert.equal(winners.length, 1, `round ${round}: ${results.join(', ')}`);
        const final = await a.requests.get('r1');
        assert.equal(final?.decidedBy, winners[0]);
        assert.equal(final?.version, seenByA.version + 1);
      }
    });

    it('two stores create a pending request for the same group at once: exactly one duplicate', async () => {
      const [a, b] = await openTwo('shared.db');
      for (let round = 0; round < 20; round++) {
        const group = `g${round}`;
        const create = async (store: Store, id: string): Promise<string> => {
          await racePause();
          try {
            await store.requests.create(newRequest(id, { groupId: group }), at(round));
            return 'created';
          } catch (err) {
            if (err instanceof DuplicateRequestError) return `duplicate of ${err.existingId}`;
            throw err;
          }
        };
        const results = await Promise.all([create(a, `a${round}`), create(b, `b${round}`)]);
        assert.equal(results.filter((r) => r === 'created').length, 1, results.join(', '));
        const pending = (await b.requests.listByRequester('t1', 'u1', 100)).filter((r) => r.groupId === group);
        assert.equal(pending.length, 1);
        assert.deepEqual(
          results.filter((r) => r !== 'created'),
          [`duplicate of ${pending[0].id}`],
        );
      }
    });

    sqliteIt('threads on one file, creating in parallel: one pending request per group', async function () {
      this.timeout(60_000);
      const file = stores.files.path('threads.db');
      await openSqliteStore(file).close();

      const groups = 50;
      const body = `
        const outcome = { created: 0, duplicates: 0 };
        for (let g = 0; g < workerData.groups; g++) {
          try {
            await store.requests.create({
              id: workerData.name + '-' + g, tenantId: 't1', requesterId: 'u1', requesterName: 'Ada',
              appId: 'app-1', appName: 'Payroll', groupId: 'g' + g, groupName: 'G' + g,
              justification: '', ownerIds: ['o1'],
            }, new Date());
            outcome.created++;
          } catch (err) {
            if (err.name !== 'DuplicateRequestError' || !err.existingId) throw err;
            outcome.duplicates++;
          }
        }
        return outcome;
      `;
      const outcomes = await Promise.all(
        ['w1', 'w2', 'w3'].map((name) =>
          runStoreWorker<{ created: number; duplicates: number }>(file, body, { groups, name }),
        ),
      );
      assert.equal(
        outcomes.reduce((n, o) => n + o.created, 0),
        groups,
      );
      assert.equal(
        outcomes.reduce((n, o) => n + o.duplicates, 0),
        2 * groups,
      );

      const check = await open('threads.db');
      const all = await check.requests.listPendingForOwner('t1', 'o1', 1000);
      assert.equal(all.length, groups);
      assert.equal(new Set(all.map((r) => r.groupId)).size, groups);
    });
  });
});
