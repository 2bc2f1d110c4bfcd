/**
 * The retention sweep: one timer job across the instances (JOBS.retention) deletes, kind by kind, what is older
 * than its retention (docs/privacy.md), in bounded batches so that no run holds the database for long.
 */
import type { RetentionSettings } from '../../config/retention';
import type { RetentionCutoffs, Store, TableCounts } from '../../store/store';

export type RetentionPeriods = Omit<RetentionSettings, 'sweepIntervalMs'>;

/** Rows deleted per table and statement; a run stops after `maxBatches` rounds and the next run goes on. */
export const RETENTION_BATCH = 500;
export const RETENTION_MAX_BATCHES = 20;

export function retentionCutoffs(periods: RetentionPeriods, now: Date): RetentionCutoffs {
  const before = (ms: number): Date => new Date(now.getTime() - ms);
  return {
    audit: before(periods.auditMs),
    removedGuests: before(periods.removedGuestsMs),
    finishedOperations: before(periods.finishedOperationsMs),
    closedRequests: before(periods.closedRequestsMs),
    dialogState: before(periods.dialogStateMs),
    reviewState: before(periods.reviewStateMs),
    rateKeys: before(periods.rateKeysMs),
    alerts: before(periods.alertsMs),
  };
}

/**
 * Deletes what is past its retention at `now`, `batch` rows per table at a time, until a round deletes fewer than a
 * full batch everywhere or `maxBatches` rounds have run. Returns the rows deleted per table.
 */
export async function sweepRetention(
  store: Pick<Store, 'privacy'>,
  periods: RetentionPeriods,
  now: Date,
  batch = RETENTION_BATCH,
  maxBatches = RETENTION_MAX_BATCHES,
): Promise<TableCounts> {
  const cutoffs = retentionCutoffs(periods, now);
  const total: TableCounts = {};
  for (let round = 0; round < maxBatches; round++) {
    const counts = await store.privacy.prune(cutoffs, batch);
    for (const [table, n] of Object.entries(counts)) if (n > 0) total[table] = (total[table] ?? 0) + n;
    if (Object.values(counts).every((n) => n < batch)) break;
  }
  return total;
}
