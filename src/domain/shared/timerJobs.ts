/**
 * Work on a timer (request reminders and expiry, setup scans, pending alert delivery, the operation resumer,
 * the retention sweep)
 * runs once per interval across every instance sharing the store: each run is claimed first (a lease row per
 * job, compare-and-set). An instance that dies mid-run leaves the job to another once the lease expires.
 * The work itself stays safe to run twice (each change it makes is a compare-and-set); the claim only keeps
 * instances from repeating it, and from alerting or reminding twice.
 */
import type { JobStore } from '../../store/store';

/** Job names, one lease row each. */
export const JOBS = {
  requestSweep: 'requests.sweep',
  setupScan: 'setup.scan',
  alertDelivery: 'alerts.deliverPending',
  operationResume: 'operations.resume',
  markerPrune: 'activity-markers.prune',
  retention: 'retention.sweep',
  /** Not a timer: the one instance that sends the outbox's messages (so that one pacer sees every request). */
  outboxSend: 'outbox.send',
} as const;

export type JobRun<T> = { ran: true; result: T } | { ran: false };

export class TimerJobs {
  constructor(
    private readonly jobs: JobStore,
    private readonly instanceId: string,
    /** How long a run is this instance's before another may take it over. */
    private readonly leaseMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Runs `body` when this instance wins this interval's run of `name`; otherwise runs nothing. Timers of
   * different instances fire at slightly different moments, so a run is due a little before a full interval
   * (a tenth of it, at most one second) has passed since the last one started.
   */
  async runOnce<T>(name: string, intervalMs: number, body: () => Promise<T>): Promise<JobRun<T>> {
    const minGapMs = Math.max(0, intervalMs - Math.min(intervalMs / 10, 1_000));
    const claim = await this.jobs.tryClaim(name, this.instanceId, minGapMs, this.leaseMs, this.clock());
    if (!claim) return { ran: false };
    try {
      return { ran: true, result: await body() };
    } finally {
      await this.jobs.finish(name, this.instanceId, this.clock());
    }
  }
}
