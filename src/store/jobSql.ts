/**
 * The SQL of timer job leases, the same on both engines (named parameters `@x` are SQLite's; the PostgreSQL
 * store numbers them). A claim is one upsert whose update only happens when the lease is free or expired and
 * the job is due, so two instances claiming at once cannot both get it.
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
    AND (job_leases.finished_ms IS NULL OR job_leases.started_ms <= CAST(@now_ms AS BIGINT) - CAST(@min_gap_ms AS BIGINT))
  RETURNING name, lease_owner, lease_expires_ms`;

export const JOB_FINISH_SQL = `
  UPDATE job_leases SET lease_owner = NULL, lease_expires_ms = NULL, finished_ms = @now_ms, version = version + 1
  WHERE name = @name AND lease_owner = @owner`;
