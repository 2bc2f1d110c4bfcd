/**
 * What an outbox record holds (where the message goes, what to render, what to do once it settled) and what
 * sending it answers; shared by the outbox (./outbox.ts), its pacing (./outboxPace.ts) and its attempts
 * (./outboxAttempt.ts).
 */
import type { ConversationReference } from 'botbuilder';
import type { Localizer } from '../../i18n';
import type { JsonObject, OutboxRecord } from '../../store/store';
import type { Content } from './connector';
import type { UnreachableReason } from './personalChat';

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

/** The record's payload (JSON in the store). */
export type Payload = { to: OutboxTo; content: JsonObject; followUp?: JsonObject };

export function payloadOf(record: OutboxRecord): Payload {
  return record.payload as unknown as Payload;
}

/** Where a sent message is: the same shape as `cardLocation` (conversation reference and activity id). */
export function locationOf(reference: Partial<ConversationReference>, activityId: string | undefined): JsonObject {
  return JSON.parse(JSON.stringify({ reference, activityId: activityId ?? null })) as JsonObject;
}

/** The conversation a message to a conversation or a card goes to, when known (not for a person's chat). */
export function referenceOf(to: OutboxTo): Partial<ConversationReference> | undefined {
  if ('user' in to) return undefined;
  return ('reference' in to ? to.reference : to.location.reference) as Partial<ConversationReference> | undefined;
}

/** A card still queued is known by its outbox record's id. */
export function queuedCardOf(to: OutboxTo): string | undefined {
  return 'location' in to && typeof to.location.outboxId === 'string' ? to.location.outboxId : undefined;
}

/** Whom a record is for, as the store keeps it: the person, the conversation, or the queued card. */
export function recipientOf(to: OutboxTo): string {
  if ('user' in to) return to.user;
  return referenceOf(to)?.conversation?.id ?? queuedCardOf(to) ?? 'unknown';
}

/** The unreachable reason of a record given up because the person cannot be reached. */
export function reasonField(record: OutboxRecord): { reason?: UnreachableReason } {
  const match = /^unreachable: (\w+)/.exec(record.error ?? '');
  return match ? { reason: match[1] as UnreachableReason } : {};
}

export function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
