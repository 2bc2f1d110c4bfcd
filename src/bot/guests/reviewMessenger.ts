/**
 * Review cards in Teams: one per owner, stored locations, every copy updated after each decision. Each card and
 * notice is in its recipient's last known language and time zone (kept with the conversation reference).
 */
import type { Attachment } from 'botbuilder';
import type { GroupOwner } from '../../graph/directory';
import type { ReviewDecision, ReviewMessenger, ReviewView } from '../../domain/guestReview';
import type { Msg } from '../../domain/message';
import type { Localizer } from '../../i18n';
import type { JsonObject } from '../../store/store';
import type { Logger } from '../../logging';
import { locFor } from '../locale';
import { reviewCard } from './cards';

export interface UserChat {
  /** Sends what `render` makes in the recipient's language to their 1:1 chat with the bot. */
  sendToUserChat(tenantId: string, userId: string, render: (l: Localizer) => Attachment | string): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string }>;
  replaceCard(location: JsonObject, card: Attachment): Promise<boolean>;
}

export class TeamsReviewMessenger implements ReviewMessenger {
  constructor(
    private readonly chat: UserChat,
    private readonly defaultDecision: ReviewDecision,
    private readonly logger: Logger,
  ) {}

  sendReviewCard(review: ReviewView, owner: GroupOwner, reason: 'new' | 'reminder'): ReturnType<ReviewMessenger['sendReviewCard']> {
    return this.chat.sendToUserChat(review.tenantId, owner.id, (l) => reviewCard(l, review, this.defaultDecision, { reminder: reason === 'reminder' }));
  }

  async updateReviewCards(review: ReviewView): Promise<void> {
    for (const { ownerId, location } of review.cards) {
      const card = reviewCard(locFor(location), review, this.defaultDecision);
      if (!(await this.chat.replaceCard(location, card))) this.logger.warn('review.card.update.failed', { reviewId: review.reviewId, ownerId });
    }
  }

  async notifyUser(tenantId: string, userId: string, message: Msg): Promise<boolean> {
    return (await this.chat.sendToUserChat(tenantId, userId, (l) => l.msg(message))).ok;
  }
}
