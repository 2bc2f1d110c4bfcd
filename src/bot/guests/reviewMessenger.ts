/**
 * Review cards in Teams: one per owner, stored locations, every copy updated after each decision. Each card and
 * notice is rendered when it is sent (through the outbox), in its recipient's last known language and time zone.
 */
import type { GroupOwner } from '../../graph/directory';
import type { ReviewDecision, ReviewMessenger, ReviewView } from '../../domain/guests/review';
import type { Msg } from '../../domain/shared/message';
import type { JsonObject } from '../../store/store';
import type { Logger } from '../../logging';
import type { UserChatContent } from '../messenger';

export interface UserChat {
  /**
   * Sends a review card or a notice, rendered in the recipient's language at send time, to their 1:1 chat with the bot.
   */
  sendToUserChat(
    tenantId: string,
    userId: string,
    content: UserChatContent,
  ): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string }>;
  replaceCard(location: JsonObject, content: UserChatContent): Promise<boolean>;
}

export class TeamsReviewMessenger implements ReviewMessenger {
  constructor(
    private readonly chat: UserChat,
    private readonly defaultDecision: ReviewDecision,
    private readonly logger: Logger,
  ) {}

  sendReviewCard(
    review: ReviewView,
    owner: GroupOwner,
    reason: 'new' | 'reminder',
  ): ReturnType<ReviewMessenger['sendReviewCard']> {
    return this.chat.sendToUserChat(review.tenantId, owner.id, {
      type: 'review',
      view: { ...review, cards: [] },
      defaultDecision: this.defaultDecision,
      reminder: reason === 'reminder',
    });
  }

  async updateReviewCards(review: ReviewView): Promise<void> {
    for (const { ownerId, location } of review.cards) {
      const content: UserChatContent = {
        type: 'review',
        view: { ...review, cards: [] },
        defaultDecision: this.defaultDecision,
      };
      if (!(await this.chat.replaceCard(location, content)))
        this.logger.warn('review.card.update.failed', { reviewId: review.reviewId, ownerId });
    }
  }

  async notifyUser(tenantId: string, userId: string, message: Msg): Promise<boolean> {
    return (await this.chat.sendToUserChat(tenantId, userId, { type: 'msg', msg: message })).ok;
  }
}
