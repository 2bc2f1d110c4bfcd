/**
 * The one way a proactive message reaches Teams (approval cards, reminders, review cards, alerts, notices, late card
 * updates): it is recorded in the store first, then sent by the instance that holds the sender lease (one per store,
 * so one pacer sees every request), paced below Teams' limits, rendered at send time in the recipient's language,
 * and retried here only (the SDK's HTTP retries are off). See docs/outbox.md. This file records messages and runs
 * the sender; ./outboxAttempt.ts makes each attempt, ./outboxPace.ts paces them.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, OutboxRecord } from '../../store/store';
import { JOBS } from '../../domain/shared/timerJobs';
import { Pacer } from './pacer';
import { json, reasonField, recipientOf, type OutboxMessage, type Payload, type Sending } from './outboxMessage';
import { OutboxPace } from './outboxPace';
import { OutboxAttempts, resolveLocation, type OutboxParts } from './outboxAttempt';

export interface OutboxOptions extends OutboxParts {
  clock?: () => Date;
  pacer?: Pacer;
  /** How long a record (and the sender role) is this instance's before another may take it over. */
  leaseMs?: number;
  /** Attempts before a message is given up (429, 412, 502, 503, 504 and network errors are retried). */
  maxAttempts?: number;
  /** Sends in flight at once. */
  concurrency?: number;
  /** How often the sender looks for messages other instances recorded, when idle. */
  pollMs?: number;
  /** The first backoff without a Retry-After (doubled each attempt, at most a minute, ±20% jitter). */
  retryBaseMs?: number;
}

export class Outbox {
  private readonly pace: OutboxPace;
  private readonly attempts: OutboxAttempts;
  private readonly clock: () => Date;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private heldUntil = 0;
  private claiming: Promise<boolean> | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? 60_000;
    this.concurrency = options.concurrency ?? 8;
    this.pollMs = options.pollMs ?? 1_000;
    this.pace = new OutboxPace(options.pacer ?? new Pacer(), this.clock);
    this.attempts = new OutboxAttempts({
      ...options,
      clock: this.clock,
      pace: this.pace,
      leaseMs: this.leaseMs,
      maxAttempts: options.maxAttempts ?? 8,
      pollMs: this.pollMs,
      retryBaseMs: options.retryBaseMs ?? 1_000,
    });
  }

  /**
   * Records the message, then sends it at once when this instance is the sender and the pace allows; else queues it.
   */
  async send(message: OutboxMessage): Promise<Sending> {
    const payload: Payload = {
      to: message.to,
      content: message.content,
      ...(message.followUp ? { followUp: message.followUp } : {}),
    };
    const id = randomUUID();
    const key = this.pace.keyOf({ id, tenantId: message.tenantId, payload: json(payload) });
    // Sent at once when this instance is the sender and the pace allows: then recorded already leased to it.
    const now = (await this.holdSender()) && this.pace.wait(message.tenantId, key) <= 0;
    const { record } = await this.options.store.outbox.enqueue(
      {
        id,
        tenantId: message.tenantId,
        recipient: recipientOf(message.to),
        kind: 'update' in message.to ? 'update' : 'send',
        payload: json(payload),
        ...(now ? { lease: { owner: this.options.instanceId, ttlMs: this.leaseMs } } : {}),
      },
      this.clock(),
    );
    const queued: Sending = { state: 'queued', location: { outboxId: record.id } };
    if (!now) {
      this.kick();
      return queued;
    }
    const done = await this.attempts.attempt(record, true);
    if (done?.status === 'sent') return { state: 'sent', location: done.result ?? { outboxId: record.id } };
    if (done?.status === 'failed') return { state: 'failed', error: done.error ?? 'failed', ...reasonField(done) };
    this.kick();
    return queued;
  }

  /** A card location, or `{ outboxId }` of a card sent through the outbox: where it is now, or why not. */
  resolve(location: JsonObject): Promise<{ location: JsonObject } | 'pending' | 'gone'> {
    return resolveLocation(this.options.store, location);
  }

  /**
   * Waits for a slot in the pace of a person's chat, for a request the outbox does not make itself
   * (createConversation);
   * call the returned function when the answer comes.
   */
  paceFor(tenantId: string, userId: string): Promise<() => void> {
    return this.pace.paceFor(tenantId, userId);
  }

  /** Starts sending in the background (whenever this instance holds the sender lease). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const waitMs = await this.pass().catch((err: unknown) => {
          this.options.logger.error('outbox.pass.failed', { error: err });
          return this.pollMs;
        });
        if (waitMs > 0 && this.running) await this.sleep(waitMs);
      }
    })();
  }

  /** Stops sending and hands the sender lease back, so another instance takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
    if (this.heldUntil > this.clock().getTime())
      await this.options.store.jobs.finish(JOBS.outboxSend, this.options.instanceId, this.clock());
    this.heldUntil = 0;
  }

  /** Sends until nothing is pending or `timeoutMs` passed (tests, the bench); true when nothing is pending. */
  async drain(timeoutMs = 60_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const waitMs = await this.pass();
      if ((await this.options.store.outbox.nextDue()) === undefined) return true;
      await this.sleep(Math.min(Math.max(waitMs, 1), until - Date.now()));
    }
    return (await this.options.store.outbox.nextDue()) === undefined;
  }

  kick(): void {
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One pass over the due records; returns how long to wait before the next. */
  private async pass(): Promise<number> {
    if (!(await this.holdSender())) return this.pollMs;
    const due = await this.options.store.outbox.listDue(this.clock(), 200);
    if (due.length === 0) {
      const next = await this.options.store.outbox.nextDue();
      return next ? Math.min(Math.max(next.getTime() - this.clock().getTime(), 1), this.pollMs) : this.pollMs;
    }
    return this.dispatch(due);
  }

  /** Attempts the records whose slot in the pace has come, `concurrency` at a time; returns the wait for the rest. */
  private async dispatch(due: readonly OutboxRecord[]): Promise<number> {
    let earliest = Number.POSITIVE_INFINITY;
    let dispatched = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (const record of due) {
      const wait = this.pace.wait(record.tenantId, this.pace.keyOf(record));
      if (wait > 0) {
        earliest = Math.min(earliest, wait);
        continue;
      }
      while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
      dispatched++;
      const sending = this.attempts.attempt(record).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    await Promise.allSettled([...inFlight]);
    return dispatched > 0 ? 0 : earliest === Number.POSITIVE_INFINITY ? 1 : earliest;
  }

  /** The sender role: one instance at a time (a timer-job lease), renewed at half its time; one claim in flight. */
  private holdSender(): Promise<boolean> {
    if (this.heldUntil - this.clock().getTime() > this.leaseMs / 2) return Promise.resolve(true);
    this.claiming ??= this.claimSender().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  private async claimSender(): Promise<boolean> {
    const { store, instanceId } = this.options;
    if (this.heldUntil > this.clock().getTime()) await store.jobs.finish(JOBS.outboxSend, instanceId, this.clock());
    const claim = await store.jobs.tryClaim(JOBS.outboxSend, instanceId, 0, this.leaseMs, this.clock());
    this.heldUntil = claim ? Date.parse(claim.leaseExpiresAt) : 0;
    return claim !== undefined;
  }
}
