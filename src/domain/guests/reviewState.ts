/**
 * A group's review as kept in the state store under `guestReview/{id}`: read, written when it opens, changed by
 * compare-and-set (read again on a conflict), and the first decision on each guest recorded on it.
 */
import type { JsonObject, StateStore } from '../../store/store';
import { retryOnConflict } from '../shared/retryOnConflict';
import type { ReviewEntry, ReviewView } from './review';

const reviewKey = (id: string): string => `guestReview/${id}`;

export class ReviewStates {
  constructor(private readonly state: StateStore) {}

  async get(reviewId: string): Promise<{ view: ReviewView; version: string } | undefined> {
    const item = (await this.state.read([reviewKey(reviewId)])).get(reviewKey(reviewId));
    return item ? { view: item.value as unknown as ReviewView, version: item.version } : undefined;
  }

  /** Writes a newly opened review. */
  async create(view: ReviewView): Promise<void> {
    await this.state.write(reviewKey(view.reviewId), view as unknown as JsonObject, null);
  }

  /** Changes the stored review (compare-and-set, read again on a conflict). */
  async change(reviewId: string, change: (view: ReviewView) => void): Promise<ReviewView | undefined> {
    return retryOnConflict(
      async () => {
        const current = await this.get(reviewId);
        if (!current) return undefined;
        change(current.view);
        await this.state.write(reviewKey(reviewId), current.view as unknown as JsonObject, current.version);
        return current.view;
      },
      {
        onGiveUp: () => {
          throw new Error(`Review ${reviewId} kept changing`);
        },
      },
    );
  }

  /** Records the decision on the guest's entry, unless one is there already (the first decision wins). */
  async recordDecision(
    reviewId: string,
    guestId: string,
    decision: NonNullable<ReviewEntry['decision']>,
  ): Promise<void> {
    await this.change(reviewId, (view) => {
      const entry = view.entries.find((e) => e.guestId === guestId);
      if (entry && !entry.decision) entry.decision = decision;
    });
  }
}
