/** SQLite: one lease row per timer job. */
import type Database from 'better-sqlite3';
import {
  JOB_CLAIM_SQL,
  JOB_FINISH_SQL,
  jobClaimParams,
  toJobClaim,
  type JobClaim,
  type JobClaimParams,
  type JobRow,
  type JobStore,
} from '../records/jobs';
import { checkDate, type Guard } from '../values';

export class SqliteJobStore implements JobStore {
  private readonly claimStmt: Database.Statement<[JobClaimParams], JobRow>;
  private readonly finishStmt: Database.Statement<[{ name: string; owner: string; now_ms: number }]>;

  constructor(
    db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.claimStmt = db.prepare(JOB_CLAIM_SQL);
    this.finishStmt = db.prepare(JOB_FINISH_SQL);
  }

  async tryClaim(
    name: string,
    owner: string,
    minGapMs: number,
    leaseMs: number,
    now: Date,
  ): Promise<JobClaim | undefined> {
    this.guard();
    const row = this.claimStmt.get(jobClaimParams(name, owner, minGapMs, leaseMs, now));
    return row ? toJobClaim(row) : undefined;
  }

  async finish(name: string, owner: string, now: Date): Promise<void> {
    this.guard();
    this.finishStmt.run({ name, owner, now_ms: checkDate(now).getTime() });
  }
}
