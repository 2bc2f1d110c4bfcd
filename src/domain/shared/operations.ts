/**
 * Runs a confirmed directory write as a durable operation record: created before anything is written,
 * leased by one runner at a time, each step's result recorded before the next, the outcome stored.
 * Running the same operation id again returns the stored outcome instead of writing twice.
 */
import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  type JsonObject,
  type NewOperation,
  type OperationPatch,
  type OperationRecord,
  type OperationStore,
} from '../../store/store';
import { defaultSleep } from './retry';

const DEFAULT_LEASE_MS = 60_000;

/** What a use case that writes through operation records is built with (tests pass a clock, a sleep, a lease). */
export interface OperationOptions {
  store: { operations: OperationStore };
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Identifies this process as a lease owner of operation records. */
  instanceId?: string;
  /** How long a runner holds an operation before another process may resume it. */
  leaseMs?: number;
}

/** A use case's clock, sleep and operation runner. */
export interface UseCaseTools {
  readonly clock: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly runner: OperationRunner;
}

/** The clock, sleep and operation runner of a use case, from its options; the real ones where none are given. */
export function useCaseTools(options: OperationOptions): UseCaseTools {
  const clock = options.clock ?? (() => new Date());
  const runner = new OperationRunner(
    options.store.operations,
    clock,
    options.instanceId ?? randomUUID(),
    options.leaseMs,
  );
  return { clock, sleep: options.sleep ?? defaultSleep, runner };
}

export interface OperationSteps {
  /** The record as it was when this run took the lease (earlier runs' steps included). */
  readonly record: OperationRecord;
  /** Records a finished step and its result before the next one starts. */
  done(name: string, result: JsonObject, graphRequestId: string | null): Promise<void>;
  /** Records several finished steps in one write (e.g. one per address of a batch). */
  doneAll(results: ReadonlyArray<{ name: string; result: JsonObject }>): Promise<void>;
}

export type OperationRun<T> = { kind: 'finished'; outcome: T } | { kind: 'inProgress' };

/**
 * Writes the record's end (`patch`: status and result) on the record as it is now; by default a plain
 * compare-and-set update. A use case passes its own to write something else in the same transaction.
 */
export type OperationEnd = (record: OperationRecord, patch: OperationPatch, now: Date) => Promise<OperationRecord>;

export class OperationRunner {
  constructor(
    private readonly operations: OperationStore,
    private readonly clock: () => Date,
    private readonly instanceId: string,
    private readonly leaseMs: number = DEFAULT_LEASE_MS,
  ) {}

  /**
   * `body` returns the outcome, and `failed` when an error stopped it before its end (Graph unreachable, a
   * retry budget spent): such a record can be reopened and run again from its recorded steps. An operation that
   * ran to its end, a refusal included, is 'succeeded'. The outcome is stored on the record.
   * `retryAt` says the operation must go on later (e.g. waiting for the directory to replicate): its outcome so far
   * is stored, it stays unfinished, and its lease is held until then, so a resumer (any process) picks it up at that
   * time. Returns inProgress when another runner holds the lease.
   */
  async run<T>(
    operation: NewOperation,
    body: (steps: OperationSteps) => Promise<{ outcome: T; failed: boolean; retryAt?: Date }>,
    end: OperationEnd = (record, patch, now) => this.operations.update(record.id, record.version, patch, now),
  ): Promise<OperationRun<T>> {
    const { created, record } = await this.operations.create(operation, this.clock());
    if (!created && record.result && (record.status === 'succeeded' || record.status === 'failed'))
      return { kind: 'finished', outcome: record.result as unknown as T };
    const owner = `${this.instanceId}/${randomUUID()}`;
    const leased = await this.operations.acquireLease(record.id, owner, this.leaseMs, this.clock());
    if (!leased) {
      const current = await this.operations.get(record.id);
      return current?.result ? { kind: 'finished', outcome: current.result as unknown as T } : { kind: 'inProgress' };
    }
    const run = new LeasedRun(this.operations, this.clock, owner, leased, this.leaseMs);
    let holdUntil: Date | undefined;
    try {
      const { outcome, failed, retryAt } = await body(run.steps());
      run.stopRenewal();
      const status = retryAt ? 'running' : failed ? 'failed' : 'succeeded';
      await run.serial(async () => {
        run.current = await end(run.current, { status, result: outcome as unknown as JsonObject }, this.clock());
      });
      holdUntil = retryAt;
      return { kind: 'finished', outcome };
    } finally {
      await run.close(holdUntil);
    }
  }
}

/**
 * One run holding an operation's lease: its store writes (step results, the outcome, lease renewals) go one after
 * the other, and the lease is renewed while a slow step runs, so that no other process resumes the operation.
 */
class LeasedRun {
  current: OperationRecord;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly renewal: ReturnType<typeof setInterval>;

  constructor(
    private readonly operations: OperationStore,
    private readonly clock: () => Date,
    private readonly owner: string,
    private readonly leased: OperationRecord,
    leaseMs: number,
  ) {
    this.current = leased;
    const renew = async (): Promise<void> => {
      const renewed = await operations.acquireLease(leased.id, owner, leaseMs, clock());
      if (renewed) this.current = renewed;
    };
    this.renewal = setInterval(() => this.serial(renew).catch(() => undefined), Math.max(50, Math.floor(leaseMs / 3)));
    this.renewal.unref?.();
  }

  /** Runs `write` after every write queued before it. */
  serial<R>(write: () => Promise<R>): Promise<R> {
    const next = this.chain.then(write);
    this.chain = next.catch(() => undefined);
    return next;
  }

  steps(): OperationSteps {
    return {
      record: this.leased,
      done: (name, result, graphRequestId) => this.writeSteps([{ name, result, graphRequestId }]),
      doneAll: (results) => (results.length === 0 ? Promise.resolve() : this.writeSteps(results)),
    };
  }

  stopRenewal(): void {
    clearInterval(this.renewal);
  }

  /** Waits for the queued writes, then holds the lease until `holdUntil` (a retryAt) or releases it. */
  async close(holdUntil: Date | undefined): Promise<void> {
    this.stopRenewal();
    await this.chain;
    const now = this.clock();
    if (holdUntil && holdUntil.getTime() > now.getTime())
      await this.operations.acquireLease(this.leased.id, this.owner, holdUntil.getTime() - now.getTime(), now);
    else await this.operations.releaseLease(this.leased.id, this.owner);
  }

  private writeSteps(
    results: ReadonlyArray<{ name: string; result: JsonObject; graphRequestId?: string | null }>,
  ): Promise<void> {
    return this.serial(async () => {
      const at = this.clock().toISOString();
      const added = Object.fromEntries(
        results.map(({ name, result, graphRequestId }) => [
          name,
          { status: 'done' as const, at, result, ...(graphRequestId ? { graphRequestId } : {}) },
        ]),
      );
      this.current = await this.operations.update(
        this.current.id,
        this.current.version,
        { status: 'running', steps: { ...this.current.steps, ...added } },
        this.clock(),
      );
    });
  }
}

/** Another runner holds this record now (its lease has not expired): a resumer leaves it alone. */
export function leaseIsLive(record: OperationRecord, now: Date): boolean {
  return record.leaseExpiresAt !== null && Date.parse(record.leaseExpiresAt) > now.getTime();
}

/** Makes a failed operation runnable again (its recorded steps are kept, so nothing is done twice). */
export async function reopenOperation(operations: OperationStore, id: string, now: Date): Promise<boolean> {
  const record = await operations.get(id);
  if (!record || record.status !== 'failed') return false;
  try {
    await operations.update(
      id,
      record.version,
      { status: 'running', result: null, attempts: record.attempts + 1 },
      now,
    );
    return true;
  } catch (err) {
    // Another process reopened it (or an admin did) at the same moment: it runs once all the same.
    if (err instanceof ConflictError) return false;
    throw err;
  }
}

/**
 * Reopens operations that failed at least `retryAfterMs` ago and were reopened fewer than `maxAttempts` times,
 * so the resumer runs them again: a throttled or unreachable Graph is given another chance without an admin.
 */
export async function reopenFailedOperations(
  operations: OperationStore,
  options: { retryAfterMs: number; maxAttempts: number; now: Date; limit?: number },
): Promise<string[]> {
  const due = await operations.listFailed(
    new Date(options.now.getTime() - options.retryAfterMs),
    options.maxAttempts,
    options.limit ?? 50,
  );
  const reopened: string[] = [];
  for (const record of due) {
    if (await reopenOperation(operations, record.id, options.now)) reopened.push(record.id);
  }
  return reopened;
}
