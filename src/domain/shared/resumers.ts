/**
 * The one place that carries on with operations a crash or restart left unfinished: each use case registers a
 * resumer for its operation kinds, and `resumeAll` reads the unfinished records once and hands each record whose
 * lease is free to the resumer of its kind. The operation runner makes a resumed run repeat no recorded step.
 */
import type { OperationRecord, OperationStore } from '../../store/store';
import { leaseIsLive } from './operations';

/** Carries on with one unfinished operation; true when it ran (a run another process holds does not count). */
export type Resumer = (record: OperationRecord) => Promise<boolean>;

/** How many unfinished records one pass reads; the rest wait for the next pass. */
const RESUME_BATCH = 50;

export class OperationResumers {
  private readonly byKind = new Map<string, Resumer>();

  constructor(
    private readonly operations: OperationStore,
    private readonly clock: () => Date,
  ) {}

  /** Registers the resumer of one or more operation kinds; a kind has one resumer. */
  register(kinds: string | readonly string[], resume: Resumer): this {
    for (const kind of typeof kinds === 'string' ? [kinds] : kinds) {
      if (this.byKind.has(kind)) throw new Error(`A resumer for operation kind ${kind} is already registered`);
      this.byKind.set(kind, resume);
    }
    return this;
  }

  /** Resumes every unfinished operation of a registered kind whose lease is free; returns how many ran. */
  async resumeAll(): Promise<number> {
    let resumed = 0;
    for (const record of await this.operations.listUnfinished(RESUME_BATCH, this.clock())) {
      const resume = this.byKind.get(record.kind);
      if (!resume || leaseIsLive(record, this.clock())) continue;
      if (await resume(record)) resumed++;
    }
    return resumed;
  }
}
