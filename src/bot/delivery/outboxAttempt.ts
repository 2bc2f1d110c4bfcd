/**
 * One attempt at one outbox record: lease it, find the conversation (opening the person's chat) or the card,
 * render it in the recipient's language, take its slot in the pace, send or update, and decide what comes next
 * with the one retry policy for Teams (docs/outbox.md, STATUS).
 */
import type { Attachment, ConversationReference } from 'botbuilder';
import type { Logger } from '../../logging';
import { ConflictError, type JsonObject, type OutboxAttempt, type OutboxRecord, type Store } from '../../store/store';
import { locFor } from '../locale';
import { failureOf, type CallFailure, type ConnectorCalls } from './connector';
import { event, metrics, span } from '../../telemetry/telemetry';
import type { PersonalChats } from './personalChat';
import { locationOf, payloadOf, type OutboxRenderer, type OutboxTo } from './outboxMessage';
import { PacedError, type OutboxPace } from './outboxPace';

/** Statuses worth another attempt [STATUS in docs/outbox.md]; any other 4xx is final. */
const RETRYABLE = new Set([412, 429, 502, 503, 504]);

/** What the outbox sends with: the store, finding people's chats, the Bot Connector calls, the renderer. */
export interface OutboxParts {
  store: Store;
  chats: PersonalChats;
  calls: ConnectorCalls;
  renderer: OutboxRenderer;
  instanceId: string;
  logger: Logger;
}

export interface AttemptOptions extends OutboxParts {
  clock: () => Date;
  pace: OutboxPace;
  leaseMs: number;
  maxAttempts: number;
  /** How long a card update waits for its card to be sent first. */
  pollMs: number;
  retryBaseMs: number;
}

/** A card location, or `{ outboxId }` of a card sent through the outbox: where it is now, or why not. */
export async function resolveLocation(
  store: Store,
  location: JsonObject,
): Promise<{ location: JsonObject } | 'pending' | 'gone'> {
  if (typeof location.outboxId !== 'string') return { location };
  const record = await store.outbox.get(location.outboxId);
  if (!record || record.status === 'failed') return 'gone';
  return record.status === 'sent' && record.result ? { location: record.result } : 'pending';
}

type Target = { reference: Partial<ConversationReference>; activityId?: string } | { attempt: OutboxAttempt };

export class OutboxAttempts {
  constructor(private readonly options: AttemptOptions) {}

  /**
   * Leases the record and makes one attempt; returns the record as it ended (undefined when another has it).
   * One send or update of a record: a `teams.send` span of its own (the kind and attempt, never the content).
   */
  attempt(record: OutboxRecord, alreadyLeased = false): Promise<OutboxRecord | undefined> {
    const attributes = { 'guestinvite.outbox.kind': record.kind, 'guestinvite.outbox.attempt': record.attempts + 1 };
    return span('teams.send', attributes, () => this.attemptOnce(record, alreadyLeased), {
      root: true,
      kind: 'client',
    });
  }

  private async attemptOnce(record: OutboxRecord, alreadyLeased: boolean): Promise<OutboxRecord | undefined> {
    const { store, instanceId, logger, clock } = this.options;
    const leased =
      alreadyLeased && record.leaseOwner === instanceId
        ? record
        : await store.outbox.acquireLease(record.id, instanceId, this.options.leaseMs, clock());
    if (!leased) return undefined;
    const outcome = await this.outcome(leased);
    const answer = outcome.status === 'pending' && outcome.error ? 'retry' : outcome.status;
    if (answer !== 'pending') metrics.teamsSend(record.kind, answer);
    if (answer === 'retry') event('teams.retry', { 'retry.not_before': outcome.notBefore?.toISOString() ?? '' });
    try {
      const ended = await store.outbox.update(leased.id, leased.version, outcome, clock());
      if (ended.status !== 'pending') await this.followUp(ended);
      return ended;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      logger.warn('outbox.lease.lost', { outboxId: record.id });
      return undefined;
    }
  }

  /** What came of sending the leased record: sent, given up, or pending until a time. */
  private async outcome(leased: OutboxRecord): Promise<OutboxAttempt> {
    try {
      return await this.perform(leased);
    } catch (err) {
      if (err instanceof PacedError) return this.later(leased, err.waitMs, leased.error);
      return this.afterFailure(leased, failureOf(err));
    }
  }

  private async perform(record: OutboxRecord): Promise<OutboxAttempt> {
    const { renderer, calls, logger } = this.options;
    const payload = payloadOf(record);
    const target = await this.target(record, payload.to);
    if ('attempt' in target) return target.attempt;
    const { reference, activityId } = target;
    const content = await renderer.render(payload.content, locFor(reference), reference);
    if (content === null) return this.ended(record, 'failed', null, 'nothing to send any more');
    const slot = await this.options.pace.slot(record);
    if ('waitMs' in slot) return this.later(record, slot.waitMs, record.error);
    const answered = (): void => slot.answered(this.options.clock().getTime());
    if (activityId !== undefined) {
      await calls.update(reference, activityId, content as Attachment).finally(answered);
      return this.ended(record, 'sent', locationOf(reference, activityId), null);
    }
    const id = await calls.send(reference, content).finally(answered);
    if (!id) logger.warn('outbox.sent.noActivityId', { outboxId: record.id });
    return this.ended(record, 'sent', locationOf(reference, id), null);
  }

  /** The conversation (and for an update, the card) the record goes to, or the attempt's end when there is none. */
  private async target(record: OutboxRecord, to: OutboxTo): Promise<Target> {
    if ('user' in to) {
      const opening = await this.options.chats.open(record.tenantId, to.user);
      if (!opening.ok) {
        const why = `unreachable: ${opening.reason}${opening.detail ? ` (${opening.detail})` : ''}`;
        return { attempt: this.ended(record, 'failed', null, why) };
      }
      const conversation = opening.reference.conversation?.id;
      if (conversation) this.options.pace.sameChat(conversation, record.tenantId, to.user);
      return { reference: opening.reference };
    }
    if ('reference' in to) return { reference: to.reference as Partial<ConversationReference> };
    const resolved = await resolveLocation(this.options.store, to.location);
    if (resolved === 'gone') return { attempt: this.ended(record, 'failed', null, 'the card was never sent') };
    if (resolved === 'pending')
      return {
        attempt: {
          ...this.ended(record, 'pending', null, 'the card is not sent yet'),
          attempts: record.attempts,
          notBefore: new Date(this.options.clock().getTime() + this.options.pollMs),
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
    return { status, attempts: record.attempts + 1, notBefore: this.options.clock(), result, error };
  }

  /** Not attempted now (its slot in the pace is later): pending until then, the attempt not counted. */
  private later(record: OutboxRecord, waitMs: number, error: string | null): OutboxAttempt {
    const notBefore = new Date(this.options.clock().getTime() + waitMs);
    return { status: 'pending', attempts: record.attempts, notBefore, result: null, error };
  }

  /**
   * One retry policy for Teams: Retry-After when given, else exponential backoff with jitter, for retryable statuses
   * only.
   */
  private async afterFailure(record: OutboxRecord, failure: CallFailure): Promise<OutboxAttempt> {
    const { logger, clock } = this.options;
    const status = failure.status;
    const error = `${status ?? ''} ${failure.code ?? ''} ${failure.message}`.replace(/\s+/g, ' ').trim().slice(0, 300);
    if (status === 413) {
      logger.error('outbox.tooLarge', { outboxId: record.id, kind: record.kind, code: failure.code });
      return this.ended(record, 'failed', null, error);
    }
    if (status === 403 || status === 404) return this.refused(record, status, failure, error);
    const retryable = status === undefined || RETRYABLE.has(status);
    if (!retryable || record.attempts + 1 >= this.options.maxAttempts) {
      logger.warn('outbox.failed', { outboxId: record.id, status, code: failure.code, attempts: record.attempts + 1 });
      return this.ended(record, 'failed', null, error);
    }
    const backoff = Math.min(60_000, this.options.retryBaseMs * 2 ** record.attempts) * (0.8 + Math.random() * 0.4);
    const waitMs = failure.retryAfterMs ?? backoff;
    if (status === 429) this.options.pace.pause(record, clock().getTime() + waitMs);
    logger.info('outbox.retry', {
      outboxId: record.id,
      status,
      code: failure.code,
      attempt: record.attempts + 1,
      ms: Math.round(waitMs),
    });
    return { ...this.ended(record, 'pending', null, error), notBefore: new Date(clock().getTime() + waitMs) };
  }

  /** 403/404: the chat is gone or the person unreachable; a stale chat is opened again once. */
  private async refused(
    record: OutboxRecord,
    status: number,
    failure: CallFailure,
    error: string,
  ): Promise<OutboxAttempt> {
    const to = payloadOf(record).to;
    if (!('user' in to)) return this.ended(record, 'failed', null, error);
    const reason = await this.options.chats.refused(record.tenantId, to.user, status, failure.code);
    if (reason) return this.ended(record, 'failed', null, `unreachable: ${reason} (${error})`);
    if (record.attempts >= 1) return this.ended(record, 'failed', null, error);
    return { ...this.ended(record, 'pending', null, error), notBefore: this.options.clock() };
  }

  private async followUp(record: OutboxRecord): Promise<void> {
    try {
      await this.options.renderer.settled?.(record);
    } catch (err) {
      this.options.logger.warn('outbox.followUp.failed', { outboxId: record.id, error: err });
    }
  }
}
