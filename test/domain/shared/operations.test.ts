import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { NewOperation, Store } from '../../../src/store/store';
import { OperationRunner, reopenFailedOperations, reopenOperation } from '../../../src/domain/shared/operations';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;

function op(id: string): NewOperation {
  return { id, kind: 'inviteGuest', tenantId: 't1', actorId: 'u1', input: { email: `${id}@example.com` } };
}

describe('operation records: failures and automatic retries', () => {
  let dir: string;
  let now: number;
  let stores: Store[];
  const open = (): Store => {
    const store = openSqliteStore(join(dir, 'ops.sqlite'), { clock: () => new Date(now) });
    stores.push(store);
    return store;
  };
  const finish = async (runner: OperationRunner, id: string, failed: boolean): Promise<void> => {
    const run = await runner.run(op(id), async () => ({ outcome: { failed }, failed }));
    assert.equal(run.kind, 'finished');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'guest-invite-ops-'));
    now = T0;
    stores = [];
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an operation stopped by an error as failed, one that ran to its end (refusals too) as succeeded', async () => {
    const store = open();
    const runner = new OperationRunner(store.operations, () => new Date(now), 'p1');
    await finish(runner, 'a', true);
    await finish(runner, 'b', false);
    assert.equal((await store.operations.get('a'))?.status, 'failed');
    assert.equal((await store.operations.get('b'))?.status, 'succeeded');
  });

  it('lists failed records once they are old enough and below the attempt limit, oldest first', async () => {
    const store = open();
    const runner = new OperationRunner(store.operations, () => new Date(now), 'p1');
    await finish(runner, 'old', true);
    now += 5 * MINUTE;
    await finish(runner, 'newer', true);
    await finish(runner, 'fine', false);
    now += 1 * MINUTE;
    await finish(runner, 'recent', true);

    const due = await store.operations.listFailed(new Date(now - 1 * MINUTE), 3, 10);
    assert.deepEqual(
      due.map((r) => r.id),
      ['old', 'newer'],
    );
    assert.deepEqual(
      (await store.operations.listFailed(new Date(now), 3, 1)).map((r) => r.id),
      ['old'],
    );

    const reopened = await reopenFailedOperations(store.operations, {
      retryAfterMs: 1 * MINUTE,
      maxAttempts: 1,
      now: new Date(now),
    });
    assert.deepEqual(reopened.sort(), ['newer', 'old']);
    for (const id of reopened) {
      const record = await store.operations.get(id);
      assert.equal(record?.status, 'running');
      assert.equal(record?.attempts, 1);
      assert.equal(record?.result, null);
    }
    // They fail again: at the limit, they are no longer due.
    await finish(runner, 'old', true);
    now += 10 * MINUTE;
    assert.deepEqual(
      (await store.operations.listFailed(new Date(now), 1, 10)).map((r) => r.id),
      ['recent'],
    );
    assert.equal(
      (await store.operations.listFailed(new Date(now), 0, 10)).length,
      0,
      'maxAttempts 0 turns automatic retries off',
    );
  });

  it('two processes reopening the same failed record: exactly one does', async () => {
    const first = open();
    const second = open();
    await finish(new OperationRunner(first.operations, () => new Date(now), 'p1'), 'x', true);
    const results = await Promise.all([
      reopenOperation(first.operations, 'x', new Date(now)),
      reopenOperation(second.operations, 'x', new Date(now)),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal((await first.operations.get('x'))?.attempts, 1);
    assert.equal(
      await reopenOperation(first.operations, 'x', new Date(now)),
      false,
      'a running record is not reopened',
    );
    assert.equal(await reopenOperation(first.operations, 'missing', new Date(now)), false);
  });
});
