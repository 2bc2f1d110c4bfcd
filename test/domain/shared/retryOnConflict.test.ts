import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite';
import { ConflictError, type Store } from '../../../src/store/store';
import { CONFLICT_ATTEMPTS, retryOnConflict } from '../../../src/domain/shared/retryOnConflict';

/** An attempt that loses the compare-and-set `losses` times, then returns how many times it ran. */
function losing(losses: number, key = 'k'): { attempt: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      calls++;
      if (calls <= losses) throw new ConflictError(key);
      return calls;
    },
    calls: () => calls,
  };
}

describe('retryOnConflict: the one compare-and-set retry', () => {
  it('tries again after a conflict and returns what the winning attempt returned', async () => {
    const run = losing(3);
    assert.equal(await retryOnConflict(run.attempt), 4);
    assert.equal(run.calls(), 4);
  });

  it('gives up after CONFLICT_ATTEMPTS attempts by throwing the last conflict', async () => {
    const run = losing(Infinity);
    await assert.rejects(
      retryOnConflict(run.attempt),
      (err: unknown) => err instanceof ConflictError && err.key === 'k',
    );
    assert.equal(run.calls(), CONFLICT_ATTEMPTS);
  });

  it("gives up with the caller's answer when onGiveUp is given", async () => {
    const run = losing(Infinity);
    const seen: string[] = [];
    const answer = await retryOnConflict(run.attempt, { onGiveUp: (err) => (seen.push(err.key), -1) });
    assert.equal(answer, -1);
    assert.deepEqual(seen, ['k']);
    assert.equal(run.calls(), CONFLICT_ATTEMPTS);
  });

  it('wins on the last allowed attempt', async () => {
    const run = losing(CONFLICT_ATTEMPTS - 1);
    assert.equal(await retryOnConflict(run.attempt, { onGiveUp: () => -1 }), CONFLICT_ATTEMPTS);
  });

  it('throws other errors, and conflicts retryIf declines, at once', async () => {
    let calls = 0;
    await assert.rejects(
      retryOnConflict(async () => {
        calls++;
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(calls, 1);
    const other = losing(Infinity, 'other');
    await assert.rejects(
      retryOnConflict(other.attempt, { retryIf: (err) => err.key === 'mine', onGiveUp: () => -1 }),
      ConflictError,
    );
    assert.equal(other.calls(), 1);
  });

  describe('against a store', () => {
    let dir: string;
    let store: Store;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'guest-invite-cas-'));
      store = openSqliteStore(join(dir, 'cas.sqlite'));
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('loses no increment when several writers change one record at once', async () => {
      const increment = (): Promise<void> =>
        retryOnConflict(async () => {
          const item = (await store.state.read(['counter'])).get('counter');
          const n = typeof item?.value.n === 'number' ? item.value.n : 0;
          await store.state.write('counter', { n: n + 1 }, item ? item.version : null);
        });
      await Promise.all(Array.from({ length: 5 }, increment));
      assert.equal((await store.state.read(['counter'])).get('counter')?.value.n, 5);
    });
  });
});
