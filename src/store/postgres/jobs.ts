/** PostgreSQL: one lease row per timer job. */
import {
  JOB_CLAIM_SQL,
  JOB_FINISH_SQL,
  jobClaimParams,
  toJobClaim,
  type JobClaim,
  type JobRow,
  type JobStore,
} from '../records/jobs';
import { checkDate, type Guard } from '../values';
import { named, queryRow, type Queryable } from './sql';

const claim = named(JOB_CLAIM_SQL);
const finish = named(JOB_FINISH_SQL);

export class PostgresJobStore implements JobStore {
  constructor(
    private readonly db: Queryable,
    private readonly guard: Guard,
  ) {}

  async tryClaim(
    name: string,
    owner: string,
    minGapMs: number,
    leaseMs: number,
    now: Date,
  ): Promise<JobClaim | undefined> {
    this.guard();
    const query = claim(jobClaimParams(name, owner, minGapMs, leaseMs, now));
    const row = await queryRow<JobRow>(this.db, query.text, query.values);
    return row ? toJobClaim(row) : undefined;
  }

  async finish(name: string, owner: string, now: Date): Promise<void> {
    this.guard();
    const query = finish({ name, owner, now_ms: checkDate(now).getTime() });
    await this.db.query(query.text, query.values);
  }
}
