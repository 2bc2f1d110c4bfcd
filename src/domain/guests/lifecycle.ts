/**
 * Use case: owners look after the guests of the groups they own: list them (`my guests`, here), resend a pending
 * invitation (resend.ts), remove a guest from a group (removal.ts, an operation record: exactly once, resumable).
 * Every action is checked again on the server at the moment of acting (actionContext.ts) and everything is audited.
 */
import { isPermissionDenied, type Directory, type GuestMember } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { GuestKey, GuestRecord, GuestRecordPatch, OperationRecord, Store } from '../../store/store';
import type { Catalog } from '../shared/catalog';
import type { Actor } from '../shared/model';
import { useCaseTools, type OperationOptions, type OperationRunner } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { retryTransient, transientPolicy, type RetryPolicy } from '../shared/retry';
import { GuestActionContext, type GuestActionOutcome } from './actionContext';
import { GuestRemoval, REMOVE_OPERATION_KIND, removalOf } from './removal';
import { GuestResend } from './resend';

export const GUEST_PAGE_SIZE = 50;

export interface GuestView {
  appId: string;
  appName: string;
  groupId: string;
  groupName: string;
  guestId: string;
  displayName: string;
  email: string;
  state: string | null;
  stateSince: string | null;
  invitedByName: string | null;
  invitedAt: string | null;
  sponsors: string[];
  /** Added or invited at, for the order (newest first). */
  addedAt: string;
}

export interface GuestFilter {
  pendingOnly: boolean;
  appId: string | null;
  page: number;
}

export interface GuestPage {
  items: GuestView[];
  page: number;
  pages: number;
  total: number;
  apps: Array<{ id: string; displayName: string }>;
}

export interface GuestLifecycleOptions extends OperationOptions {
  directory: Directory;
  store: Store;
  logger: Logger;
  catalog: Catalog;
  defaultRedirectUrl: string;
  /** RESEND_COOLDOWN: at most one resend per guest in this time, counted from the last resend. */
  resendCooldownMs: number;
  transientRetries?: number;
}

export class GuestLifecycleService {
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runner: OperationRunner;
  private readonly context: GuestActionContext;
  private readonly resender: GuestResend;
  private readonly removal: GuestRemoval;

  constructor(private readonly options: GuestLifecycleOptions) {
    ({ clock: this.clock, sleep: this.sleep, runner: this.runner } = useCaseTools(options));
    this.context = new GuestActionContext(options, this.clock, () => this.policy());
    this.resender = new GuestResend(this.context, options);
    this.removal = new GuestRemoval(this.context, this.runner);
  }

  private policy(): RetryPolicy {
    return transientPolicy(this.options, this.sleep);
  }

  /** The groups the actor owns, from the catalog (what to list; actions read the owners again). */
  async ownedGroups(
    actor: Actor,
  ): Promise<Array<{ appId: string; appName: string; groupId: string; groupName: string }>> {
    const out = new Map<string, { appId: string; appName: string; groupId: string; groupName: string }>();
    for (const app of await this.options.catalog.apps()) {
      for (const { group, ownerIds } of app.groups) {
        if (ownerIds.includes(actor.userId) && !out.has(group.id))
          out.set(group.id, {
            appId: app.id,
            appName: app.displayName,
            groupId: group.id,
            groupName: group.displayName,
          });
      }
    }
    return [...out.values()];
  }

  /** `my guests`: guests of the groups the actor owns, newest first, a page of up to 50. */
  async listMyGuests(actor: Actor, filter: GuestFilter): Promise<GuestPage> {
    const owned = await this.ownedGroups(actor);
    const apps = [...new Map(owned.map((g) => [g.appId, { id: g.appId, displayName: g.appName }])).values()].sort(
      (a, b) => a.displayName.localeCompare(b.displayName),
    );
    const groups = owned.filter((g) => !filter.appId || g.appId === filter.appId);
    const members = await Promise.all(
      groups.map(async (g) => ({
        g,
        guests: await retryTransient(() => this.options.directory.listGuestMembers(g.groupId), this.policy()),
      })),
    );
    const records = new Map<string, GuestRecord>();
    for (const r of await this.options.store.guests.listForGroups(
      actor.tenantId,
      groups.map((g) => g.groupId),
      10_000,
    ))
      records.set(`${r.groupId}/${r.guestId}`, r);
    let views: Array<{ view: GuestView; record: GuestRecord | undefined }> = [];
    for (const { g, guests } of members) {
      for (const m of guests) {
        const record = records.get(`${g.groupId}/${m.id}`);
        views.push({ view: toView(g, m, record), record });
      }
    }
    if (filter.pendingOnly) views = views.filter((v) => v.view.state === 'PendingAcceptance');
    views.sort(
      (a, b) => b.view.addedAt.localeCompare(a.view.addedAt) || a.view.displayName.localeCompare(b.view.displayName),
    );
    const pages = Math.max(1, Math.ceil(views.length / GUEST_PAGE_SIZE));
    const page = Math.min(Math.max(0, filter.page), pages - 1);
    const slice = views.slice(page * GUEST_PAGE_SIZE, (page + 1) * GUEST_PAGE_SIZE);
    await Promise.all(slice.map((v) => this.fillSponsors(v.view, v.record)));
    return { items: slice.map((v) => v.view), page, pages, total: views.length, apps };
  }

  /** Sponsors from Entra (`GET /users/{id}/sponsors`), plus the one the bot recorded when Entra does not hold it. */
  private async fillSponsors(view: GuestView, record: GuestRecord | undefined): Promise<void> {
    const names = new Set<string>();
    try {
      for (const s of await this.options.directory.listSponsors(view.guestId)) names.add(s.displayName || s.id);
    } catch (err) {
      if (!isPermissionDenied(err))
        this.options.logger.warn('guest.sponsors.unreadable', { guestId: view.guestId, error: err });
    }
    if (record && !record.sponsorInEntra && record.invitedByName) names.add(record.invitedByName);
    view.sponsors = [...names];
    if (record && view.state && record.redemption !== view.state) {
      await this.patchRecord(record, { redemption: view.state, redemptionSince: view.stateSince });
    }
  }

  /** Compare-and-set on a record, read again on a conflict; gives up quietly (null) after the helper's limit. */
  patchRecord(key: GuestKey, patch: GuestRecordPatch, when?: (r: GuestRecord) => boolean): Promise<GuestRecord | null> {
    return this.context.patchRecord(key, patch, when);
  }

  /** A guest's address (or name) for a confirmation, read from the directory. */
  async describeGuest(guestId: string): Promise<string> {
    const user = await retryTransient(() => this.options.directory.getUser(guestId), this.policy());
    return user?.mail ?? user?.displayName ?? guestId;
  }

  /** The group's owners now (plain read, not the catalog). */
  ownersNow(groupId: string): Promise<Array<{ id: string; displayName: string }>> {
    return this.context.ownersNow(groupId);
  }

  /** Resend invitation: pending guests only, at most once per RESEND_COOLDOWN per guest (resend.ts). */
  resend(...args: Parameters<GuestResend['resend']>): Promise<GuestActionOutcome> {
    return this.resender.resend(...args);
  }

  /**
   * Removes a guest from a group as an operation record (`removeGuest`): exactly once, resumable. An owner's
   * removal is authorized at the moment of acting; the review default acts for the system.
   */
  remove(...args: Parameters<GuestRemoval['remove']>): Promise<GuestActionOutcome> {
    return this.removal.remove(...args);
  }

  /** Carries on with a removal a crash or restart left unfinished (its recorded steps are not repeated). */
  async resume(record: OperationRecord): Promise<boolean> {
    await this.remove(removalOf(record), String(record.input.groupId), String(record.input.guestId), record.id);
    return true;
  }

  /** Resumes this service's unfinished removals alone (the bot resumes every kind through one registry). */
  resumeUnfinished(): Promise<number> {
    return new OperationResumers(this.options.store.operations, this.clock)
      .register(REMOVE_OPERATION_KIND, (record) => this.resume(record))
      .resumeAll();
  }
}

function toView(
  g: { appId: string; appName: string; groupId: string; groupName: string },
  m: GuestMember,
  record: GuestRecord | undefined,
): GuestView {
  return {
    ...g,
    guestId: m.id,
    displayName: m.displayName || m.mail || m.id,
    email: m.mail ?? record?.guestEmail ?? '',
    state: m.externalUserState,
    stateSince: m.externalUserStateChangeDateTime,
    invitedByName: record?.invitedByName ?? null,
    invitedAt: record?.invitedAt ?? null,
    sponsors: [],
    addedAt: record?.invitedAt ?? m.externalUserStateChangeDateTime ?? '',
  };
}
