import { strict as assert } from 'node:assert';
import { applyMigrations, latestVersion, migrations } from '../../src/store/sqlite/migrations';
import { openSqliteStore } from '../../src/store/sqlite';
import { type AlertOccurrence, type AlertRecord, ConflictError, type Store } from '../../src/store/store';
import { fileBeforeMigration, racePause, rejectsConflict, runStoreWorker, withDatabase } from '../support/sqliteStores';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function occurrence(key: string, extra: Partial<AlertOccurrence> = {}): AlertOccurrence {
  return {
    tenantId: 't1',
    key,
    kind: 'groupDynamic',
    appId: 'app-1',
    appName: 'Payroll',
    groupId: 'g1',
    groupName: 'Payroll users',
    summary: 'The group of Payroll has dynamic membership',
    fix: ['Open the group in Entra ID', 'Set membership type to Assigned'],
    ...extra,
  };
}

const keys = (records: AlertRecord[]): string[] => records.map((r) => r.key);

describeEachEngine('store: alerts', 'guest-invite-alerts-', (stores) => {
  const { open, openTwo } = stores;
  const sqliteIt = stores.itOn('SQLite');

  describe('recordOccurrence', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    it('creates an open alert on the first occurrence and reads every field back', async () => {
      const blocked = { userId: 'u1', userName: 'Ada', action: 'invite' };
      const created = await store.alerts.recordOccurrence(occurrence('groupDynamic:g1', { lastBlocked: blocked }), T0);
      const expected: AlertRecord = {
        tenantId: 't1',
        key: 'groupDynamic:g1',
        kind: 'groupDynamic',
        appId: 'app-1',
        appName: 'Payroll',
        groupId: 'g1',
        groupName: 'Payroll users',
        summary: 'The group of Payroll has dynamic membership',
        fix: ['Open the group in Entra ID', 'Set membership type to Assigned'],
        state: 'open',
        count: 1,
        countSinceAlert: 1,
        lastBlocked: blocked,
        firstSeen: T0.toISOString(),
        lastSeen: T0.toISOString(),
        lastAlertedAt: null,
        pendingDelivery: false,
        acknowledgedBy: null,
        resolvedAt: null,
        version: 1,
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.alerts.get('t1', 'groupDynamic:g1'), expected);
      assert.equal(await store.alerts.get('t1', 'missing'), undefined);
      assert.equal(await store.alerts.get('t2', 'groupDynamic:g1'), undefined, 'another tenant sees nothing');
    });

    it('stores absent app, group and lastBlocked as null', async () => {
      const created = await store.alerts.recordOccurrence(
        { tenantId: 't1', key: 'consent', kind: 'consentMissing', summary: '', fix: [] },
        T0,
      );
      assert.equal(created.appId, null);
      assert.equal(created.appName, null);
      assert.equal(created.groupId, null);
      assert.equal(created.groupName, null);
      assert.equal(created.lastBlocked, null);
      assert.deepEqual(created.fix, []);
      assert.equal(created.summary, '');
    });

    it('counts repeated occurrences, moves lastSeen and keeps firstSeen', async () => {
      await store.alerts.recordOccurrence(occurrence('k'), T0);
      await store.alerts.recordOccurrence(occurrence('k'), at(1000));
      const third = await store.alerts.recordOccurrence(occurrence('k'), at(5000));
      assert.equal(third.count, 3);
      assert.equal(third.countSinceAlert, 3);
      assert.equal(third.firstSeen, T0.toISOString());
      assert.equal(third.lastSeen, at(5000).toISOString());
      assert.equal(third.version, 3);
      assert.equal(third.state, 'open');
      assert.deepEqual(await store.alerts.get('t1', 'k'), third);
    });

    it('keeps lastBlocked when the next occurrence has none, replaces it when it has one', async () => {
      const ada = { userId: 'u1', userName: 'Ada' };
      const bob = { userId: 'u2', userName: 'Bob', detail: { email: 'guest@example.com' } };
      await store.alerts.recordOccurrence(occurrence('k', { lastBlocked: ada }), T0);
      const record = async (extra: Partial<AlertOccurrence>, ms: number): Promise<AlertRecord['lastBlocked']> =>
        (await store.alerts.recordOccurrence(occurrence('k', extra), at(ms))).lastBlocked;
      assert.deepEqual(await record({}, 1), ada);
      assert.deepEqual(await record({ lastBlocked: null }, 2), ada);
      assert.deepEqual(await record({ lastBlocked: bob }, 3), bob);
      assert.deepEqual((await store.alerts.get('t1', 'k'))?.lastBlocked, bob);
    });

    it('refreshes summary, fix, kind and app and group names from the latest occurrence', async () => {
      await store.alerts.recordOccurrence(occurrence('k'), T0);
      const next = await store.alerts.recordOccurrence(
        occurrence('k', {
          kind: 'groupDynamicRule',
          appName: 'Payroll (new)',
          groupName: 'Payroll members',
          summary: 'Still dynamic',
          fix: ['Only step'],
        }),
        at(1000),
      );
      assert.equal(next.kind, 'groupDynamicRule');
      assert.equal(next.appName, 'Payroll (new)');
      assert.equal(next.groupName, 'Payroll members');
      assert.equal(next.summary, 'Still dynamic');
      assert.deepEqual(next.fix, ['Only step']);
      assert.equal(next.count, 2);
    });

    it('keys alerts per tenant', async () => {
      await store.alerts.recordOccurrence(occurrence('k'), T0);
      const other = await store.alerts.recordOccurrence(occurrence('k', { tenantId: 't2' }), at(1));
      assert.equal(other.count, 1);
      assert.equal(other.version, 1);
      assert.equal((await store.alerts.get('t1', 'k'))?.count, 1);
    });

    it('opens a resolved alert again on a new occurrence, clearing resolvedAt and acknowledgedBy', async () => {
      const created = await store.alerts.recordOccurrence(occurrence('k'), T0);
      const acked = await store.alerts.update(
        't1',
        'k',
        created.version,
        { state: 'acknowledged', acknowledgedBy: 'admin-1', lastAlertedAt: T0.toISOString(), countSinceAlert: 0 },
        at(1),
      );
      const resolved = await store.alerts.update(
        't1',
        'k',
        acked.version,
        { state: 'resolved', resolvedAt: at(2).toISOString() },
        at(2),
      );
      assert.equal(resolved.acknowledgedBy, 'admin-1');

      const reopened = await store.alerts.recordOccurrence(occurrence('k'), at(3));
      assert.equal(reopened.state, 'open');
      assert.equal(reopened.resolvedAt, null);
      assert.equal(reopened.acknowledgedBy, null);
      assert.equal(reopened.count, 2);
      assert.equal(reopened.countSinceAlert, 1);
      assert.equal(reopened.firstSeen, T0.toISOString());
      assert.equal(reopened.lastSeen, at(3).toISOString());
      assert.equal(reopened.lastAlertedAt, T0.toISOString(), 'when the admins were last told is kept');
      assert.equal(reopened.version, resolved.version + 1);
    });

    it('leaves an acknowledged alert acknowledged while counting', async () => {
      const created = await store.alerts.recordOccurrence(occurrence('k'), T0);
      await store.alerts.update(
        't1',
        'k',
        created.version,
        { state: 'acknowledged', acknowledgedBy: 'admin-1', countSinceAlert: 0 },
        at(1),
      );
      const next = await store.alerts.recordOccurrence(occurrence('k'), at(2));
      assert.equal(next.state, 'acknowledged');
      assert.equal(next.acknowledgedBy, 'admin-1');
      assert.equal(next.count, 2);
      assert.equal(next.countSinceAlert, 1);
    });

    it('keeps pendingDelivery across occurrences', async () => {
      const created = await store.alerts.recordOccurrence(occurrence('k'), T0);
      await store.alerts.update('t1', 'k', created.version, { pendingDelivery: true }, at(1));
      assert.equal((await store.alerts.recordOccurrence(occurrence('k'), at(2))).pendingDelivery, true);
    });

    it('rejects invalid input without storing anything', async () => {
      const bad: AlertOccurrence[] = [
        occurrence('k', { tenantId: '' }),
        occurrence(''),
        occurrence('k', { kind: '' }),
        occurrence('k', { summary: 42 as unknown as string }),
        occurrence('k', { fix: 'step' as unknown as string[] }),
        occurrence('k', { fix: ['ok', 7 as unknown as string] }),
        occurrence('k', { appName: 3 as unknown as string }),
        occurrence('k', { lastBlocked: ['u1'] as unknown as null }),
        occurrence('k', { lastBlocked: { n: 1n } as unknown as null }),
      ];
      for (const o of bad) {
        await assert.rejects(
          store.alerts.recordOccurrence(o, T0),
          TypeError,
          JSON.stringify(o, (_, v) => String(v)),
        );
      }
      await assert.rejects(store.alerts.recordOccurrence(occurrence('k'), new Date(Number.NaN)), TypeError);
      assert.equal(await store.alerts.get('t1', 'k'), undefined);
      assert.deepEqual(await store.alerts.list('t1', ['open', 'acknowledged', 'resolved'], 10), []);
    });
  });

  describe('update', () => {
    let store: Store;
    let created: AlertRecord;
    beforeEach(async () => {
      store = await open();
      created = await store.alerts.recordOccurrence(occurrence('k', { lastBlocked: { userId: 'u1' } }), T0);
    });

    it('changes only the fields in the patch and increments the version', async () => {
      const updated = await store.alerts.update(
        't1',
        'k',
        created.version,
        { lastAlertedAt: at(10).toISOString(), countSinceAlert: 0, pendingDelivery: true },
        at(10),
      );
      assert.deepEqual(updated, {
        ...created,
        lastAlertedAt: at(10).toISOString(),
        countSinceAlert: 0,
        pendingDelivery: true,
        version: created.version + 1,
      });
      assert.deepEqual(await store.alerts.get('t1', 'k'), updated);
      const empty = await store.alerts.update('t1', 'k', updated.version, {}, at(11));
      assert.deepEqual(empty, { ...updated, version: updated.version + 1 });
    });

    it('clears a field set to null explicitly', async () => {
      const acked = await store.alerts.update(
        't1',
        'k',
        created.version,
        { state: 'acknowledged', acknowledgedBy: 'admin-1', lastAlertedAt: T0.toISOString() },
        at(1),
      );
      const cleared = await store.alerts.update(
        't1',
        'k',
        acked.version,
        { state: 'open', acknowledgedBy: null, lastAlertedAt: null },
        at(2),
      );
      assert.equal(cleared.state, 'open');
      assert.equal(cleared.acknowledgedBy, null);
      assert.equal(cleared.lastAlertedAt, null);
      assert.deepEqual(cleared.lastBlocked, { userId: 'u1' });
    });

    it('conflicts on a stale version, leaving the alert unchanged', async () => {
      const updated = await store.alerts.update('t1', 'k', created.version, { pendingDelivery: true }, at(1));
      await rejectsConflict(store.alerts.update('t1', 'k', created.version, { state: 'resolved' }, at(2)));
      await rejectsConflict(store.alerts.update('t1', 'k', updated.version + 1, { state: 'resolved' }, at(2)));
      assert.deepEqual(await store.alerts.get('t1', 'k'), updated);
    });

    it('conflicts when an occurrence was recorded after the alert was read', async () => {
      await store.alerts.recordOccurrence(occurrence('k'), at(1));
      await rejectsConflict(store.alerts.update('t1', 'k', created.version, { countSinceAlert: 0 }, at(2)));
      assert.equal((await store.alerts.get('t1', 'k'))?.countSinceAlert, 2);
    });

    it('conflicts on a missing alert, also one of another tenant', async () => {
      await assert.rejects(
        store.alerts.update('t1', 'missing', 1, { state: 'resolved' }, T0),
        (err: unknown) => err instanceof ConflictError && /does not exist/.test(err.message),
      );
      await rejectsConflict(store.alerts.update('t2', 'k', created.version, { state: 'resolved' }, T0));
      assert.equal(await store.alerts.get('t2', 'k'), undefined);
    });

    it('rejects invalid patches without changing anything', async () => {
      const bad: unknown[] = [
        { state: 'closed' },
        { pendingDelivery: 1 },
        { countSinceAlert: -1 },
        { countSinceAlert: 1.5 },
        { acknowledgedBy: 5 },
        { resolvedAt: new Date() },
      ];
      for (const patch of bad) {
        await assert.rejects(
          store.alerts.update('t1', 'k', created.version, patch as never, at(1)),
          TypeError,
          JSON.stringify(patch),
        );
      }
      await assert.rejects(store.alerts.update('t1', 'k', 1.5, {}, at(1)), TypeError);
      await assert.rejects(store.alerts.update('t1', 'k', created.version, {}, new Date(Number.NaN)), TypeError);
      assert.deepEqual(await store.alerts.get('t1', 'k'), created);
    });
  });

  describe('lists', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      // a: open, seen at 3; b: acknowledged, seen at 1; c: resolved, seen at 2; d: open, seen at 4; other tenant: open
      await store.alerts.recordOccurrence(occurrence('a'), at(3));
      const b = await store.alerts.recordOccurrence(occurrence('b'), at(1));
      await store.alerts.update('t1', 'b', b.version, { state: 'acknowledged', acknowledgedBy: 'admin' }, at(5));
      const c = await store.alerts.recordOccurrence(occurrence('c'), at(2));
      await store.alerts.update('t1', 'c', c.version, { state: 'resolved', resolvedAt: at(5).toISOString() }, at(5));
      await store.alerts.recordOccurrence(occurrence('d'), at(4));
      await store.alerts.recordOccurrence(occurrence('a', { tenantId: 't2' }), at(9));
    });

    it('lists the alerts of a tenant in the given states, most recently seen first', async () => {
      assert.deepEqual(keys(await store.alerts.list('t1', ['open'], 10)), ['d', 'a']);
      assert.deepEqual(keys(await store.alerts.list('t1', ['open', 'acknowledged'], 10)), ['d', 'a', 'b']);
      assert.deepEqual(keys(await store.alerts.list('t1', ['resolved'], 10)), ['c']);
      assert.deepEqual(keys(await store.alerts.list('t1', ['open', 'acknowledged', 'resolved'], 10)), [
        'd',
        'a',
        'c',
        'b',
      ]);
      assert.deepEqual(await store.alerts.list('t1', [], 10), []);
    });

    it('orders by the latest occurrence, not by creation', async () => {
      await store.alerts.recordOccurrence(occurrence('b'), at(10));
      assert.deepEqual(keys(await store.alerts.list('t1', ['open', 'acknowledged'], 10)), ['b', 'd', 'a']);
    });

    it('limits', async () => {
      assert.deepEqual(keys(await store.alerts.list('t1', ['open', 'acknowledged', 'resolved'], 2)), ['d', 'a']);
      await assert.rejects(store.alerts.list('t1', ['open'], 0), TypeError);
      await assert.rejects(store.alerts.list('t1', ['open'], 1.5), TypeError);
      await assert.rejects(store.alerts.list('t1', ['closed' as never], 10), TypeError);
    });

    it('keeps tenants apart', async () => {
      const other = await store.alerts.list('t2', ['open', 'acknowledged', 'resolved'], 10);
      assert.deepEqual(
        other.map((r) => [r.tenantId, r.key]),
        [['t2', 'a']],
      );
      assert.deepEqual(await store.alerts.list('t3', ['open'], 10), []);
    });

    it('lists alerts pending delivery across tenants, oldest lastSeen first', async () => {
      assert.deepEqual(await store.alerts.listPendingDelivery(10), []);
      for (const [tenantId, key] of [
        ['t2', 'a'],
        ['t1', 'a'],
        ['t1', 'b'],
      ]) {
        const current = await store.alerts.get(tenantId, key);
        assert.ok(current);
        await store.alerts.update(tenantId, key, current.version, { pendingDelivery: true }, at(20));
      }
      const pending = await store.alerts.listPendingDelivery(10);
      assert.deepEqual(
        pending.map((r) => `${r.tenantId}/${r.key}`),
        ['t1/b', 't1/a', 't2/a'],
      );
      assert.ok(pending.every((r) => r.pendingDelivery));
      assert.deepEqual(
        (await store.alerts.listPendingDelivery(2)).map((r) => `${r.tenantId}/${r.key}`),
        ['t1/b', 't1/a'],
      );

      const b = pending[0];
      await store.alerts.update(
        't1',
        'b',
        b.version,
        { pendingDelivery: false, lastAlertedAt: at(30).toISOString() },
        at(30),
      );
      assert.deepEqual(
        (await store.alerts.listPendingDelivery(10)).map((r) => `${r.tenantId}/${r.key}`),
        ['t1/a', 't2/a'],
      );
      await assert.rejects(store.alerts.listPendingDelivery(0), TypeError);
    });
  });

  describe('persistence and schema', () => {
    it('keeps alerts and versions across close and reopen', async () => {
      const first = await open('p.db');
      await first.alerts.recordOccurrence(occurrence('k', { lastBlocked: { userId: 'u1' } }), T0);
      const second1 = await first.alerts.recordOccurrence(occurrence('k'), at(1000));
      const updated = await first.alerts.update('t1', 'k', second1.version, { pendingDelivery: true }, at(2000));
      await first.close();

      const second = await open('p.db');
      assert.deepEqual(await second.alerts.get('t1', 'k'), updated);
      assert.deepEqual(keys(await second.alerts.listPendingDelivery(10)), ['k']);
      await rejectsConflict(second.alerts.update('t1', 'k', second1.version, { state: 'resolved' }, at(3000)));
      const next = await second.alerts.recordOccurrence(occurrence('k'), at(4000));
      assert.equal(next.count, 3);
      assert.equal(next.version, updated.version + 1);
      assert.deepEqual(next.lastBlocked, { userId: 'u1' });
    });

    sqliteIt(
      'applies each migration once: user_version is the number of migrations, reopening applies nothing',
      async () => {
        const file = stores.files.path('m.db');
        await openSqliteStore(file).close();
        withDatabase(file, (raw) => {
          assert.equal(latestVersion(), migrations.length);
          assert.equal(raw.pragma('user_version', { simple: true }), migrations.length);
          const indexes = raw
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts' AND sql IS NOT NULL " +
                'ORDER BY name',
            )
            .all() as { name: string }[];
          assert.deepEqual(
            indexes.map((i) => i.name),
            ['alerts_by_state', 'alerts_pending_delivery'],
          );
          assert.deepEqual(applyMigrations(raw), { from: migrations.length, to: migrations.length });
        });
        const again = await open('m.db');
        await again.alerts.recordOccurrence(occurrence('k'), T0);
        await again.close();
        withDatabase(file, (check) => assert.equal(check.pragma('user_version', { simple: true }), migrations.length));
      },
    );

    sqliteIt('adds the alerts table to a file at the previous schema version, keeping its data', async () => {
      fileBeforeMigration(stores.files.path('old.db'), 'alerts', T0);
      const store = await open('old.db');
      assert.deepEqual((await store.state.read(['k'])).get('k')?.value, { kept: true });
      await store.alerts.recordOccurrence(occurrence('k'), T0);
      assert.deepEqual(keys(await store.alerts.list('t1', ['open'], 10)), ['k']);
    });
  });

  describe('concurrency', () => {
    it('two stores on one file recording the same problem, interleaved, lose no occurrence', async () => {
      const [a, b] = await openTwo('shared.db');
      const perStore = 50;
      const record = async (store: Store, name: string): Promise<void> => {
        for (let i = 0; i < perStore; i++) {
          await racePause();
          await store.alerts.recordOccurrence(occurrence('k', { lastBlocked: { by: name, i } }), at(i));
        }
      };
      await Promise.all([record(a, 'a'), record(b, 'b')]);
      const final = await a.alerts.get('t1', 'k');
      assert.equal(final?.count, 2 * perStore);
      assert.equal(final?.countSinceAlert, 2 * perStore);
      assert.equal(final?.version, 2 * perStore);
      assert.equal(final?.firstSeen, T0.toISOString());
    });

    it('two stores update the same version: exactly one wins, the other conflicts', async () => {
      const [a, b] = await openTwo('shared.db');
      await a.alerts.recordOccurrence(occurrence('k'), T0);
      for (let round = 0; round < 20; round++) {
        const seenByA = await a.alerts.get('t1', 'k');
        const seenByB = await b.alerts.get('t1', 'k');
        assert.ok(seenByA && seenByB);
        assert.equal(seenByA.version, seenByB.version);
        const acknowledge = async (store: Store, admin: string): Promise<string> => {
          await racePause();
          try {
            await store.alerts.update(
              't1',
              'k',
              seenByA.version,
              { state: 'acknowledged', acknowledgedBy: admin, countSinceAlert: round },
              at(round),
            );
            return admin;
          } catch (err) {
            if (err instanceof ConflictError) return 'conflict';
            throw err;
          }
        };
        const results = await Promise.all([acknowledge(a, 'admin-a'), acknowledge(b, 'admin-b')]);
        const winners = results.filter((r) => r !== 'conflict');
        assert.equal(winners.length, 1, `round ${round}: ${results.join(', ')}`);
        const final = await b.alerts.get('t1', 'k');
        assert.equal(final?.acknowledgedBy, winners[0]);
        assert.equal(final?.version, seenByA.version + 1);
      }
    });

    sqliteIt('threads on one file, recording in parallel, lose no occurrence', async function () {
      this.timeout(60_000);
      const file = stores.files.path('threads.db');
      await openSqliteStore(file).close();

      const perThread = 50;
      const body = `
        for (let i = 0; i < workerData.perThread; i++) {
          await store.alerts.recordOccurrence({
            tenantId: 't1', key: 'k', kind: 'groupDynamic', summary: 'from ' + workerData.name, fix: [],
            lastBlocked: { by: workerData.name, i },
          }, new Date());
        }
      `;
      await Promise.all(['w1', 'w2'].map((name) => runStoreWorker<void>(file, body, { perThread, name })));

      const check = await open('threads.db');
      const final = await check.alerts.get('t1', 'k');
      assert.equal(final?.count, 2 * perThread);
      assert.equal(final?.countSinceAlert, 2 * perThread);
      assert.equal(final?.version, 2 * perThread);
    });
  });
});
