import { strict as assert } from 'node:assert';
import { JOBS, TimerJobs } from '../../../src/domain/shared/timerJobs';
import { describeEachEngine } from '../../support/stores';

describeEachEngine('timer jobs across instances', 'guest-invite-timers-', (stores) => {
  it("two instances whose timers fire together run each interval's work once", async () => {
    let now = Date.parse('2026-11-24T09:00:00Z');
    const clock = (): Date => new Date(now);
    const [a, b] = await stores.openTwo('shared.db');
    const instances = [new TimerJobs(a.jobs, 'A', 60_000, clock), new TimerJobs(b.jobs, 'B', 60_000, clock)];
    const runs: string[] = [];
    for (let tick = 0; tick < 5; tick++) {
      // each instance's timer fires within a few milliseconds of the other's
      const results = await Promise.all(
        instances.map((jobs, i) => {
          now += i;
          return jobs.runOnce(JOBS.requestSweep, 300_000, async () => runs.push(`${tick}:${i}`));
        }),
      );
      assert.equal(results.filter((r) => r.ran).length, 1, `tick ${tick}`);
      now += 300_000 - 1;
    }
    assert.equal(runs.length, 5);
  });

  it('an instance that dies mid-run leaves the job to another once the lease expires', async () => {
    let now = Date.parse('2026-11-24T09:00:00Z');
    const clock = (): Date => new Date(now);
    const [a, b] = await stores.openTwo('shared.db');
    const dying = new TimerJobs(a.jobs, 'A', 30_000, clock);
    const other = new TimerJobs(b.jobs, 'B', 30_000, clock);
    // A claims the run and never finishes it (its process is killed: the body never returns)
    void dying.runOnce(JOBS.operationResume, 1_000, () => new Promise(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    now += 29_999;
    assert.deepEqual(await other.runOnce(JOBS.operationResume, 1_000, async () => 'B'), { ran: false });
    now += 1;
    assert.deepEqual(await other.runOnce(JOBS.operationResume, 1_000, async () => 'B'), { ran: true, result: 'B' });
  });
});
