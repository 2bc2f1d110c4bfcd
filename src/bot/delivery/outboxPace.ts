/**
 * The outbox's pacing: which Teams conversation a record counts against (a person's chat, a conversation, a card
 * still queued) and waiting for a slot of the Pacer (./pacer.ts) right before a request goes.
 */
import type { OutboxRecord } from '../../store/store';
import type { Pacer } from './pacer';
import { payloadOf, queuedCardOf, referenceOf } from './outboxMessage';

/** How long an attempt may wait for its slot in the pace; a later slot puts the record back until then. */
const MAX_HOLD_MS = 250;

/** A request's slot in the pace is further off than an attempt may wait: the record waits until then instead. */
export class PacedError extends Error {
  constructor(readonly waitMs: number) {
    super(`paced: the next slot is in ${Math.round(waitMs)} ms`);
    this.name = 'PacedError';
  }
}

export class OutboxPace {
  /** Pacing key per person or card (a person's 1:1 chat is one conversation). */
  private readonly keys = new Map<string, string>();

  constructor(
    private readonly pacer: Pacer,
    private readonly clock: () => Date,
  ) {}

  keyOf(record: Pick<OutboxRecord, 'id' | 'tenantId' | 'payload'>): string {
    const { to } = payloadOf(record as OutboxRecord);
    if ('user' in to) return `u:${record.tenantId}:${to.user}`;
    const conversation = referenceOf(to)?.conversation?.id;
    if (conversation) return this.keys.get(`c:${conversation}`) ?? `c:${conversation}`;
    const outboxId = queuedCardOf(to) ?? record.id;
    return this.keys.get(`o:${outboxId}`) ?? `o:${outboxId}`;
  }

  /** The person's chat opened as this conversation: requests into it count as the person's. */
  sameChat(conversationId: string, tenantId: string, userId: string): void {
    this.keys.set(`c:${conversationId}`, `u:${tenantId}:${userId}`);
  }

  /** How long a request under `key` must wait now (0: it may go). */
  wait(tenantId: string, key: string): number {
    return this.pacer.wait(tenantId, key, this.clock().getTime());
  }

  /** A 429's Retry-After pauses the record's conversation. */
  pause(record: OutboxRecord, until: number): void {
    this.pacer.pause(this.keyOf(record), until);
  }

  /**
   * Waits for a slot in the pace of a person's chat, for a request the outbox does not make itself
   * (createConversation);
   * call the returned function when the answer comes.
   */
  async paceFor(tenantId: string, userId: string): Promise<() => void> {
    const slot = await this.take(tenantId, `u:${tenantId}:${userId}`);
    if ('waitMs' in slot) throw new PacedError(slot.waitMs);
    return () => slot.answered(this.clock().getTime());
  }

  /**
   * Counts the request against the pace right before it goes (Teams counts requests as they arrive): waits for a
   * slot that comes within `MAX_HOLD_MS`; `{ waitMs }` (nothing counted) when the slot is later, so the record waits
   * instead.
   */
  slot(record: OutboxRecord): Promise<{ waitMs: number } | { answered: (at: number) => void }> {
    return this.take(record.tenantId, this.keyOf(record));
  }

  private async take(tenantId: string, key: string): Promise<{ waitMs: number } | { answered: (at: number) => void }> {
    for (;;) {
      const now = this.clock().getTime();
      const waitMs = this.pacer.wait(tenantId, key, now);
      if (waitMs <= 0) return { answered: this.pacer.take(tenantId, key, now) };
      if (waitMs > MAX_HOLD_MS) return { waitMs };
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
