/**
 * The bot's background jobs on timers: the request and review sweep, the activity-marker prune, the retention
 * sweep, the setup scan with alert delivery, and the resume of unfinished operations. Each timer's work runs once
 * per interval across the instances sharing the store (a lease row per job, src/domain/shared/timerJobs.ts).
 */
import type { Settings } from '../config';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Directory } from '../graph/directory';
import { sweepRetention } from '../domain/privacy/retention';
import { JOBS, TimerJobs } from '../domain/shared/timerJobs';
import type { BotParts } from '../bot/compose';
import { pruneActivityMarkers } from '../bot/teamsBot';
import { span } from '../telemetry/telemetry';

export type TimerSettings = Pick<Settings, 'operations' | 'requests' | 'alerts' | 'retention'>;

export interface TimerParts extends Pick<
  BotParts,
  'instanceId' | 'requestAccess' | 'guestReview' | 'adminAlerts' | 'resumeOperations'
> {
  store: Store;
  directory: Directory;
  logger: Logger;
}

/** Background work (sweeps, scans, resumed operations) in a trace of its own, not under whatever ran before. */
function traced<T>(name: string, work: () => Promise<T>): () => Promise<T> {
  return () => span(name, {}, work, { root: true });
}

/** The jobs, each one step that claims its lease, does the work and logs what came of it. */
class Jobs {
  private readonly jobs: TimerJobs;

  constructor(
    private readonly parts: TimerParts,
    private readonly settings: TimerSettings,
  ) {
    this.jobs = new TimerJobs(parts.store.jobs, parts.instanceId, settings.operations.leaseMs);
  }

  /** Access requests to remind or expire; the same sweep finds due guest reviews (from the bot's records). */
  sweep(): void {
    const { requestAccess, guestReview, logger } = this.parts;
    const both = async (): Promise<{
      requests: Awaited<ReturnType<typeof requestAccess.sweep>>;
      reviews: Awaited<ReturnType<typeof guestReview.sweep>>;
    }> => ({ requests: await requestAccess.sweep(), reviews: await guestReview.sweep() });
    this.jobs.runOnce(JOBS.requestSweep, this.settings.requests.sweepIntervalMs, traced('job.requestSweep', both)).then(
      (run) => {
        if (run.ran && run.result.requests.reminded + run.result.requests.expired > 0)
          logger.info('requests.swept', run.result.requests);
        if (run.ran && run.result.reviews.opened + run.result.reviews.reminded + run.result.reviews.defaulted > 0)
          logger.info('reviews.swept', { ...run.result.reviews });
      },
      (err: unknown) => logger.error('requests.sweep.failed', { error: err }),
    );
  }

  pruneMarkers(): void {
    const { store, logger } = this.parts;
    const prune = traced('job.markerPrune', () => pruneActivityMarkers(store, new Date()));
    this.jobs.runOnce(JOBS.markerPrune, this.settings.requests.sweepIntervalMs, prune).then(
      (run) => {
        if (run.ran && run.result > 0) logger.info('activity.markers.pruned', { pruned: run.result });
      },
      (err: unknown) => logger.error('activity.markers.prune.failed', { error: err }),
    );
  }

  retentionSweep(): void {
    const { store, logger } = this.parts;
    const retention = this.settings.retention;
    const sweepNow = (): ReturnType<typeof sweepRetention> => sweepRetention(store, retention, new Date());
    this.jobs.runOnce(JOBS.retention, retention.sweepIntervalMs, sweepNow).then(
      (run) => {
        if (run.ran && Object.keys(run.result).length > 0) logger.info('retention.swept', { deleted: run.result });
      },
      (err: unknown) => logger.error('retention.sweep.failed', { error: err }),
    );
  }

  /** The setup check of the tenant (alerting on new problems), then the alerts still to deliver. */
  scan(): void {
    const { directory, adminAlerts, logger } = this.parts;
    const scanInterval = this.settings.alerts.scanIntervalMs;
    const scanAndAlert = (): Promise<Awaited<ReturnType<typeof adminAlerts.scanAndAlert>>> =>
      directory.getTenantInfo().then((tenant) => adminAlerts.scanAndAlert(tenant.id));
    this.jobs
      .runOnce(JOBS.setupScan, scanInterval, traced('job.setupScan', scanAndAlert))
      .then(
        (run) => {
          if (run.ran)
            logger.info('setup.scanned', {
              problems: run.result.report.counts.problems,
              alerted: run.result.alerted,
              fixed: run.result.fixed,
            });
        },
        (err: unknown) => logger.error('setup.scan.failed', { error: err }),
      )
      .then(() =>
        this.jobs.runOnce(
          JOBS.alertDelivery,
          scanInterval,
          traced('job.alertDelivery', () => adminAlerts.deliverPending()),
        ),
      )
      .catch((err: unknown) => logger.error('alerts.pending.failed', { error: err }));
  }

  resume(): void {
    const { resumeOperations, logger } = this.parts;
    const interval = this.settings.operations.resumeIntervalMs;
    this.jobs.runOnce(JOBS.operationResume, interval, traced('job.operationResume', resumeOperations)).then(
      (run) => {
        if (run.ran && run.result > 0) logger.info('operations.resumed', { count: run.result });
      },
      (err: unknown) => logger.error('operations.resume.failed', { error: err }),
    );
  }
}

/** Starts the timers (unref'd: they never keep the process alive); returns what clears them all. */
export function startTimers(parts: TimerParts, settings: TimerSettings): () => void {
  const jobs = new Jobs(parts, settings);
  const intervals = [
    setInterval(() => jobs.retentionSweep(), settings.retention.sweepIntervalMs),
    setInterval(() => {
      jobs.sweep();
      jobs.pruneMarkers();
    }, settings.requests.sweepIntervalMs),
    setInterval(() => jobs.scan(), settings.alerts.scanIntervalMs),
    setInterval(() => jobs.resume(), settings.operations.resumeIntervalMs),
  ];
  for (const interval of intervals) interval.unref();
  const timeouts = [setTimeout(() => jobs.scan(), 2_000).unref(), setTimeout(() => jobs.resume(), 500).unref()];
  return () => {
    for (const interval of intervals) clearInterval(interval);
    for (const timeout of timeouts) clearTimeout(timeout);
  };
}
