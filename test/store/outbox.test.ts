import { strict as assert } from 'node:assert';
import type { NewOutboxMessage, Store } from '../../src/store/store';
import { rejectsConflict } from '../support/sqliteStores';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const message = (id: string, more: Partial<NewOutboxMessage> = {}): NewOutboxMessage => ({
  id,
  tenantId: 't1',
  recipient: 'megan',
  kind: 'send',
  payload: { content: { type: 'msg', key: 'k' } },
  ...more,
});

describeEachEngine('store: outbox of proactive messages', 'guest-invite-outbox-', (stores) => {
  const { open, openTwo } = stores;
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });

  it('records a message once per id, pending and due at once', async () => {
    const first = await store.outbox.enqueue(message('m1'), T0);
    assert.equal(first.created, true);
    assert.equal(first.record.status, 'pending');
    assert.equal(first.record.notBefore, T0.toISOString());
    assert.deepEqual(first.record.payload, { content: { type: 'msg', key: 'k' } });
    const again = await store.outbox.enqueue(message('m1', { payload: { other: true } }), at(5));
    assert.equal(again.created, false);
    assert.deepEqual(again.record, first.record, 'the first one stays');
    assert.deepEqual(
      (await store.outbox.listDue(T0, 10)).map((r) => r.id),
      ['m1'],
    );
    assert.equal((await store.outbox.nextDue())?.toISOString(), T0.toISOString());
  });

  it('lists due records by due time, leaving out leased and later ones', async () => {
    await store.outbox.enqueue(message('late', { notBefore: at(5_000) }), T0);
    await store.outbox.enqueue(message('b'), at(2));
    await store.outbox.enqueue(message('a', { notBefore: at(1) }), T0);
    assert.deepEqual(
      (await store.outbox.listDue(at(10), 10)).map((r) => r.id),
      ['a', 'b'],
    );
    assert.ok(await store.outbox.acquireLease('a', 'A', 1_000, at(10)));
    assert.deepEqual(
      (await store.outbox.listDue(at(10), 10)).map((r) => r.id),
      ['b'],
    );
    assert.deepEqual(
      (await store.outbox.listDue(at(1_010), 10)).map((r) => r.id),
      ['a', 'b'],
      'the lease expired',
    );
    assert.deepEqual(
      (await store.outbox.listDue(at(5_000), 1)).map((r) => r.id),
      ['a'],
    );
  });

  it('one lease holder at a time; an expired lease goes to another; an attempt frees the lease (compare-and-set)', async () => {
    await store.outbox.enqueue(message('m1'), T0);
    const a = await store.outbox.acquireLease('m1', 'A', 1_000, T0);
    assert.equal(a?.leaseOwner, 'A');
    assert.equal(await store.outbox.acquireLease('m1', 'B', 1_000, at(999)), undefined);
    const b = await store.outbox.acquireLease('m1', 'B', 1_000, at(1_000));
    assert.equal(b?.leaseOwner, 'B');
    // A's late outcome is refused: the record moved on
    await rejectsConflict(
      store.outbox.update(
        'm1',
        a!.version,
        { status: 'sent', attempts: 1, notBefore: T0, result: null, error: null },
        at(1_001),
      ),
    );
    const retry = await store.outbox.update(
      'm1',
      b!.version,
      { status: 'pending', attempts: 1, notBefore: at(3_000), result: null, error: '429' },
      at(1_002),
    );
    assert.equal(retry.leaseOwner, null);
    assert.equal(retry.attempts, 1);
    assert.deepEqual(await store.outbox.listDue(at(2_999), 10), []);
    assert.equal((await store.outbox.nextDue())?.toISOString(), at(3_000).toISOString());
    const c = await store.outbox.acquireLease('m1', 'C', 1_000, at(3_000));
    const sent = await store.outbox.update(
      'm1',
      c!.version,
      { status: 'sent', attempts: 2, notBefore: at(3_000), result: { activityId: 'x' }, error: null },
      at(3_001),
    );
    assert.deepEqual(sent.result, { activityId: 'x' });
    assert.equal(
      await store.outbox.acquireLease('m1', 'C', 1_000, at(3_002)),
      undefined,
      'a sent record is not leased again',
    );
    assert.deepEqual(await store.outbox.listDue(at(9_999), 10), []);
    assert.equal(await store.outbox.nextDue(), undefined);
    assert.deepEqual(await store.outbox.get('m1'), sent);
  });

  it('records a message already leased to the sender about to send it: no one else lists or leases it until then', async () => {
    const { record } = await store.outbox.enqueue({ ...message('m1'), lease: { owner: 'A', ttlMs: 1_000 } }, T0);
    assert.equal(record.leaseOwner, 'A');
    assert.equal(record.leaseExpiresAt, at(1_000).toISOString());
    assert.deepEqual(await store.outbox.listDue(at(999), 10), []);
    assert.equal(await store.outbox.acquireLease('m1', 'B', 1_000, at(999)), undefined);
    const sent = await store.outbox.update(
      'm1',
      record.version,
      { status: 'sent', attempts: 1, notBefore: T0, result: { activityId: '1' }, error: null },
      at(5),
    );
    assert.equal(sent.status, 'sent');
  });

  it('rejects bad arguments', async () => {
    await assert.rejects(store.outbox.enqueue(message(''), T0), TypeError);
    await assert.rejects(store.outbox.enqueue({ ...message('m'), payload: [] as never }, T0), TypeError);
    await assert.rejects(store.outbox.acquireLease('m', '', 1, T0), TypeError);
    await assert.rejects(store.outbox.listDue(T0, 0), TypeError);
  });

  it('two stores leasing the same record at the same moment: exactly one gets it', async () => {
    const [a, b] = await openTwo('shared.db');
    for (let i = 0; i < 20; i++) await a.outbox.enqueue(message(`m${i}`), T0);
    for (let i = 0; i < 20; i++) {
      const leases = await Promise.all([
        a.outbox.acquireLease(`m${i}`, 'A', 1_000, T0),
        b.outbox.acquireLease(`m${i}`, 'B', 1_000, T0),
      ]);
      assert.equal(leases.filter((l) => l !== undefined).length, 1, `record ${i}`);
    }
  });
});
