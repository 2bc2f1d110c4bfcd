/**
 * Work that may outlive the turn that started it. Teams re-sends a message when a turn takes ~15 s and expects an
 * invoke's answer within a few seconds, so a turn waits for slow work only until a deadline, answers ("working on
 * it"), and the work goes on: when it ends, the card is updated proactively. Shutdown waits for it, within a bound.
 */
import type { Attachment } from 'botbuilder';
import type { Logger } from '../logging';
import type { JsonObject } from '../store/store';

/** Replaces a card wherever it is (a location from `cardLocation`): TeamsMessenger.replaceCard in production. */
export type CardUpdater = (location: JsonObject, card: Attachment) => Promise<boolean>;

/** How a turn hands slow work over: where it goes on, how long the turn waits, and how the card is updated later. */
export interface SlowWork {
  background: BackgroundWork;
  updateCard: CardUpdater;
  /** Message turns (card submits) wait this long (Teams re-sends after ~15 s). */
  turnDeadlineMs: number;
  /**
   * Invokes (Action.Execute) wait this long before answering "working on it" (Teams wants an answer within a few
   * seconds).
   */
  invokeDeadlineMs: number;
}

export type Within<T> = { done: true; value: T } | { done: false };

export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    /** After the turn answered, wait this long before a late update, so the answer reaches the client first. */
    private readonly settleMs = 500,
  ) {}

  /** Work still going on in this process. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Waits for `work` at most `deadlineMs`. When it ends in time, its value; otherwise `late` gets the value once it
   * comes (after `settleMs`), the caller answers at once, and the work is tracked until it ends. Errors of late
   * work are logged under `what`.
   */
  async within<T>(
    what: string,
    work: Promise<T>,
    deadlineMs: number,
    late: (value: T) => Promise<void>,
  ): Promise<Within<T>> {
    const first = await beforeDeadline(work, deadlineMs);
    if (first !== 'late') return { done: true, value: first.value };
    this.logger.info('work.deferred', { what, deadlineMs });
    const answered = Date.now();
    this.track(
      work.then(async (value) => {
        const wait = answered + this.settleMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await late(value);
        this.logger.info('work.finished', { what, ms: Date.now() - answered });
      }),
      what,
    );
    return { done: false };
  }

  private track(promise: Promise<void>, what: string): void {
    const tracked = promise
      .catch((err: unknown) => this.logger.error('work.failed', { what, error: err }))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Waits for the work in flight, at most `timeoutMs`; true when all of it ended. */
  drain(timeoutMs: number): Promise<boolean> {
    return settleWithin(this.running, timeoutMs);
  }
}

/** The promise's value, wrapped, if it settles within `ms`; otherwise 'late' (the promise goes on). */
async function beforeDeadline<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `pending` is empty (it may grow meanwhile), at most `timeoutMs`; true when it emptied. */
export async function settleWithin(pending: ReadonlySet<Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  const emptied = (async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  })();
  return (await beforeDeadline(emptied, timeoutMs)) !== 'late';
}
