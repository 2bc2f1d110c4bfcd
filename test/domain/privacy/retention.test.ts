import { strict as assert } from 'node:assert';
import { loadSettings } from '../../../src/config';
import { retentionCutoffs, sweepRetention } from '../../../src/domain/privacy/retention';
import { JOBS, TimerJobs } from '../../../src/domain/shared/timerJobs';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

describe('retention sweep', () => {
  const periods = loadSettings({}).retention;
  let store: Store;
  let now: Date;
  beforeEach(() => {
    now = T0;
    store = openSqliteStore(':memory:', { clock: () => now });
  });
  afterEach(() => store.close());

  it('cuts each kind at its own retention before now', () => {
    const c = retentionCutoffs(periods, at(400 * DAY));
    assert.equal(c.audit.toISOString(), at(35 * DAY).toISOString(), 'audit: 365 days');
    assert.equal(c.dialogState.toISOString(), at(393 * DAY).toISOString(), 'dialog state: 7 days');
    assert.equal(c.finishedOperations.toISOString(), at(370 * DAY).toISOString(), 'finished operations: 30 days');
  });

  it('deletes in bounded batches: a run stops after its rounds, the next one goes on', async () => {
    for (let i = 0; i < 5; i++)
      await store.audit.append({
        time: T0.toISOString(),
        tenantId: 't1',
        actorId: 'u',
        action: `a${i}`,
        outcome: 'ok',
      });
    for (let i = 0; i < 3; i++) await store.state.write(`msteams/conversations/c${i}/`, { dialogState: {} });
    const later = at(periods.auditMs + DAY);
    assert.deepEqual(await sweepRetention(store, periods, later, 2, 2), { audit_log: 4, state_items: 3 });
    assert.deepEqual(await sweepRetention(store, periods, later, 2, 2), { audit_log: 1 });
    assert.deepEqual(await sweepRetention(store, periods, later, 2, 2), {});
  });

  it('keeps what is younger than its retention (an injected clock a day short of it)', async () => {
    await store.audit.append({ time: T0.toISOString(), tenantId: 't1', actorId: 'u', action: 'a', outcome: 'ok' });
    await store.state.write('rate/invite/t1/u/2026030110', { count: 1 });
    assert.deepEqual(await sweepRetention(store, periods, at(periods.rateKeysMs - DAY)), {});
    assert.deepEqual(await sweepRetention(store, periods, at(periods.rateKeysMs + DAY)), { state_items: 1 });
    assert.equal((await store.audit.list({})).length, 1);
  });

  it('runs once per interval across instances sharing the store (one lease row)', async () => {
    await store.state.write('msteams/conversations/c/', { dialogState: {} });
    const later = at(periods.dialogStateMs + DAY);
    const a = new TimerJobs(store.jobs, 'instance-a', 60_000, () => later);
    const b = new TimerJobs(store.jobs, 'instance-b', 60_000, () => later);
    const first = await a.runOnce(JOBS.retention, periods.sweepIntervalMs, () => sweepRetention(store, periods, later));
    const second = await b.runOnce(JOBS.retention, periods.sweepIntervalMs, () =>
      sweepRetention(store, periods, later),
    );
    assert.deepEqual(first, { ran: true, result: { state_items: 1 } });
    assert.deepEqual(second, { ran: false });
  });
});
