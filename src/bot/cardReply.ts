/**
 * Answering a card inside its own turn (not proactive: see ./messenger.ts for that): replace the card that was
 * pressed, or send the answer; and where a card is, so that a later turn or another process can update it.
 */
import { MessageFactory, type Attachment, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Logger } from '../logging';
import type { JsonObject } from '../store/store';
import { referenceWithAudience } from './locale';
import { locationOf } from './delivery/outboxMessage';

/** Answers a card's Action.Submit: replaces the card it came from in place, or sends the answer when that fails. */
export async function replaceOrSend(context: TurnContext, card: Attachment, logger: Logger): Promise<void> {
  const replyToId = context.activity.replyToId;
  if (replyToId) {
    try {
      await context.updateActivity({ type: 'message', id: replyToId, attachments: [card] });
      return;
    } catch (err) {
      logger.warn('card.update.failed', { cardActivityId: replyToId, error: err });
    }
  }
  await context.sendActivity(MessageFactory.attachment(card));
}

/** Where a card is, so that a later turn or another process can update it (conversation reference and activity id). */
export function cardLocation(context: TurnContext, activityId: string): JsonObject {
  return locationOf(referenceWithAudience(context.activity) as Partial<ConversationReference>, activityId);
}
