/**
 * Stored record: timer job leases, one row per job, so that work on a timer runs once per interval across all
 * instances. The port, the claim's parameters, the row mapped back, and the SQL, the same on both engines (named
 * parameters `@x` are SQLite's; the PostgreSQL store numbers them). The table holds no personal data.
 */
import { checkString, leaseParams, msToIso, type BigIntColumn } from '../values';

/** A claim on one run of a timer job (a sweep, a scan) across every instance sharing the store. */
export interface JobClaim {
  name: string;
  owner: string;
  /** Until when the claim holds; after it, another instance may run the job (the holder is presumed dead). */
  leaseExpiresAt: string;
}

/**
 * One lease row per timer job, so that work on a timer runs once per interval across all instances, and an
 * instance that dies mid-job leaves it to another once the lease expires.
 */
export interface JobStore {
  /**
   * Claims a run of job `name` (compare-and-set): granted when no live lease is held, and either the last run
   * started at least `minGapMs` ago or it never finished. Returns undefined when the run is not this owner's.
   */
  tryClaim(name: string, owner: string, minGapMs: number, leaseMs: number, now: Date): Promise<JobClaim | undefined>;
  /** Ends the owner's run (frees the lease and records when it finished); ignored when the lease was lost. */
  finish(name: string, owner: string, now: Date): Promise<void>;
}

export interface JobClaimParams {
  name: string;
  owner: string;
  now_ms: number;
  expires_ms: number;
  min_gap_ms: number;
}

export function jobClaimParams(
  name: string,
  owner: string,
  minGapMs: number,
  leaseMs: number,
  now: Date,
): JobClaimParams {
  if (!Number.isFinite(minGapMs) || minGapMs < 0) {
    throw new TypeError('Job minGapMs must be a non-negative number');
  }
  const lease = leaseParams(checkString(name, 'Job name'), owner, leaseMs, now);
  return {
    name: lease.id,
    owner: lease.owner,
    now_ms: lease.now_ms,
    expires_ms: lease.expires_ms,
    min_gap_ms: Math.floor(minGapMs),
  };
}

export interface JobRow {
  name: string;
  lease_owner: string;
  lease_expires_ms: BigIntColumn;
}

export function toJobClaim(row: JobRow): JobClaim {
  return {
    name: row.name,
    owner: row.lease_owner,
    leaseExpiresAt: msToIso(row.lease_expires_ms),
  };
}

/**
 * A claim is one upsert whose update only happens when the lease is free or expired and the job is due, so two
 * instances claiming at once cannot both get it.
 */
export const JOB_CLAIM_SQL = `
  INSERT INTO job_leases (name, lease_owner, lease_expires_ms, started_ms, finished_ms, version)
  VALUES (@name, @owner, @expires_ms, @now_ms, NULL, 1)
  ON CONFLICT (name) DO UPDATE SET
    lease_owner = excluded.lease_owner,
    lease_expires_ms = excluded.lease_expires_ms,
    started_ms = excluded.started_ms,
    finished_ms = NULL,
    version = job_leases.version + 1
  WHERE (job_leases.lease_owner IS NULL OR job_leases.lease_expires_ms <= @now_ms)
    AND (job_leases.finished_ms IS NULL
      OR job_leases.started_ms <= CAST(@now_ms AS BIGINT) - CAST(@min_gap_ms AS BIGINT))
  RETURNING name, lease_owner, lease_expires_ms`;

export const JOB_FINISH_SQL = `
  UPDATE job_leases SET lease_owner = NULL, lease_expires_ms = NULL, finished_ms = @now_ms, version = version + 1
  WHERE name = @name AND lease_owner = @owner`;
