/**
 * Owners' decisions on a review (Keep, Remove, Keep all): the review and the guest's record are read again, the
 * actor's ownership is read again now, the first decision on a guest wins (compare-and-set on its record), every
 * owner's card is updated, and each decision or refused click is audited.
 */
import type { AuditEntry, GuestRecord, Store } from '../../store/store';
import { auditActor } from '../shared/auditActor';
import { msg, type Msg } from '../shared/message';
import type { Actor } from '../shared/model';
import type { GuestLifecycleService } from './lifecycle';
import type { ReviewDecision, ReviewEntry, ReviewMessenger, ReviewView } from './review';
import type { ReviewStates } from './reviewState';

/** What a decision tells the owner who made it; `refused`: nothing was done. */
interface Notice {
  refused: boolean;
  message: Msg;
}
const refused = (message: Msg): Notice => ({ refused: true, message });

export type DecideResult = { kind: 'done'; review: ReviewView; notice: Msg | null } | { kind: 'refused'; message: Msg };

/** Who decided, as users read it: an owner's name, or the default after the grace period. */
export function decidedBy(decision: NonNullable<ReviewEntry['decision']>): string | Msg {
  return decision.byDefault ? msg('guests:review.byDefault') : decision.by;
}

export interface ReviewDecisionDeps {
  store: Store;
  lifecycle: GuestLifecycleService;
  messenger: ReviewMessenger;
  states: ReviewStates;
  clock: () => Date;
}

export class ReviewDecisions {
  constructor(private readonly deps: ReviewDecisionDeps) {}

  /**
   * An owner's decision on one guest (or on every undecided guest: `guestId` null). Ownership is read again now; the
   * first decision on a guest wins; every owner's card is updated. Returns the review as it stands, or a refusal.
   */
  async decide(
    actor: Actor,
    reviewId: string,
    groupId: string,
    guestId: string | null,
    decision: ReviewDecision,
    activityId?: string,
  ): Promise<DecideResult> {
    const review = await this.deps.states.get(reviewId);
    if (!review || review.view.groupId !== groupId || review.view.tenantId !== actor.tenantId) {
      await this.audit(actor, {
        action: 'review.forged',
        outcome: 'unknownReview',
        groupId,
        guestId: guestId ?? undefined,
        activityId,
        detail: 'card action names a review that does not exist for this group',
      });
      return { kind: 'refused', message: msg('guests:review.notOpen') };
    }
    const targets = review.view.entries.filter((e) => (guestId ? e.guestId === guestId : e.decision === null));
    if (guestId && targets.length === 0) return { kind: 'refused', message: msg('guests:review.notOpen') };
    const notices: Notice[] = [];
    for (const entry of targets) {
      const notice = await this.decideOne(actor, review.view, entry, decision, activityId);
      if (notice) notices.push(notice);
    }
    const current = (await this.deps.states.get(reviewId))?.view ?? review.view;
    await this.deps.messenger.updateReviewCards(current);
    if (notices.length > 0 && notices.every((n) => n.refused)) return { kind: 'refused', message: notices[0].message };
    return { kind: 'done', review: current, notice: notices.find((n) => !n.refused)?.message ?? null };
  }

  /** Keeps a guest under review: closes its review (only if still open in this review) and starts a new period. */
  async keep(record: GuestRecord, reviewId: string, by: string, byDefault = false): Promise<boolean> {
    const now = this.deps.clock().toISOString();
    const kept = await this.deps.lifecycle.patchRecord(
      record,
      { reviewState: 'none', lastKeptAt: now, keptBy: by, reviewId: null },
      (r) => r.reviewState === 'open' && r.reviewId === reviewId,
    );
    if (!kept) return false;
    await this.deps.states.recordDecision(reviewId, record.guestId, {
      decision: 'keep',
      by,
      ...(byDefault ? { byDefault } : {}),
      at: now,
      outcome: 'kept',
    });
    return true;
  }

  /** Returns a notice for the actor (`refused`: nothing was done), or null. */
  private async decideOne(
    actor: Actor,
    view: ReviewView,
    entry: ReviewEntry,
    decision: ReviewDecision,
    activityId?: string,
  ): Promise<Notice | null> {
    const key = { tenantId: view.tenantId, groupId: view.groupId, guestId: entry.guestId };
    const record = await this.deps.store.guests.get(key);
    const click = { groupId: view.groupId, guestId: entry.guestId, activityId, operationId: view.reviewId };
    if (!record || record.reviewState !== 'open' || record.reviewId !== view.reviewId) {
      await this.audit(actor, { action: 'review.stale', outcome: 'alreadyDecided', ...click });
      return refused(
        entry.decision
          ? msg('guests:review.alreadyDecided', { guest: entry.email, by: decidedBy(entry.decision) })
          : msg('guests:review.notOpen'),
      );
    }
    // Ownership is read before anything is run under the review's operation id: a refused click by someone who is
    // not (or no longer) an owner must not leave a record that the real owners' Remove would find and repeat.
    const owners = await this.deps.lifecycle.ownersNow(view.groupId);
    if (!owners.some((o) => o.id === actor.userId)) {
      await this.audit(actor, { action: 'review.forged', outcome: 'notOwner', ...click });
      return refused(msg('guests:refused.notOwner', { group: view.groupName }));
    }
    const notice =
      decision === 'remove'
        ? await this.remove(actor, view, entry, activityId)
        : await this.keepByOwner(actor, view, record);
    if (notice) return notice;
    await this.audit(actor, {
      action: 'review.decided',
      outcome: decision,
      groupId: view.groupId,
      groupName: view.groupName,
      guestId: entry.guestId,
      guestEmail: entry.email,
      activityId,
      operationId: view.reviewId,
      detail: `decided by ${actor.displayName}`,
    });
    return null;
  }

  /** Removes the guest under the review's own operation id (so that a second owner's Remove does not repeat it). */
  private async remove(
    actor: Actor,
    view: ReviewView,
    entry: ReviewEntry,
    activityId?: string,
  ): Promise<Notice | null> {
    const outcome = await this.deps.lifecycle.remove(
      { kind: 'owner', actor, reviewId: view.reviewId },
      view.groupId,
      entry.guestId,
      `review-remove:${view.reviewId}:${entry.guestId}`,
      activityId,
    );
    if (outcome.kind !== 'done') return refused(outcome.message);
    await this.deps.states.recordDecision(view.reviewId, entry.guestId, {
      decision: 'remove',
      by: actor.displayName || actor.userId,
      at: this.deps.clock().toISOString(),
      outcome: 'removed',
    });
    return null;
  }

  private async keepByOwner(actor: Actor, view: ReviewView, record: GuestRecord): Promise<Notice | null> {
    const kept = await this.keep(record, view.reviewId, actor.displayName || actor.userId);
    return kept ? null : refused(msg('guests:review.notOpen'));
  }

  private audit(actor: Actor, entry: Omit<AuditEntry, 'time' | 'tenantId' | 'actorId' | 'actorName'>): Promise<number> {
    return this.deps.store.audit.append({ time: this.deps.clock().toISOString(), ...auditActor(actor), ...entry });
  }
}
