/**
 * The one way a proactive message reaches Teams (approval cards, reminders, review cards, alerts, notices, late card
 * updates): it is recorded in the store first, then sent by the instance that holds the sender lease (one per store,
 * so one pacer sees every request), paced below Teams' limits, rendered at send time in the recipient's language,
 * and retried here only (the SDK's HTTP retries are off). See docs/outbox.md.
 */
import { randomUUID } from 'node:crypto';
import type { Attachment, ConversationReference } from 'botbuilder';
import type { Localizer } from '../../i18n';
import type { Logger } from '../../logging';
import { ConflictError, type JsonObject, type OutboxAttempt, type OutboxRecord, type Store } from '../../store/store';
import { JOBS } from '../../domain/shared/timerJobs';
import { locFor } from '../locale';
import { failureOf, type CallFailure, type ConnectorCalls, type Content } from './connector';
import { Pacer } from './pacer';
import { event, metrics, span } from '../../telemetry/telemetry';
import type { PersonalChats, UnreachableReason } from './personalChat';

/** Where a message goes: a person's 1:1 chat, a known conversation (a channel), or a card to update. */
export type OutboxTo = { user: string } | { reference: JsonObject } | { location: JsonObject };

export interface OutboxMessage {
  tenantId: string;
  to: OutboxTo;
  /** What to render at send time (see OutboxRenderer). */
  content: JsonObject;
  /** What to do once it is sent or given up (see OutboxRenderer.settled). */
  followUp?: JsonObject;
}

export type Sending =
  | { state: 'sent'; location: JsonObject }
  | { state: 'queued'; location: JsonObject }
  | { state: 'failed'; error: string; reason?: UnreachableReason };

export interface OutboxRenderer {
  /** The card or text for `content`, in `l`'s language; null when there is nothing to send any more. */
  render(content: JsonObject, l: Localizer, reference: Partial<ConversationReference>): Promise<Content | null>;
  /** A follow-up after the record was sent or given up (e.g. record where an approval card went). */
  settled?(record: OutboxRecord): Promise<void>;
}

export interface OutboxOptions {
  store: Store;
  chats: PersonalChats;
  calls: ConnectorCalls;
  renderer: OutboxRenderer;
  instanceId: string;
  logger: Logger;
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

/** How long an attempt may wait for its slot in the pace; a later slot puts the record back until then. */
const MAX_HOLD_MS = 250;

/** Statuses worth another attempt [STATUS in docs/outbox.md]; any other 4xx is final. */
const RETRYABLE = new Set([412, 429, 502, 503, 504]);

/** Where a sent message is: the same shape as `cardLocation` (conversation reference and activity id). */
export function locationOf(reference: Partial<ConversationReference>, activityId: string | undefined): JsonObject {
  return JSON.parse(JSON.stringify({ reference, activityId: activityId ?? null })) as JsonObject;
}

type Payload = { to: OutboxTo; content: JsonObject; followUp?: JsonObject };

export class Outbox {
  private readonly pacer: Pacer;
  private readonly clock: () => Date;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly retryBaseMs: number;
  /** Pacing key per person or card (a person's 1:1 chat is one conversation). */
  private readonly keys = new Map<string, string>();
  private heldUntil = 0;
  private claiming: Promise<boolean> | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxOptions) {
    this.pacer = options.pacer ?? new Pacer();
    this.clock = options.clock ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.concurrency = options.concurrency ?? 8;
    this.pollMs = options.pollMs ?? 1_000;
    this.retryBaseMs = options.retryBaseMs ?? 1_000;
  }

  /** Records the message, then sends it at once when this instance is the sender and the pace allows; else queues it. */
  async send(message: OutboxMessage): Promise<Sending> {
    const payload: Payload = {
      to: message.to,
      content: message.content,
      ...(message.followUp ? { followUp: message.followUp } : {}),
    };
    const id = randomUUID();
    const recipient = recipientOf(message.to);
    const key = this.keyOf({ id, tenantId: message.tenantId, payload: json(payload) } as OutboxRecord);
    // Sent at once when this instance is the sender and the pace allows: then recorded already leased to it.
    const now = (await this.holdSender()) && this.pacer.wait(message.tenantId, key, this.clock().getTime()) <= 0;
    const { record } = await this.options.store.outbox.enqueue(
      {
        id,
        tenantId: message.tenantId,
        recipient,
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
    const done = await this.attempt(record, true);
    if (done?.status === 'sent') return { state: 'sent', location: done.result ?? { outboxId: record.id } };
    if (done?.status === 'failed') return { state: 'failed', error: done.error ?? 'failed', ...reasonField(done) };
    this.kick();
    return queued;
  }

  /** A card location, or `{ outboxId }` of a card sent through the outbox: where it is now, or why not. */
  async resolve(location: JsonObject): Promise<{ location: JsonObject } | 'pending' | 'gone'> {
    if (typeof location.outboxId !== 'string') return { location };
    const record = await this.options.store.outbox.get(location.outboxId);
    if (!record || record.status === 'failed') return 'gone';
    return record.status === 'sent' && record.result ? { location: record.result } : 'pending';
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
    let earliest = Number.POSITIVE_INFINITY;
    let dispatched = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (const record of due) {
      const wait = this.pacer.wait(record.tenantId, this.keyOf(record), this.clock().getTime());
      if (wait > 0) {
        earliest = Math.min(earliest, wait);
        continue;
      }
      while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
      dispatched++;
      const sending = this.attempt(record).finally(() => inFlight.delete(sending));
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

  /**
   * Waits for a slot in the pace of a person's chat, for a request the outbox does not make itself (createConversation);
   * call the returned function when the answer comes.
   */
  async paceFor(tenantId: string, userId: string): Promise<() => void> {
    const key = `u:${tenantId}:${userId}`;
    for (;;) {
      const now = this.clock().getTime();
      const waitMs = this.pacer.wait(tenantId, key, now);
      if (waitMs <= 0) {
        const answered = this.pacer.take(tenantId, key, now);
        return () => answered(this.clock().getTime());
      }
      if (waitMs > MAX_HOLD_MS) throw new PacedError(waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /**
   * Counts the request against the pace right before it goes (Teams counts requests as they arrive): waits for a
   * slot that comes within `MAX_HOLD_MS`; false (nothing counted) when the slot is later, so the record waits instead.
   */
  private async slot(record: OutboxRecord): Promise<{ waitMs: number } | { answered: (at: number) => void }> {
    const key = this.keyOf(record);
    for (;;) {
      const now = this.clock().getTime();
      const waitMs = this.pacer.wait(record.tenantId, key, now);
      if (waitMs <= 0) return { answered: this.pacer.take(record.tenantId, key, now) };
      if (waitMs > MAX_HOLD_MS) return { waitMs };
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private keyOf(record: OutboxRecord): string {
    const { to } = record.payload as unknown as Payload;
    if ('user' in to) return `u:${record.tenantId}:${to.user}`;
    const reference = ('reference' in to ? to.reference : to.location.reference) as
      Partial<ConversationReference> | undefined;
    const conversation = reference?.conversation?.id;
    if (conversation) return this.keys.get(`c:${conversation}`) ?? `c:${conversation}`;
    const outboxId = 'location' in to && typeof to.location.outboxId === 'string' ? to.location.outboxId : record.id;
    return this.keys.get(`o:${outboxId}`) ?? `o:${outboxId}`;
  }

  /** Leases the record and makes one attempt; returns the record as it ended (undefined when another has it). */
  /** One send or update of a record: a `teams.send` span of its own (the kind and attempt, never the content). */
  private attempt(record: OutboxRecord, alreadyLeased = false): Promise<OutboxRecord | undefined> {
    const attributes = { 'guestinvite.outbox.kind': record.kind, 'guestinvite.outbox.attempt': record.attempts + 1 };
    return span('teams.send', attributes, () => this.attemptOnce(record, alreadyLeased), {
      root: true,
      kind: 'client',
    });
  }

  private async attemptOnce(record: OutboxRecord, alreadyLeased: boolean): Promise<OutboxRecord | undefined> {
    const { store, instanceId, logger } = this.options;
    const leased =
      alreadyLeased && record.leaseOwner === instanceId
        ? record
        : await store.outbox.acquireLease(record.id, instanceId, this.leaseMs, this.clock());
    if (!leased) return undefined;
    let outcome: OutboxAttempt;
    try {
      outcome = await this.perform(leased);
    } catch (err) {
      outcome =
        err instanceof PacedError
          ? {
              status: 'pending',
              attempts: leased.attempts,
              notBefore: new Date(this.clock().getTime() + err.waitMs),
              result: null,
              error: leased.error,
            }
          : await this.afterFailure(leased, failureOf(err));
    }
    const answer = outcome.status === 'pending' && outcome.error ? 'retry' : outcome.status;
    if (answer !== 'pending') metrics.teamsSend(record.kind, answer);
    if (answer === 'retry') event('teams.retry', { 'retry.not_before': outcome.notBefore?.toISOString() ?? '' });
    try {
      const ended = await store.outbox.update(leased.id, leased.version, outcome, this.clock());
      if (ended.status !== 'pending') await this.followUp(ended);
      return ended;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      logger.warn('outbox.lease.lost', { outboxId: record.id });
      return undefined;
    }
  }

  private async perform(record: OutboxRecord): Promise<OutboxAttempt> {
    const payload = record.payload as unknown as Payload;
    const to = payload.to;
    const target = await this.target(record, to);
    if ('attempt' in target) return target.attempt;
    const { reference, activityId } = target;
    const content = await this.options.renderer.render(payload.content, locFor(reference), reference);
    if (content === null) return this.ended(record, 'failed', null, 'nothing to send any more');
    const slot = await this.slot(record);
    if ('waitMs' in slot)
      return {
        status: 'pending',
        attempts: record.attempts,
        notBefore: new Date(this.clock().getTime() + slot.waitMs),
        result: null,
        error: record.error,
      };
    const answered = (): void => slot.answered(this.clock().getTime());
    if (activityId !== undefined) {
      await this.options.calls.update(reference, activityId, content as Attachment).finally(answered);
      return this.ended(record, 'sent', locationOf(reference, activityId), null);
    }
    const id = await this.options.calls.send(reference, content).finally(answered);
    if (!id) this.options.logger.warn('outbox.sent.noActivityId', { outboxId: record.id });
    return this.ended(record, 'sent', locationOf(reference, id), null);
  }

  /** The conversation (and for an update, the card) the record goes to, or the attempt's end when there is none. */
  private async target(
    record: OutboxRecord,
    to: OutboxTo,
  ): Promise<{ reference: Partial<ConversationReference>; activityId?: string } | { attempt: OutboxAttempt }> {
    if ('user' in to) {
      const opening = await this.options.chats.open(record.tenantId, to.user);
      if (!opening.ok)
        return {
          attempt: this.ended(
            record,
            'failed',
            null,
            `unreachable: ${opening.reason}${opening.detail ? ` (${opening.detail})` : ''}`,
          ),
        };
      const conversation = opening.reference.conversation?.id;
      if (conversation) this.keys.set(`c:${conversation}`, `u:${record.tenantId}:${to.user}`);
      return { reference: opening.reference };
    }
    if ('reference' in to) return { reference: to.reference as Partial<ConversationReference> };
    const resolved = await this.resolve(to.location);
    if (resolved === 'gone') return { attempt: this.ended(record, 'failed', null, 'the card was never sent') };
    if (resolved === 'pending')
      return {
        attempt: {
          ...this.ended(record, 'pending', null, 'the card is not sent yet'),
          attempts: record.attempts,
          notBefore: new Date(this.clock().getTime() + this.pollMs),
        },
      };
    const location = resolved.location as { reference?: Partial<ConversationReference>; activityId?: unknown };
    if (!location.reference || typeof location.activityId !== 'string')
      return { attempt: this.ended(record, 'failed', null, 'the card has no activity id') };
    return { reference: location.reference, activityId: location.activityId };
  }

  private ended(
    record: OutboxRecord,
    status: OutboxAttempt['status'],
    result: JsonObject | null,
    error: string | null,
  ): OutboxAttempt {
    return { status, attempts: record.attempts + 1, notBefore: this.clock(), result, error };
  }

  /** One retry policy for Teams: Retry-After when given, else exponential backoff with jitter, for retryable statuses only. */
  private async afterFailure(record: OutboxRecord, failure: CallFailure): Promise<OutboxAttempt> {
    const { logger } = this.options;
    const status = failure.status;
    const error = `${status ?? ''} ${failure.code ?? ''} ${failure.message}`.replace(/\s+/g, ' ').trim().slice(0, 300);
    if (status === 413) {
      logger.error('outbox.tooLarge', { outboxId: record.id, kind: record.kind, code: failure.code });
      return this.ended(record, 'failed', null, error);
    }
    if (status === 403 || status === 404) return this.refused(record, status, failure, error);
    const retryable = status === undefined || RETRYABLE.has(status);
    if (!retryable || record.attempts + 1 >= this.maxAttempts) {
      logger.warn('outbox.failed', { outboxId: record.id, status, code: failure.code, attempts: record.attempts + 1 });
      return this.ended(record, 'failed', null, error);
    }
    const backoff = Math.min(60_000, this.retryBaseMs * 2 ** record.attempts) * (0.8 + Math.random() * 0.4);
    const waitMs = failure.retryAfterMs ?? backoff;
    if (status === 429) this.pacer.pause(this.keyOf(record), this.clock().getTime() + waitMs);
    logger.info('outbox.retry', {
      outboxId: record.id,
      status,
      code: failure.code,
      attempt: record.attempts + 1,
      ms: Math.round(waitMs),
    });
    return { ...this.ended(record, 'pending', null, error), notBefore: new Date(this.clock().getTime() + waitMs) };
  }

  /** 403/404: the chat is gone or the person unreachable; a stale chat is opened again once. */
  private async refused(
    record: OutboxRecord,
    status: number,
    failure: CallFailure,
    error: string,
  ): Promise<OutboxAttempt> {
    const to = (record.payload as unknown as Payload).to;
    if (!('user' in to)) return this.ended(record, 'failed', null, error);
    const reason = await this.options.chats.refused(record.tenantId, to.user, status, failure.code);
    if (reason) return this.ended(record, 'failed', null, `unreachable: ${reason} (${error})`);
    if (record.attempts >= 1) return this.ended(record, 'failed', null, error);
    return { ...this.ended(record, 'pending', null, error), notBefore: this.clock() };
  }

  private async followUp(record: OutboxRecord): Promise<void> {
    try {
      await this.options.renderer.settled?.(record);
    } catch (err) {
      this.options.logger.warn('outbox.followUp.failed', { outboxId: record.id, error: err });
    }
  }
}

/** A request's slot in the pace is further off than an attempt may wait: the record waits until then instead. */
class PacedError extends Error {
  constructor(readonly waitMs: number) {
    super(`paced: the next slot is in ${Math.round(waitMs)} ms`);
    this.name = 'PacedError';
  }
}

function recipientOf(to: OutboxTo): string {
  if ('user' in to) return to.user;
  const reference = ('reference' in to ? to.reference : to.location.reference) as
    Partial<ConversationReference> | undefined;
  return (
    reference?.conversation?.id ??
    ('location' in to && typeof to.location.outboxId === 'string' ? to.location.outboxId : 'unknown')
  );
}

function reasonField(record: OutboxRecord): { reason?: UnreachableReason } {
  const match = /^unreachable: (\w+)/.exec(record.error ?? '');
  return match ? { reason: match[1] as UnreachableReason } : {};
}

function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
