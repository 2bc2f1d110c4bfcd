/**
 * Use case: "still needed?" Every guest the bot added is reviewed by the group's owners every GUEST_REVIEW_INTERVAL
 * (from when it was added or last kept). The periodic sweep (REQUEST_SWEEP_INTERVAL, once across instances) finds
 * due reviews in the bot's own records, by index, without reading guests from Graph; one review per group, one card
 * per owner. The first decision on a guest wins (compare-and-set on its record) and every owner's card shows it.
 * Without a decision after GUEST_REVIEW_GRACE (a reminder halfway) GUEST_REVIEW_DEFAULT is applied.
 */
import { randomUUID } from 'node:crypto';
import type { GroupOwner } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { GuestRecord, JsonObject, Store } from '../../store/store';
import type { Catalog } from '../shared/catalog';
import type { GuestLifecycleService } from './lifecycle';
import { DEFAULT_AFTER_GRACE } from './removal';
import { msg, type Msg } from '../shared/message';
import { retryOnConflict } from '../shared/retryOnConflict';
import type { Actor } from '../shared/model';

export type ReviewDecision = 'keep' | 'remove';

export interface ReviewEntry {
  guestId: string;
  email: string;
  name: string;
  /** Invited more than INVITATION_STALE_AFTER ago and still pending acceptance (as last seen). */
  neverAccepted: boolean;
  invitedAt: string;
  /** `byDefault`: GUEST_REVIEW_DEFAULT applied after the grace period (`by` is then the audit log's name for it). */
  decision: { decision: ReviewDecision; by: string; byDefault?: boolean; at: string; outcome: string } | null;
}

/** One group's review, as the cards show it (kept in the state store under `guestReview/{id}`). */
export interface ReviewView {
  reviewId: string;
  tenantId: string;
  appId: string;
  appName: string;
  groupId: string;
  groupName: string;
  openedAt: string;
  deadline: string;
  entries: ReviewEntry[];
  cards: Array<{ ownerId: string; location: JsonObject }>;
}

export interface ReviewMessenger {
  sendReviewCard(
    review: ReviewView,
    owner: GroupOwner,
    reason: 'new' | 'reminder',
  ): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string }>;
  updateReviewCards(review: ReviewView): Promise<void>;
  /** A plain notice to a user (the default applied); false when they cannot be reached. */
  notifyUser(tenantId: string, userId: string, message: Msg): Promise<boolean>;
}

export interface GuestReviewOptions {
  store: Store;
  logger: Logger;
  /** Who owns each group (the shared, cached catalog): the sweep reads no guest from Graph. */
  catalog: Pick<Catalog, 'apps'>;
  lifecycle: GuestLifecycleService;
  messenger: ReviewMessenger;
  clock?: () => Date;
  intervalMs: number;
  graceMs: number;
  defaultDecision?: ReviewDecision;
  staleAfterMs: number;
  /** Admins to tell when a default is applied (ADMIN_USER_IDS). */
  adminUserIds?: readonly string[];
}

export interface SweepResult {
  opened: number;
  reminded: number;
  defaulted: number;
}

const DUE_BATCH = 500;
const reviewKey = (id: string): string => `guestReview/${id}`;

/** What a decision tells the owner who made it; `refused`: nothing was done. */
interface Notice {
  refused: boolean;
  message: Msg;
}
const refused = (message: Msg): Notice => ({ refused: true, message });

/** Who decided, as users read it: an owner's name, or the default after the grace period. */
export function decidedBy(decision: NonNullable<ReviewEntry['decision']>): string | Msg {
  return decision.byDefault ? msg('guests:review.byDefault') : decision.by;
}

export class GuestReviewService {
  private readonly clock: () => Date;
  private readonly intervalMs: number;
  private readonly graceMs: number;

  constructor(private readonly options: GuestReviewOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.intervalMs = options.intervalMs;
    this.graceMs = options.graceMs;
  }

  async getReview(reviewId: string): Promise<{ view: ReviewView; version: string } | undefined> {
    const item = (await this.options.store.state.read([reviewKey(reviewId)])).get(reviewKey(reviewId));
    return item ? { view: item.value as unknown as ReviewView, version: item.version } : undefined;
  }

  /** Changes the stored review (compare-and-set, read again on a conflict). */
  private async changeReview(reviewId: string, change: (view: ReviewView) => void): Promise<ReviewView | undefined> {
    return retryOnConflict(
      async () => {
        const current = await this.getReview(reviewId);
        if (!current) return undefined;
        change(current.view);
        await this.options.store.state.write(
          reviewKey(reviewId),
          current.view as unknown as JsonObject,
          current.version,
        );
        return current.view;
      },
      {
        onGiveUp: () => {
          throw new Error(`Review ${reviewId} kept changing`);
        },
      },
    );
  }

  /** One pass: open due reviews, remind halfway, apply the default after the grace period. */
  async sweep(): Promise<SweepResult> {
    const result: SweepResult = { opened: 0, reminded: 0, defaulted: 0 };
    const now = this.clock();
    result.opened = await this.openDue(now);
    for (const record of await this.options.store.guests.listOpenReviews(
      new Date(now.getTime() - this.graceMs / 2),
      1000,
    )) {
      if (!record.reviewId || record.remindedAt) continue;
      if (Date.parse(record.reviewOpenedAt ?? '') <= now.getTime() - this.graceMs) continue;
      const marked = await this.options.store.guests.markReminded(record.reviewId, now);
      if (marked.length > 0) result.reminded += await this.sendCards(record.reviewId, 'reminder');
    }
    const expired = await this.options.store.guests.listOpenReviews(new Date(now.getTime() - this.graceMs), 1000);
    const byReview = new Map<string, GuestRecord[]>();
    for (const r of expired) if (r.reviewId) byReview.set(r.reviewId, [...(byReview.get(r.reviewId) ?? []), r]);
    for (const [reviewId, records] of byReview) result.defaulted += await this.applyDefault(reviewId, records);
    return result;
  }

  /** Opens the due reviews: one per group, all of its due guests at once (an opened group leaves the due list). */
  private async openDue(now: Date): Promise<number> {
    const keptBefore = new Date(now.getTime() - this.intervalMs);
    let opened = 0;
    for (let batch = 0; batch < 100; batch++) {
      const groups = await this.options.store.guests.listDueGroups(keptBefore, DUE_BATCH);
      for (const { tenantId, groupId } of groups) opened += await this.openGroup(tenantId, groupId, keptBefore, now);
      if (groups.length < DUE_BATCH) break;
    }
    return opened;
  }

  private async openGroup(tenantId: string, groupId: string, keptBefore: Date, now: Date): Promise<number> {
    const reviewId = randomUUID();
    const openedRecords = await this.options.store.guests.openReview(tenantId, groupId, keptBefore, reviewId, now);
    if (openedRecords.length === 0) return 0;
    const first = openedRecords[0];
    const stale = this.options.staleAfterMs;
    const view: ReviewView = {
      reviewId,
      tenantId: first.tenantId,
      appId: first.appId,
      appName: first.appName,
      groupId: first.groupId,
      groupName: first.groupName,
      openedAt: now.toISOString(),
      deadline: new Date(now.getTime() + this.graceMs).toISOString(),
      entries: openedRecords.map((r) => ({
        guestId: r.guestId,
        email: r.guestEmail,
        name: r.guestName,
        neverAccepted: r.redemption === 'PendingAcceptance' && Date.parse(r.invitedAt) <= now.getTime() - stale,
        invitedAt: r.invitedAt,
        decision: null,
      })),
      cards: [],
    };
    await this.options.store.state.write(reviewKey(reviewId), view as unknown as JsonObject, null);
    await this.options.store.audit.append({
      time: now.toISOString(),
      tenantId: view.tenantId,
      actorId: 'system',
      action: 'review.opened',
      outcome: `${openedRecords.length} guest(s)`,
      groupId: view.groupId,
      groupName: view.groupName,
      appId: view.appId,
      appName: view.appName,
      operationId: reviewId,
    });
    await this.sendCards(reviewId, 'new');
    return openedRecords.length;
  }

  /** The group's owners now, from the catalog (the decision itself reads the owners again). */
  private async ownersOf(groupId: string): Promise<GroupOwner[]> {
    for (const app of await this.options.catalog.apps()) {
      const found = app.groups.find((g) => g.group.id === groupId);
      if (found) return found.ownerIds.map((id) => ({ id, displayName: '' }));
    }
    return [];
  }

  private async sendCards(reviewId: string, reason: 'new' | 'reminder'): Promise<number> {
    const review = await this.getReview(reviewId);
    if (!review) return 0;
    const sent: Array<{ ownerId: string; location: JsonObject }> = [];
    for (const owner of await this.ownersOf(review.view.groupId)) {
      const delivery = await this.options.messenger.sendReviewCard(review.view, owner, reason);
      if (delivery.ok) sent.push({ ownerId: owner.id, location: delivery.location });
      else this.options.logger.warn('review.card.undelivered', { reviewId, ownerId: owner.id, error: delivery.error });
    }
    await this.changeReview(reviewId, (view) => view.cards.push(...sent));
    return sent.length;
  }

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
  ): Promise<{ kind: 'done'; review: ReviewView; notice: Msg | null } | { kind: 'refused'; message: Msg }> {
    const review = await this.getReview(reviewId);
    if (!review || review.view.groupId !== groupId || review.view.tenantId !== actor.tenantId) {
      await this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorName: actor.displayName,
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
    const current = (await this.getReview(reviewId))?.view ?? review.view;
    await this.options.messenger.updateReviewCards(current);
    if (notices.length > 0 && notices.every((n) => n.refused)) return { kind: 'refused', message: notices[0].message };
    return { kind: 'done', review: current, notice: notices.find((n) => !n.refused)?.message ?? null };
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
    const record = await this.options.store.guests.get(key);
    if (!record || record.reviewState !== 'open' || record.reviewId !== view.reviewId) {
      await this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorName: actor.displayName,
        action: 'review.stale',
        outcome: 'alreadyDecided',
        groupId: view.groupId,
        guestId: entry.guestId,
        activityId,
        operationId: view.reviewId,
      });
      return refused(
        entry.decision
          ? msg('guests:review.alreadyDecided', { guest: entry.email, by: decidedBy(entry.decision) })
          : msg('guests:review.notOpen'),
      );
    }
    // Ownership is read before anything is run under the review's operation id: a refused click by someone who is
    // not (or no longer) an owner must not leave a record that the real owners' Remove would find and repeat.
    const owners = await this.options.lifecycle.ownersNow(view.groupId);
    if (!owners.some((o) => o.id === actor.userId)) {
      await this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorName: actor.displayName,
        action: 'review.forged',
        outcome: 'notOwner',
        groupId: view.groupId,
        guestId: entry.guestId,
        activityId,
        operationId: view.reviewId,
      });
      return refused(msg('guests:refused.notOwner', { group: view.groupName }));
    }
    const decided = (outcome: 'remove' | 'keep') =>
      this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorName: actor.displayName,
        action: 'review.decided',
        outcome,
        groupId: view.groupId,
        groupName: view.groupName,
        guestId: entry.guestId,
        guestEmail: entry.email,
        activityId,
        operationId: view.reviewId,
        detail: `decided by ${actor.displayName}`,
      });
    if (decision === 'remove') {
      const outcome = await this.options.lifecycle.remove(
        { kind: 'owner', actor, reviewId: view.reviewId },
        view.groupId,
        entry.guestId,
        `review-remove:${view.reviewId}:${entry.guestId}`,
        activityId,
      );
      if (outcome.kind !== 'done') return refused(outcome.message);
      await this.recordDecision(view.reviewId, entry.guestId, {
        decision,
        by: actor.displayName || actor.userId,
        at: this.clock().toISOString(),
        outcome: 'removed',
      });
      await decided('remove');
      return null;
    }
    const kept = await this.keep(record, view.reviewId, actor.displayName || actor.userId);
    if (!kept) return refused(msg('guests:review.notOpen'));
    await decided('keep');
    return null;
  }

  /** Keeps a guest under review: closes its review (only if still open in this review) and starts a new period. */
  private async keep(record: GuestRecord, reviewId: string, by: string, byDefault = false): Promise<boolean> {
    const now = this.clock().toISOString();
    const kept = await this.options.lifecycle.patchRecord(
      record,
      { reviewState: 'none', lastKeptAt: now, keptBy: by, reviewId: null },
      (r) => r.reviewState === 'open' && r.reviewId === reviewId,
    );
    if (!kept) return false;
    await this.recordDecision(reviewId, record.guestId, {
      decision: 'keep',
      by,
      ...(byDefault ? { byDefault } : {}),
      at: now,
      outcome: 'kept',
    });
    return true;
  }

  private async recordDecision(
    reviewId: string,
    guestId: string,
    decision: NonNullable<ReviewEntry['decision']>,
  ): Promise<void> {
    await this.changeReview(reviewId, (view) => {
      const entry = view.entries.find((e) => e.guestId === guestId);
      if (entry && !entry.decision) entry.decision = decision;
    });
  }

  /** No decision in time: GUEST_REVIEW_DEFAULT for each guest still open; the owners and admins are told. */
  private async applyDefault(reviewId: string, records: GuestRecord[]): Promise<number> {
    const decision = this.options.defaultDecision ?? 'remove';
    const by = DEFAULT_AFTER_GRACE;
    let applied = 0;
    for (const record of records) {
      if (decision === 'remove') {
        const outcome = await this.options.lifecycle.remove(
          { kind: 'default', tenantId: record.tenantId, reviewId },
          record.groupId,
          record.guestId,
          `review-default:${reviewId}:${record.guestId}`,
        );
        if (outcome.kind !== 'done') {
          this.options.logger.warn('review.default.notApplied', {
            reviewId,
            guestId: record.guestId,
            outcome: outcome.kind,
          });
          continue;
        }
        await this.recordDecision(reviewId, record.guestId, {
          decision,
          by,
          byDefault: true,
          at: this.clock().toISOString(),
          outcome: 'removed',
        });
      } else if (!(await this.keep(record, reviewId, by, true))) continue;
      await this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: record.tenantId,
        actorId: 'system',
        actorName: by,
        action: 'review.default',
        outcome: decision,
        groupId: record.groupId,
        groupName: record.groupName,
        guestId: record.guestId,
        guestEmail: record.guestEmail,
        operationId: reviewId,
        detail: by,
      });
      applied++;
    }
    if (applied === 0) return 0;
    const review = await this.getReview(reviewId);
    if (review) {
      await this.options.messenger.updateReviewCards(review.view);
      const text = msg('guests:review.defaultApplied', { group: review.view.groupName, decision, count: applied });
      const told = new Set<string>();
      for (const userId of [...review.view.cards.map((c) => c.ownerId), ...(this.options.adminUserIds ?? [])]) {
        if (told.has(userId)) continue;
        told.add(userId);
        await this.options.messenger.notifyUser(review.view.tenantId, userId, text).catch(() => false);
      }
    }
    return applied;
  }
}
