import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { applyMigrations, latestVersion, migrations, SchemaTooNewError } from '../../src/store/sqlite/migrations';
import { openSqliteStore } from '../../src/store/sqlite';
import { type AuditEntry, ConflictError, type JsonObject, type NewOperation, type Store } from '../../src/store/store';
import { withPgClient } from '../support/postgres';
import { racePause, rejectsConflict, runStoreWorker } from '../support/sqliteStores';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function newOp(id: string, extra: Partial<NewOperation> = {}): NewOperation {
  return { id, kind: 'invite', tenantId: 't1', actorId: 'u1', input: { email: 'guest@example.com' }, ...extra };
}

function audit(extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time: T0.toISOString(),
    tenantId: 't1',
    actorId: 'u1',
    action: 'invite.succeeded',
    outcome: 'ok',
    ...extra,
  };
}

describeEachEngine('store', 'guest-invite-store-', (stores) => {
  const { open, openTwo } = stores;
  const sqliteIt = stores.itOn('SQLite');

  describe('open', () => {
    sqliteIt('creates the parent folder and a WAL database', async () => {
      const { files } = stores;
      const file = files.path('nested/deeper/store.db');
      const store = files.track(openSqliteStore(file));
      await store.ping();
      assert.ok(existsSync(file));
      const raw = new Database(file);
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        raw.close();
      }
    });

    sqliteIt('works in memory', async () => {
      const store = stores.track(openSqliteStore(':memory:'));
      await store.ping();
      await store.state.write('k', { a: 1 });
      assert.deepEqual((await store.state.read(['k'])).get('k')?.value, { a: 1 });
    });

    it('refuses calls after close, and close twice is harmless', async () => {
      const store = await open();
      await store.close();
      await store.close();
      await assert.rejects(store.ping(), /closed/);
      await assert.rejects(store.state.read(['k']), /closed/);
    });
  });

  describe('state', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    it('deletes stale items under a prefix only, oldest writes only, a limited number at a time', async () => {
      let now = T0;
      const clocked = await open('stale', { clock: () => now });
      for (const key of ['activity/c1/a', 'activity/c1/b', 'activity/c2/a', 'conv/c1', 'activityx'])
        await clocked.state.write(key, { n: 1 });
      now = at(60_000);
      await clocked.state.write('activity/c3/new', { n: 1 });
      assert.equal(await clocked.state.deleteStale('activity/', at(30_000), 2), 2);
      assert.equal(await clocked.state.deleteStale('activity/', at(30_000), 10), 1);
      assert.equal(await clocked.state.deleteStale('activity/', at(30_000), 10), 0);
      const left = await clocked.state.read([
        'activity/c1/a',
        'activity/c1/b',
        'activity/c2/a',
        'activity/c3/new',
        'conv/c1',
        'activityx',
      ]);
      assert.deepEqual([...left.keys()].sort(), ['activity/c3/new', 'activityx', 'conv/c1']);
    });

    it('reads nothing for missing keys', async () => {
      assert.equal((await store.state.read(['nope'])).size, 0);
      assert.equal((await store.state.read([])).size, 0);
    });

    it('create-only write conflicts when the item exists', async () => {
      const v1 = await store.state.write('k', { n: 1 }, null);
      await rejectsConflict(store.state.write('k', { n: 2 }, null));
      const item = (await store.state.read(['k'])).get('k');
      assert.deepEqual(item, { key: 'k', value: { n: 1 }, version: v1 });
    });

    it('conditional write succeeds on the current version and conflicts on a stale one', async () => {
      const v1 = await store.state.write('k', { n: 1 }, null);
      const v2 = await store.state.write('k', { n: 2 }, v1);
      assert.notEqual(v2, v1);
      await rejectsConflict(store.state.write('k', { n: 3 }, v1));
      const item = (await store.state.read(['k'])).get('k');
      assert.deepEqual(item, { key: 'k', value: { n: 2 }, version: v2 });
    });

    it('conditional write on a missing item conflicts', async () => {
      await rejectsConflict(store.state.write('k', { n: 1 }, 'some-version'));
      assert.equal((await store.state.read(['k'])).size, 0);
    });

    it('unconditional writes (undefined or *) overwrite and change the version every time', async () => {
      const v1 = await store.state.write('k', { n: 1 });
      const v2 = await store.state.write('k', { n: 2 }, '*');
      const v3 = await store.state.write('k', { n: 3 }, undefined);
      assert.equal(new Set([v1, v2, v3]).size, 3);
      assert.deepEqual((await store.state.read(['k'])).get('k'), { key: 'k', value: { n: 3 }, version: v3 });
      const v4 = await store.state.write('fresh', { x: true }, '*');
      assert.deepEqual((await store.state.read(['fresh'])).get('fresh')?.version, v4);
    });

    it('reads several keys at once', async () => {
      const keys = Array.from({ length: 1500 }, (_, i) => `key/${i}`);
      for (const key of keys) {
        await store.state.write(key, { key });
      }
      const items = await store.state.read([...keys, 'missing']);
      assert.equal(items.size, keys.length);
      assert.deepEqual(items.get('key/1499')?.value, { key: 'key/1499' });
    });

    it('deletes items and ignores missing keys', async () => {
      await store.state.write('a', { n: 1 });
      await store.state.write('b', { n: 2 });
      await store.state.delete(['a', 'missing']);
      const items = await store.state.read(['a', 'b']);
      assert.deepEqual([...items.keys()], ['b']);
      await store.state.write('a', { n: 3 }, null);
      assert.deepEqual((await store.state.read(['a'])).get('a')?.value, { n: 3 });
    });

    it('stores JSON and rejects values that do not serialize', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await assert.rejects(store.state.write('k', { big: 1n } as unknown as JsonObject), TypeError);
      await assert.rejects(store.state.write('k', circular as JsonObject), TypeError);
      await assert.rejects(store.state.write('k', [1, 2] as unknown as JsonObject), TypeError);
      await assert.rejects(store.state.write('k', null as unknown as JsonObject), TypeError);
      assert.equal((await store.state.read(['k'])).size, 0);
      const value = { s: 'é \u{1F600}', n: 1.5, b: false, z: null, list: [1, { a: 'b' }], nested: { deep: {} } };
      await store.state.write('k', value);
      assert.deepEqual((await store.state.read(['k'])).get('k')?.value, value);
    });
  });

  describe('persistence', () => {
    it('keeps state, versions, audit, operations and conversations across close and reopen', async () => {
      const first = await open('data/store.db');
      const version = await first.state.write('conv/1', { dialog: { step: 2 } });
      await first.audit.append(audit({ guestEmail: 'g@example.com', operationId: 'op-1' }));
      await first.operations.create(newOp('op-1', { replyTo: { conversationId: 'c1' } }), T0);
      const leased = await first.operations.acquireLease('op-1', 'worker-a', 60_000, at(1));
      assert.ok(leased);
      const updated = await first.operations.update(
        'op-1',
        leased.version,
        { status: 'running', steps: { invite: { status: 'done', at: at(2).toISOString(), result: { id: 'g1' } } } },
        at(2),
      );
      await first.conversations.upsert('t1', 'u1', { serviceUrl: 'https://smba.example/' }, T0);
      await first.close();

      const second = await open('data/store.db');
      assert.deepEqual((await second.state.read(['conv/1'])).get('conv/1'), {
        key: 'conv/1',
        value: { dialog: { step: 2 } },
        version,
      });
      await second.state.write('conv/1', { dialog: { step: 3 } }, version);
      const entries = await second.audit.list();
      assert.equal(entries.length, 1);
      assert.equal(entries[0].guestEmail, 'g@example.com');
      assert.deepEqual(await second.operations.get('op-1'), updated);
      assert.equal(updated.leaseOwner, 'worker-a');
      assert.deepEqual(await second.conversations.get('t1', 'u1'), { serviceUrl: 'https://smba.example/' });
      // the audit sequence continues where it stopped
      const seq = await second.audit.append(audit());
      assert.equal(seq, (entries[0].seq ?? 0) + 1);
    });
  });

  // PostgreSQL's migrations: test/store/postgres.test.ts.
  if (stores.engine === 'SQLite')
    describe('migrations', () => {
      const { files } = stores;
      it('has strictly increasing ids starting at 1', () => {
        assert.ok(migrations.length > 0);
        migrations.forEach((m, i) => assert.equal(m.id, i + 1));
      });

      it('sets user_version on a new file and applies nothing on reopen', async () => {
        const file = files.path('m.db');
        await openSqliteStore(file).close();
        const raw = new Database(file);
        try {
          assert.equal(raw.pragma('user_version', { simple: true }), latestVersion());
          assert.deepEqual(applyMigrations(raw), { from: latestVersion(), to: latestVersion() });
        } finally {
          raw.close();
        }
        const again = await open('m.db');
        await again.state.write('k', { ok: true }, null);
      });

      it('refuses a file whose schema is newer than the code', async () => {
        const file = files.path('newer.db');
        await openSqliteStore(file).close();
        const raw = new Database(file);
        raw.pragma(`user_version = ${latestVersion() + 1}`);
        raw.close();
        assert.throws(
          () => openSqliteStore(file),
          (err: unknown) =>
            err instanceof SchemaTooNewError && /newer than this application supports/.test(err.message),
        );
        const check = new Database(file);
        try {
          assert.equal(check.pragma('user_version', { simple: true }), latestVersion() + 1);
        } finally {
          check.close();
        }
      });

      it('applies a later migration once, keeping data, and rolls back a failing one entirely', async () => {
        const file = files.path('grow.db');
        const store = openSqliteStore(file);
        await store.state.write('k', { kept: true });
        await store.close();

        const next = latestVersion() + 1;
        const raw = new Database(file);
        try {
          const broken = [
            ...migrations,
            { id: next, name: 'broken', sql: 'CREATE TABLE extra (x INTEGER); INSERT INTO nowhere VALUES (1);' },
          ];
          assert.throws(() => applyMigrations(raw, broken));
          assert.equal(raw.pragma('user_version', { simple: true }), latestVersion());
          const extra = raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'").get() as {
            n: number;
          };
          assert.equal(extra.n, 0, 'nothing of the failed migration remains');

          const grown = [...migrations, { id: next, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER);' }];
          assert.deepEqual(applyMigrations(raw, grown), { from: latestVersion(), to: next });
          assert.deepEqual(applyMigrations(raw, grown), { from: next, to: next });
          assert.throws(() => applyMigrations(raw), SchemaTooNewError);
        } finally {
          raw.close();
        }
      });
    });

  describe('operations', () => {
    let store: Store;
    let clockNow: Date;
    beforeEach(async () => {
      clockNow = at(0);
      store = await open('ops.db', { clock: () => clockNow });
    });

    it('creates a pending record once; the same id again returns the stored record', async () => {
      const first = await store.operations.create(newOp('op-1', { replyTo: { activityId: 'a1' } }), T0);
      assert.equal(first.created, true);
      assert.deepEqual(first.record, {
        id: 'op-1',
        kind: 'invite',
        tenantId: 't1',
        actorId: 'u1',
        status: 'pending',
        input: { email: 'guest@example.com' },
        steps: {},
        result: null,
        replyTo: { activityId: 'a1' },
        attempts: 0,
        version: 1,
        leaseOwner: null,
        leaseExpiresAt: null,
        createdAt: T0.toISOString(),
        updatedAt: T0.toISOString(),
      });
      const second = await store.operations.create(newOp('op-1', { input: { email: 'other@example.com' } }), at(5));
      assert.equal(second.created, false);
      assert.deepEqual(second.record, first.record);
      assert.deepEqual(await store.operations.get('op-1'), first.record);
      assert.equal(await store.operations.get('missing'), undefined);
    });

    it('updates with compare-and-set on the version', async () => {
      const { record } = await store.operations.create(newOp('op-1'), T0);
      const step = { status: 'done' as const, at: at(1).toISOString(), result: { userId: 'g1' } };
      const v2 = await store.operations.update(
        'op-1',
        record.version,
        { status: 'running', steps: { invite: step } },
        at(1),
      );
      assert.equal(v2.version, record.version + 1);
      assert.equal(v2.status, 'running');
      assert.deepEqual(v2.steps, { invite: step });
      assert.equal(v2.updatedAt, at(1).toISOString());
      assert.equal(v2.createdAt, T0.toISOString());

      await rejectsConflict(store.operations.update('op-1', record.version, { status: 'failed' }, at(2)));
      assert.deepEqual(await store.operations.get('op-1'), v2);

      const v3 = await store.operations.update('op-1', v2.version, { result: { ok: true }, attempts: 2 }, at(3));
      assert.deepEqual(v3.steps, v2.steps, 'fields not in the patch are kept');
      assert.equal(v3.status, 'running');
      assert.deepEqual(v3.result, { ok: true });
      assert.equal(v3.attempts, 2);
      const v4 = await store.operations.update('op-1', v3.version, { result: null, replyTo: null }, at(4));
      assert.equal(v4.result, null);
      assert.equal(v4.version, v3.version + 1);

      await rejectsConflict(store.operations.update('missing', 1, { status: 'failed' }, at(5)));
    });

    it('leases: refused to another owner while live, renewable by its owner, granted after expiry', async () => {
      await store.operations.create(newOp('op-1'), T0);
      const a = await store.operations.acquireLease('op-1', 'A', 1000, at(0));
      assert.equal(a?.leaseOwner, 'A');
      assert.equal(a?.leaseExpiresAt, at(1000).toISOString());

      assert.equal(await store.operations.acquireLease('op-1', 'B', 1000, at(999)), undefined);
      const renewed = await store.operations.acquireLease('op-1', 'A', 1000, at(500));
      assert.equal(renewed?.leaseExpiresAt, at(1500).toISOString());
      assert.equal(await store.operations.acquireLease('op-1', 'B', 1000, at(1499)), undefined);

      const b = await store.operations.acquireLease('op-1', 'B', 1000, at(1500));
      assert.equal(b?.leaseOwner, 'B');
      assert.ok(b && renewed && b.version > renewed.version);
      // the previous holder's view is stale: its next update conflicts
      await rejectsConflict(store.operations.update('op-1', renewed.version, { status: 'running' }, at(1600)));
    });

    it("releases only the owner's lease", async () => {
      await store.operations.create(newOp('op-1'), T0);
      await store.operations.acquireLease('op-1', 'A', 60_000, at(0));
      await store.operations.releaseLease('op-1', 'B');
      assert.equal((await store.operations.get('op-1'))?.leaseOwner, 'A');
      clockNow = at(10);
      await store.operations.releaseLease('op-1', 'A');
      const released = await store.operations.get('op-1');
      assert.equal(released?.leaseOwner, null);
      assert.equal(released?.leaseExpiresAt, null);
      assert.equal(released?.updatedAt, at(10).toISOString());
      assert.equal((await store.operations.acquireLease('op-1', 'B', 1000, at(11)))?.leaseOwner, 'B');
      await store.operations.releaseLease('missing', 'A');
    });

    it('does not lease finished or missing records', async () => {
      for (const status of ['succeeded', 'failed'] as const) {
        const { record } = await store.operations.create(newOp(`op-${status}`), T0);
        await store.operations.update(record.id, record.version, { status }, at(1));
        assert.equal(await store.operations.acquireLease(record.id, 'A', 1000, at(2)), undefined);
      }
      const { record } = await store.operations.create(newOp('op-running'), T0);
      await store.operations.update(record.id, record.version, { status: 'running' }, at(1));
      assert.ok(await store.operations.acquireLease(record.id, 'A', 1000, at(2)));
      assert.equal(await store.operations.acquireLease('missing', 'A', 1000, at(2)), undefined);
    });

    it('lists unfinished records oldest first', async () => {
      await store.operations.create(newOp('late'), at(3000));
      await store.operations.create(newOp('early'), at(1000));
      const { record: done } = await store.operations.create(newOp('done'), at(0));
      await store.operations.update('done', done.version, { status: 'succeeded' }, at(5000));
      const { record: mid } = await store.operations.create(newOp('mid'), at(2000));
      await store.operations.update('mid', mid.version, { status: 'running' }, at(5000));

      assert.deepEqual(
        (await store.operations.listUnfinished(10)).map((r) => r.id),
        ['early', 'mid', 'late'],
      );
      assert.deepEqual(
        (await store.operations.listUnfinished(2)).map((r) => r.id),
        ['early', 'mid'],
      );
      // A record whose lease is held (e.g. waiting for replication) is left out when asked for runnable ones.
      await store.operations.acquireLease('early', 'waiting', 60_000, at(6000));
      assert.deepEqual(
        (await store.operations.listUnfinished(2, at(7000))).map((r) => r.id),
        ['mid', 'late'],
      );
      assert.deepEqual(
        (await store.operations.listUnfinished(10, at(70_000))).map((r) => r.id),
        ['early', 'mid', 'late'],
      );
    });

    it('rejects inputs that do not serialize', async () => {
      await assert.rejects(
        store.operations.create(newOp('bad', { input: { n: 1n } as unknown as JsonObject }), T0),
        TypeError,
      );
      assert.equal(await store.operations.get('bad'), undefined);
    });
  });

  describe('audit', () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });

    it('appends with increasing seq and lists newest first', async () => {
      const s1 = await store.audit.append(audit({ detail: 'first' }));
      const s2 = await store.audit.append(audit({ detail: 'second' }));
      assert.ok(s2 > s1);
      const entries = await store.audit.list();
      assert.deepEqual(
        entries.map((e) => e.detail),
        ['second', 'first'],
      );
      assert.deepEqual(entries[1], { ...audit({ detail: 'first' }), seq: s1 });
    });

    it('round-trips every field and leaves absent ones absent', async () => {
      const full: AuditEntry = {
        time: T0.toISOString(),
        tenantId: 't1',
        actorId: 'u1',
        actorName: 'Ann',
        action: 'invite.refused',
        outcome: 'not-owner',
        appId: 'app1',
        appName: 'Payroll',
        groupId: 'g1',
        groupName: 'Payroll users',
        guestEmail: 'guest@example.com',
        guestId: 'guest1',
        detail: 'not an owner',
        graphRequestId: 'req-1',
        activityId: 'act-1',
        operationId: 'op-1',
      };
      const seq = await store.audit.append(full);
      await store.audit.append(audit());
      const [minimal, stored] = await store.audit.list();
      assert.deepEqual(stored, { ...full, seq });
      assert.deepEqual(Object.keys(minimal).sort(), ['action', 'actorId', 'outcome', 'seq', 'tenantId', 'time']);
    });

    it('filters by tenant, actor, action and operation, and limits', async () => {
      await store.audit.append(audit({ tenantId: 't1', actorId: 'u1', action: 'invite.succeeded', operationId: 'o1' }));
      await store.audit.append(audit({ tenantId: 't1', actorId: 'u2', action: 'invite.refused' }));
      await store.audit.append(audit({ tenantId: 't2', actorId: 'u1', action: 'invite.failed', operationId: 'o2' }));
      await store.audit.append(audit({ tenantId: 't1', actorId: 'u1', action: 'invite.failed', operationId: 'o1' }));

      const actions = async (q: Parameters<Store['audit']['list']>[0]): Promise<string[]> =>
        (await store.audit.list(q)).map((e) => `${e.tenantId}/${e.actorId}/${e.action}`);
      assert.deepEqual(await actions({ tenantId: 't1' }), [
        't1/u1/invite.failed',
        't1/u2/invite.refused',
        't1/u1/invite.succeeded',
      ]);
      assert.deepEqual(await actions({ actorId: 'u1' }), [
        't1/u1/invite.failed',
        't2/u1/invite.failed',
        't1/u1/invite.succeeded',
      ]);
      assert.deepEqual(await actions({ action: 'invite.failed' }), ['t1/u1/invite.failed', 't2/u1/invite.failed']);
      assert.deepEqual(await actions({ operationId: 'o1' }), ['t1/u1/invite.failed', 't1/u1/invite.succeeded']);
      assert.deepEqual(await actions({ tenantId: 't1', actorId: 'u1', action: 'invite.succeeded' }), [
        't1/u1/invite.succeeded',
      ]);
      assert.deepEqual(await actions({ tenantId: 't3' }), []);
      assert.deepEqual(await actions({ limit: 2 }), ['t1/u1/invite.failed', 't2/u1/invite.failed']);
    });

    it('returns at most 100 entries by default', async () => {
      for (let i = 0; i < 105; i++) {
        await store.audit.append(audit({ detail: String(i) }));
      }
      const entries = await store.audit.list();
      assert.equal(entries.length, 100);
      assert.equal(entries[0].detail, '104');
    });

    sqliteIt('cannot be changed or deleted once written', async () => {
      await store.audit.append(audit());
      await store.close();
      const raw = new Database(stores.files.path('store.db'));
      try {
        assert.throws(() => raw.exec("UPDATE audit_log SET outcome = 'forged'"), /append-only/);
        assert.throws(() => raw.exec('DELETE FROM audit_log'), /append-only/);
      } finally {
        raw.close();
      }
    });

    stores.itOn('PostgreSQL')('cannot be changed, deleted or truncated once written', async () => {
      await store.audit.append(audit());
      await withPgClient(await stores.location(), async (raw) => {
        await assert.rejects(raw.query("UPDATE audit_log SET outcome = 'forged'"), /append-only/);
        await assert.rejects(raw.query('DELETE FROM audit_log'), /append-only/);
        await assert.rejects(raw.query('TRUNCATE audit_log'), /append-only/);
      });
      assert.equal((await store.audit.list()).length, 1);
    });
  });

  describe('conversations', () => {
    it('upserts, reads and deletes per tenant and user', async () => {
      const store = await open();
      assert.equal(await store.conversations.get('t1', 'u1'), undefined);
      await store.conversations.upsert('t1', 'u1', { serviceUrl: 'https://a/', conversation: { id: 'c1' } }, T0);
      await store.conversations.upsert('t2', 'u1', { serviceUrl: 'https://other/' }, T0);
      await store.conversations.upsert('t1', 'u1', { serviceUrl: 'https://b/', conversation: { id: 'c2' } }, at(1));
      assert.deepEqual(await store.conversations.get('t1', 'u1'), {
        serviceUrl: 'https://b/',
        conversation: { id: 'c2' },
      });
      assert.deepEqual(await store.conversations.get('t2', 'u1'), { serviceUrl: 'https://other/' });
      await store.conversations.delete('t1', 'u1');
      await store.conversations.delete('t1', 'nobody');
      assert.equal(await store.conversations.get('t1', 'u1'), undefined);
      assert.deepEqual(await store.conversations.get('t2', 'u1'), { serviceUrl: 'https://other/' });
    });

    sqliteIt('does not write an unchanged reference again: updated_at stays when it last changed', async () => {
      const store = await open();
      const reference = { serviceUrl: 'https://a/', conversation: { id: 'c1' } };
      await store.conversations.upsert('t1', 'u1', reference, T0);
      await store.conversations.upsert('t1', 'u1', { ...reference }, at(1_000));
      const updatedAt = (): string => {
        const db = new Database(stores.files.path('store.db'), { readonly: true });
        try {
          return (
            db.prepare("SELECT updated_at FROM conversation_refs WHERE tenant_id = 't1' AND user_id = 'u1'").get() as {
              updated_at: string;
            }
          ).updated_at;
        } finally {
          db.close();
        }
      };
      assert.equal(updatedAt(), T0.toISOString());
      await store.conversations.upsert('t1', 'u1', { ...reference, conversation: { id: 'c2' } }, at(2_000));
      assert.equal(updatedAt(), at(2_000).toISOString());
    });
  });

  describe('concurrency', () => {
    it('two stores on one file: exactly one conditional operation update wins per version', async () => {
      const [a, b] = await openTwo('shared.db');
      await a.operations.create(newOp('op-1'), T0);
      const workers = 8;
      const perWorker = 10;
      const winners: number[] = [];
      let conflicts = 0;

      const worker = async (store: Store): Promise<void> => {
        for (let done = 0; done < perWorker;) {
          const current = await store.operations.get('op-1');
          assert.ok(current);
          await racePause();
          try {
            await store.operations.update('op-1', current.version, { attempts: current.attempts + 1 }, T0);
            winners.push(current.version);
            done++;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, (_, i) => worker(i % 2 ? a : b)));

      const total = workers * perWorker;
      const final = await b.operations.get('op-1');
      assert.equal(final?.attempts, total, 'no increment was lost');
      assert.equal(final?.version, total + 1);
      assert.deepEqual(
        [...winners].sort((x, y) => x - y),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      assert.ok(conflicts > 0, 'the workers did race');
    });

    it('two stores on one file: state compare-and-set never loses an update', async () => {
      const [a, b] = await openTwo('shared.db');
      await a.state.write('counter', { n: 0 }, null);
      const winners: string[] = [];
      const worker = async (store: Store): Promise<void> => {
        for (let done = 0; done < 10;) {
          const item = (await store.state.read(['counter'])).get('counter');
          assert.ok(item);
          await racePause();
          try {
            await store.state.write('counter', { n: (item.value.n as number) + 1 }, item.version);
            winners.push(item.version);
            done++;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, (_, i) => worker(i % 2 ? a : b)));
      assert.deepEqual((await a.state.read(['counter'])).get('counter')?.value, { n: 60 });
      assert.equal(new Set(winners).size, 60, 'each version was replaced exactly once');
    });

    sqliteIt('two threads on one file, writing truly in parallel, lose no update', async function () {
      this.timeout(60_000);
      const file = stores.files.path('threads.db');
      const setup = openSqliteStore(file);
      await setup.operations.create(newOp('op-1'), T0);
      await setup.close();

      const perThread = 100;
      const body = `
        let conflicts = 0;
        for (let done = 0; done < workerData.perThread; ) {
          const current = await store.operations.get('op-1');
          try {
            await store.operations.update('op-1', current.version, { attempts: current.attempts + 1 }, new Date());
            done++;
          } catch (err) {
            if (err.name !== 'ConflictError') throw err;
            conflicts++;
          }
        }
        return conflicts;
      `;
      await Promise.all([1, 2, 3].map(() => runStoreWorker<number>(file, body, { perThread })));

      const check = await open('threads.db');
      const final = await check.operations.get('op-1');
      assert.equal(final?.attempts, 3 * perThread);
      assert.equal(final?.version, 3 * perThread + 1);
    });
  });
});
