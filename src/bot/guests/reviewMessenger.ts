/** Review cards in Teams: one per owner, stored locations, every copy updated after each decision. */
import type { Attachment } from 'botbuilder';
import type { GroupOwner } from '../../graph/directory';
import type { ReviewDecision, ReviewMessenger, ReviewView } from '../../domain/guestReview';
import type { JsonObject } from '../../store/store';
import type { Logger } from '../../logging';
import { reviewCard } from './cards';

export interface UserChat {
  sendToUserChat(tenantId: string, userId: string, content: Attachment | string): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string }>;
  replaceCard(location: JsonObject, card: Attachment): Promise<boolean>;
}

export class TeamsReviewMessenger implements ReviewMessenger {
  constructor(
    private readonly chat: UserChat,
    private readonly defaultDecision: ReviewDecision,
    private readonly logger: Logger,
  ) {}

  sendReviewCard(review: ReviewView, owner: GroupOwner, reason: 'new' | 'reminder'): ReturnType<ReviewMessenger['sendReviewCard']> {
    return this.chat.sendToUserChat(review.tenantId, owner.id, reviewCard(review, this.defaultDecision, { reminder: reason === 'reminder' }));
  }

  async updateReviewCards(review: ReviewView): Promise<void> {
    const card = reviewCard(review, this.defaultDecision);
    for (const { ownerId, location } of review.cards) {
      if (!(await this.chat.replaceCard(location, card))) this.logger.warn('review.card.update.failed', { reviewId: review.reviewId, ownerId });
    }
  }

  async notifyUser(tenantId: string, userId: string, text: string): Promise<boolean> {
    return (await this.chat.sendToUserChat(tenantId, userId, text)).ok;
  }
}
