/** The store port for the bot's guest records (part of `store.ts`, kept apart for its size). */

/** How a guest came into a group through the bot. */
export type GuestAddedHow = 'invite' | 'request';
/** 'none': no review running; 'open': a review card went out and waits for an owner's decision. */
export type GuestReviewState = 'none' | 'open';

export interface GuestKey {
  tenantId: string;
  groupId: string;
  guestId: string;
}

/**
 * What the bot knows of one guest in one group it added them to: who vouched for them, when, and where the
 * periodic review stands. The directory stays the truth for membership; this is the bot's own account.
 */
export interface GuestRecord extends GuestKey {
  guestEmail: string;
  guestName: string;
  appId: string;
  appName: string;
  groupName: string;
  invitedBy: string;
  invitedByName: string;
  invitedAt: string;
  how: GuestAddedHow;
  operationId: string;
  /** Sponsors as the bot recorded them (user ids); `sponsorInEntra` says whether Entra holds them too. */
  sponsorIds: string[];
  sponsorInEntra: boolean;
  /** Last known externalUserState (PendingAcceptance, Accepted) and since when. */
  redemption: string | null;
  redemptionSince: string | null;
  /** Added or last kept: the next review is due GUEST_REVIEW_INTERVAL after it. */
  lastKeptAt: string;
  keptBy: string | null;
  lastResentAt: string | null;
  reviewState: GuestReviewState;
  reviewId: string | null;
  reviewOpenedAt: string | null;
  remindedAt: string | null;
  removedAt: string | null;
  removedBy: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type NewGuestRecord = Pick<
  GuestRecord,
  | 'tenantId'
  | 'groupId'
  | 'guestId'
  | 'guestEmail'
  | 'guestName'
  | 'appId'
  | 'appName'
  | 'groupName'
  | 'invitedBy'
  | 'invitedByName'
  | 'how'
  | 'operationId'
  | 'sponsorIds'
  | 'sponsorInEntra'
  | 'redemption'
>;

export type GuestRecordPatch = Partial<
  Pick<
    GuestRecord,
    | 'sponsorIds'
    | 'sponsorInEntra'
    | 'redemption'
    | 'redemptionSince'
    | 'lastKeptAt'
    | 'keptBy'
    | 'lastResentAt'
    | 'reviewState'
    | 'reviewId'
    | 'reviewOpenedAt'
    | 'remindedAt'
    | 'removedAt'
    | 'removedBy'
  >
>;

export interface GuestRecordStore {
  /**
   * Records a guest the bot added to a group: creates the record, or for a guest added again (another
   * operation) takes the new facts and starts the review period again. The same operation twice changes nothing.
   */
  recordAdded(record: NewGuestRecord, now: Date): Promise<GuestRecord>;
  get(key: GuestKey): Promise<GuestRecord | undefined>;
  /** Compare-and-set on `version`; ConflictError on a mismatch or a missing record. */
  update(key: GuestKey, expectedVersion: number, patch: GuestRecordPatch, now: Date): Promise<GuestRecord>;
  /** Guests still in these groups (not removed by the bot), newest first. */
  listForGroups(tenantId: string, groupIds: readonly string[], limit: number): Promise<GuestRecord[]>;
  /** Groups (any tenant) holding guests with no review running whose last keep is at or before `keptBefore`. */
  listDueGroups(keptBefore: Date, limit: number): Promise<Array<{ tenantId: string; groupId: string }>>;
  /** Open reviews opened at or before `openedBefore`, any tenant, oldest first (reminders, default after grace). */
  listOpenReviews(openedBefore: Date, limit: number): Promise<GuestRecord[]>;
  /**
   * Opens a review of one group's due guests (last kept at or before `keptBefore`), in one statement: only records
   * still in the group with no review running are opened, so two sweeps never open the same guest twice.
   * Returns the records it opened.
   */
  openReview(tenantId: string, groupId: string, keptBefore: Date, reviewId: string, now: Date): Promise<GuestRecord[]>;
  /** Marks the open records of a review as reminded, once: returns the records this call marked (none the second time). */
  markReminded(reviewId: string, now: Date): Promise<GuestRecord[]>;
  /** Every record of a tenant, removed ones included, newest first (reports). */
  listForTenant(tenantId: string, limit: number): Promise<GuestRecord[]>;
}
