/**
 * Use case: "still needed?" Every guest the bot added is reviewed by the group's owners every GUEST_REVIEW_INTERVAL
 * (from when it was added or last kept). The periodic sweep (REQUEST_SWEEP_INTERVAL, once across instances) finds
 * due reviews in the bot's own records, by index, without reading guests from Graph; one review per group, one card
 * per owner. The first decision on a guest wins (reviewDecisions.ts) and every owner's card shows it.
 * Without a decision after GUEST_REVIEW_GRACE (a reminder halfway) GUEST_REVIEW_DEFAULT is applied.
 */
import { randomUUID } from 'node:crypto';
import type { GroupOwner } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { GuestRecord, JsonObject, Store } from '../../store/store';
import type { Catalog } from '../shared/catalog';
import type { GuestLifecycleService } from './lifecycle';
import { msg, type Msg } from '../shared/message';
import { DEFAULT_AFTER_GRACE } from './removal';
import { ReviewDecisions, type DecideResult } from './reviewDecisions';
import { ReviewStates } from './reviewState';

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

export class GuestReviewService {
  private readonly clock: () => Date;
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly states: ReviewStates;
  private readonly decisions: ReviewDecisions;

  constructor(private readonly options: GuestReviewOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.intervalMs = options.intervalMs;
    this.graceMs = options.graceMs;
    this.states = new ReviewStates(options.store.state);
    this.decisions = new ReviewDecisions({
      store: options.store,
      lifecycle: options.lifecycle,
      messenger: options.messenger,
      states: this.states,
      clock: this.clock,
    });
  }

  getReview(reviewId: string): Promise<{ view: ReviewView; version: string } | undefined> {
    return this.states.get(reviewId);
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
    await this.states.create(view);
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
    const review = await this.states.get(reviewId);
    if (!review) return 0;
    const sent: Array<{ ownerId: string; location: JsonObject }> = [];
    for (const owner of await this.ownersOf(review.view.groupId)) {
      const delivery = await this.options.messenger.sendReviewCard(review.view, owner, reason);
      if (delivery.ok) sent.push({ ownerId: owner.id, location: delivery.location });
      else this.options.logger.warn('review.card.undelivered', { reviewId, ownerId: owner.id, error: delivery.error });
    }
    await this.states.change(reviewId, (view) => view.cards.push(...sent));
    return sent.length;
  }

  /**
   * An owner's decision on one guest (or on every undecided guest: `guestId` null). Ownership is read again now; the
   * first decision on a guest wins; every owner's card is updated. Returns the review as it stands, or a refusal.
   */
  decide(...args: Parameters<ReviewDecisions['decide']>): Promise<DecideResult> {
    return this.decisions.decide(...args);
  }

  /** No decision in time: GUEST_REVIEW_DEFAULT for each guest still open; the owners and admins are told. */
  private async applyDefault(reviewId: string, records: GuestRecord[]): Promise<number> {
    const decision = this.options.defaultDecision ?? 'remove';
    let applied = 0;
    for (const record of records) if (await this.applyDefaultTo(reviewId, record, decision)) applied++;
    if (applied === 0) return 0;
    const review = await this.states.get(reviewId);
    if (review) await this.tellDefaultApplied(review.view, decision, applied);
    return applied;
  }

  /** Applies the default to one guest; false when it was not (the removal did not finish, or already decided). */
  private async applyDefaultTo(reviewId: string, record: GuestRecord, decision: ReviewDecision): Promise<boolean> {
    const by = DEFAULT_AFTER_GRACE;
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
        return false;
      }
      await this.states.recordDecision(reviewId, record.guestId, {
        decision,
        by,
        byDefault: true,
        at: this.clock().toISOString(),
        outcome: 'removed',
      });
    } else if (!(await this.decisions.keep(record, reviewId, by, true))) return false;
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
    return true;
  }

  /** Every owner's card shows the default; each owner who had a card and each admin is told once. */
  private async tellDefaultApplied(view: ReviewView, decision: ReviewDecision, applied: number): Promise<void> {
    await this.options.messenger.updateReviewCards(view);
    const text = msg('guests:review.defaultApplied', { group: view.groupName, decision, count: applied });
    const told = new Set<string>();
    for (const userId of [...view.cards.map((c) => c.ownerId), ...(this.options.adminUserIds ?? [])]) {
      if (told.has(userId)) continue;
      told.add(userId);
      await this.options.messenger.notifyUser(view.tenantId, userId, text).catch(() => false);
    }
  }
}
