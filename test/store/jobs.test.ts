import { strict as assert } from 'node:assert';
import type { NewAccessRequest, Store } from '../../src/store/store';
import { rejectsConflict } from '../support/sqliteStores';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describeEachEngine('store: timer job leases', 'guest-invite-jobs-', (stores) => {
  const { open, openTwo } = stores;
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });

  it('grants a run once per interval, and the next only after the gap has passed', async () => {
    const first = await store.jobs.tryClaim('sweep', 'A', 60_000, 10_000, T0);
    assert.deepEqual(first, { name: 'sweep', owner: 'A', leaseExpiresAt: at(10_000).toISOString() });
    assert.equal(await store.jobs.tryClaim('sweep', 'B', 60_000, 10_000, at(1)), undefined, 'held by A');
    await store.jobs.finish('sweep', 'A', at(2_000));
    assert.equal(
      await store.jobs.tryClaim('sweep', 'B', 60_000, 10_000, at(3_000)),
      undefined,
      'ran less than a gap ago',
    );
    assert.equal(await store.jobs.tryClaim('sweep', 'A', 60_000, 10_000, at(59_999)), undefined);
    assert.equal((await store.jobs.tryClaim('sweep', 'B', 60_000, 10_000, at(60_000)))?.owner, 'B');
    assert.equal((await store.jobs.tryClaim('scan', 'A', 60_000, 10_000, at(60_000)))?.owner, 'A', 'jobs are apart');
  });

  it('leaves the run of an owner that died mid-job to another once its lease expires', async () => {
    await store.jobs.tryClaim('resume', 'A', 60_000, 5_000, T0);
    assert.equal(await store.jobs.tryClaim('resume', 'B', 60_000, 5_000, at(4_999)), undefined);
    const b = await store.jobs.tryClaim('resume', 'B', 60_000, 5_000, at(5_000));
    assert.equal(b?.owner, 'B', 'A never finished: B runs it without waiting for the interval');
    // A's late finish does not free B's lease
    await store.jobs.finish('resume', 'A', at(5_001));
    assert.equal(await store.jobs.tryClaim('resume', 'C', 0, 5_000, at(5_002)), undefined);
  });

  it('rejects bad arguments', async () => {
    await assert.rejects(store.jobs.tryClaim('', 'A', 1, 1, T0), TypeError);
    await assert.rejects(store.jobs.tryClaim('j', '', 1, 1, T0), TypeError);
    await assert.rejects(store.jobs.tryClaim('j', 'A', -1, 1, T0), TypeError);
    await assert.rejects(store.jobs.tryClaim('j', 'A', 1, 0, T0), TypeError);
    await assert.rejects(store.jobs.tryClaim('j', 'A', 1, 1, new Date(Number.NaN)), TypeError);
  });

  it('two stores claiming the same job at the same moment: exactly one gets each run', async () => {
    const [a, b] = await openTwo('shared.db');
    for (let round = 0; round < 20; round++) {
      const now = at(round * 1_000);
      const claims = await Promise.all([
        a.jobs.tryClaim('scan', 'A', 1_000, 500, now),
        b.jobs.tryClaim('scan', 'B', 1_000, 500, now),
      ]);
      const winners = claims.filter((c) => c !== undefined);
      assert.equal(winners.length, 1, `round ${round}`);
      await (winners[0]?.owner === 'A' ? a : b).jobs.finish('scan', winners[0]!.owner, now);
    }
  });
});

function newRequest(id: string): NewAccessRequest {
  return {
    id,
    tenantId: 't1',
    requesterId: 'u1',
    requesterName: 'Ada',
    appId: 'app',
    appName: 'App',
    groupId: 'g1',
    groupName: 'G',
    justification: 'x',
    ownerIds: ['o1'],
  };
}

describeEachEngine('store: an operation and a request in one transaction', 'guest-invite-tx-', (stores) => {
  const { open } = stores;

  it('updates both, or neither when either version is stale', async () => {
    const store = await open();
    const request = await store.requests.create(newRequest('r1'), T0);
    const approved = await store.requests.update('r1', request.version, { state: 'approved' }, at(1));
    const { record } = await store.operations.create(
      { id: 'approve:r1', kind: 'approveRequest', tenantId: 't1', actorId: 'o1', input: {} },
      T0,
    );

    // a stale request version: the operation is not ended either
    await rejectsConflict(
      store.updateOperationAndRequest(
        {
          id: record.id,
          expectedVersion: record.version,
          patch: { status: 'succeeded', result: { membership: 'added' } },
        },
        { id: 'r1', expectedVersion: request.version, patch: { outcome: { membership: 'added' } } },
        at(2),
      ),
    );
    assert.deepEqual(await store.operations.get(record.id), record);
    assert.deepEqual(await store.requests.get('r1'), approved);

    // a stale operation version: the request keeps its outcome
    await rejectsConflict(
      store.updateOperationAndRequest(
        { id: record.id, expectedVersion: record.version + 1, patch: { status: 'succeeded' } },
        { id: 'r1', expectedVersion: approved.version, patch: { outcome: { membership: 'added' } } },
        at(2),
      ),
    );
    assert.equal((await store.requests.get('r1'))?.outcome, null);

    const both = await store.updateOperationAndRequest(
      {
        id: record.id,
        expectedVersion: record.version,
        patch: { status: 'succeeded', result: { membership: 'added' } },
      },
      { id: 'r1', expectedVersion: approved.version, patch: { outcome: { membership: 'added' } } },
      at(3),
    );
    assert.equal(both.operation.status, 'succeeded');
    assert.deepEqual(both.request.outcome, { membership: 'added' });
    assert.deepEqual(await store.operations.get(record.id), both.operation);
    assert.deepEqual(await store.requests.get('r1'), both.request);
  });
});
