import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { OperationRecord, Store } from '../../../src/store/store';
import { OperationResumers } from '../../../src/domain/shared/resumers';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

describe('operation resumers: one registry keyed by operation kind', () => {
  let dir: string;
  let store: Store;
  let now: number;
  const clock = (): Date => new Date(now);
  const create = (id: string, kind: string) =>
    store.operations.create({ id, kind, tenantId: 't1', actorId: 'u1', input: {} }, clock());

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'guest-invite-resumers-'));
    now = T0;
    store = openSqliteStore(join(dir, 'ops.sqlite'), { clock });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands each unfinished record to the resumer of its kind and counts the ones that ran', async () => {
    await create('a', 'inviteGuest');
    await create('b', 'removeGuest');
    await create('c', 'approveRequest');
    await create('d', 'unknownKind');
    const seen: Array<[string, string]> = [];
    const resumers = new OperationResumers(store.operations, clock)
      .register('inviteGuest', async (r: OperationRecord) => (seen.push(['invite', r.id]), true))
      .register(['removeGuest', 'approveRequest'], async (r: OperationRecord) => (seen.push(['other', r.id]), false));
    assert.equal(await resumers.resumeAll(), 1, 'only a resumer that ran counts');
    assert.deepEqual(
      seen.sort(),
      [
        ['invite', 'a'],
        ['other', 'b'],
        ['other', 'c'],
      ],
      'a kind nobody registered is left alone',
    );
  });

  it('leaves a record whose lease another process holds', async () => {
    await create('held', 'inviteGuest');
    await store.operations.acquireLease('held', 'other-process', 60_000, clock());
    let calls = 0;
    const resumers = new OperationResumers(store.operations, clock).register(
      'inviteGuest',
      async () => (calls++, true),
    );
    assert.equal(await resumers.resumeAll(), 0);
    assert.equal(calls, 0);
    now += 61_000;
    assert.equal(await resumers.resumeAll(), 1, 'taken over once the lease expired');
  });

  it('refuses a second resumer for the same kind', () => {
    const resumers = new OperationResumers(store.operations, clock).register('inviteGuest', async () => true);
    assert.throws(() => resumers.register(['removeGuest', 'inviteGuest'], async () => true), /inviteGuest/);
  });
});
