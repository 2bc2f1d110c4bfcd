/**
 * Use case: owners look after the guests of the groups they own: list them (`my guests`), resend a pending
 * invitation, remove a guest from a group. Every action is checked again on the server at the moment of acting:
 * the actor owns the group (plain `GET /groups/{id}/owners`), the guest is still a member (checkMemberGroups).
 * A removal is an operation record (exactly once, resumable) and everything is audited.
 */
import { randomUUID } from 'node:crypto';
import { DirectoryError, isPermissionDenied, type Directory, type GuestMember } from '../../graph/directory';
import type { Logger } from '../../logging';
import {
  ConflictError,
  type AuditEntry,
  type GuestKey,
  type GuestRecord,
  type GuestRecordPatch,
  type OperationRecord,
  type Store,
} from '../../store/store';
import type { Catalog } from '../shared/catalog';
import { msg, type Msg } from '../shared/message';
import type { Actor } from '../shared/model';
import { OperationRunner } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { defaultSleep, retryTransient, retryWrite, transientPolicy, type RetryPolicy } from '../shared/retry';
import { retryOnConflict } from '../shared/retryOnConflict';

export const GUEST_PAGE_SIZE = 50;
export const REMOVE_OPERATION_KIND = 'removeGuest';

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

export type GuestActionOutcome = { kind: 'done' | 'refused' | 'failed' | 'inProgress'; message: Msg };

/** The name the audit log gives the review's default after the grace period (users read `guests:review.byDefault`). */
export const DEFAULT_AFTER_GRACE = 'default after grace';

/** Who removes: an owner from `my guests` or a review, or the review's default after the grace period. */
export type RemovalBy =
  { kind: 'owner'; actor: Actor; reviewId?: string } | { kind: 'default'; tenantId: string; reviewId: string };

export interface GuestLifecycleOptions {
  directory: Directory;
  store: Store;
  logger: Logger;
  catalog: Catalog;
  defaultRedirectUrl: string;
  /** RESEND_COOLDOWN: at most one resend per guest in this time, counted from the last resend. */
  resendCooldownMs: number;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  instanceId?: string;
  leaseMs?: number;
  transientRetries?: number;
}

type Audit = Omit<AuditEntry, 'time' | 'tenantId'>;

export class GuestLifecycleService {
  private readonly clock: () => Date;
  private readonly runner: OperationRunner;

  constructor(private readonly options: GuestLifecycleOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.runner = new OperationRunner(
      options.store.operations,
      this.clock,
      options.instanceId ?? randomUUID(),
      options.leaseMs,
    );
  }

  private policy(): RetryPolicy {
    return transientPolicy(this.options, this.options.sleep ?? defaultSleep);
  }

  private audit(tenantId: string, entry: Audit): Promise<number> {
    return this.options.store.audit.append({ time: this.clock().toISOString(), tenantId, ...entry });
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
  async patchRecord(
    key: GuestKey,
    patch: GuestRecordPatch,
    when?: (r: GuestRecord) => boolean,
  ): Promise<GuestRecord | null> {
    return retryOnConflict(
      async () => {
        const current = await this.options.store.guests.get(key);
        if (!current || (when && !when(current))) return null;
        return this.options.store.guests.update(current, current.version, patch, this.clock());
      },
      { onGiveUp: () => null },
    );
  }

  /** A guest's address (or name) for a confirmation, read from the directory. */
  async describeGuest(guestId: string): Promise<string> {
    const user = await retryTransient(() => this.options.directory.getUser(guestId), this.policy());
    return user?.mail ?? user?.displayName ?? guestId;
  }

  /** The group's owners now (plain read, not the catalog). */
  ownersNow(groupId: string): Promise<Array<{ id: string; displayName: string }>> {
    return retryTransient(() => this.options.directory.listGroupOwners(groupId), this.policy());
  }

  /**
   * Is the actor an owner of the group now (plain owners read) and the guest still a member of it
   * (checkMemberGroups)? A refusal is audited as a forged or stale card action.
   */
  private async authorize(
    actor: Actor,
    groupId: string,
    guestId: string,
    action: string,
    activityId?: string,
  ): Promise<{ ok: true } | { ok: false; message: Msg }> {
    const owners = await this.ownersNow(groupId);
    const base = { actorId: actor.userId, actorName: actor.displayName, groupId, guestId, activityId };
    const record = await this.options.store.guests.get({ tenantId: actor.tenantId, groupId, guestId });
    const groupName = record?.groupName ?? msg('guests:someGroup');
    if (!owners.some((o) => o.id === actor.userId)) {
      await this.audit(actor.tenantId, {
        ...base,
        action: `${action}.forged`,
        outcome: 'notOwner',
        detail: 'card action by someone who does not own the group (forged or stale card)',
      });
      this.options.logger.warn(`${action}.forged`, { actorId: actor.userId, groupId });
      return { ok: false, message: msg('guests:refused.notOwner', { group: groupName }) };
    }
    const member = (
      await retryTransient(() => this.options.directory.checkMemberGroups(guestId, [groupId]), this.policy())
    ).has(groupId);
    if (!member) {
      await this.audit(actor.tenantId, { ...base, action: `${action}.refused`, outcome: 'notMember' });
      return {
        ok: false,
        message: msg('guests:refused.notMember', {
          guest: record?.guestEmail ?? msg('guests:someGuest'),
          group: groupName,
        }),
      };
    }
    return { ok: true };
  }

  /** Resend invitation: pending guests only, at most once per RESEND_COOLDOWN per guest (from the last resend). */
  /** `language`: the owner's (BCP 47), for Microsoft's invitation email (invitedUserMessageInfo.messageLanguage). */
  async resend(
    actor: Actor,
    groupId: string,
    guestId: string,
    activityId?: string,
    language?: string | null,
  ): Promise<GuestActionOutcome> {
    const allowed = await this.authorize(actor, groupId, guestId, 'guest.resend', activityId);
    if (!allowed.ok) return { kind: 'refused', message: allowed.message };
    const user = await retryTransient(() => this.options.directory.getUser(guestId), this.policy());
    const record = await this.options.store.guests.get({ tenantId: actor.tenantId, groupId, guestId });
    const address = user?.mail ?? record?.guestEmail ?? null;
    const base = {
      actorId: actor.userId,
      actorName: actor.displayName,
      groupId,
      groupName: record?.groupName,
      appId: record?.appId,
      appName: record?.appName,
      guestId,
      guestEmail: address ?? undefined,
      activityId,
    };
    if (!user || user.userType !== 'Guest' || !address)
      return { kind: 'refused', message: msg('guests:refused.notGuest', { guest: address ?? guestId }) };
    if (user.externalUserState !== 'PendingAcceptance') {
      await this.audit(actor.tenantId, { ...base, action: 'guest.resend.refused', outcome: 'notPending' });
      return { kind: 'refused', message: msg('guests:resend.notPending', { guest: address }) };
    }
    const claim = await this.claimResend(actor.tenantId, guestId);
    if (!claim.ok) {
      await this.audit(actor.tenantId, {
        ...base,
        action: 'guest.resend.refused',
        outcome: 'cooldown',
        detail: `next allowed after ${claim.next}`,
      });
      return {
        kind: 'refused',
        message: msg('guests:resend.cooldown', {
          guest: address,
          cooldownHours: hoursUntil(this.cooldownMs(), 0),
          hours: hoursUntil(Date.parse(claim.next), this.clock().getTime()),
        }),
      };
    }
    try {
      // invitation-post.md: a new invitation for the same address sends the invitation email again (sendInvitationMessage: true).
      const sent = await this.options.directory.inviteGuest({
        email: address,
        redirectUrl: this.options.defaultRedirectUrl,
        message: null,
        language: language ?? null,
      });
      if (record) await this.patchRecord(record, { lastResentAt: this.clock().toISOString() });
      await this.audit(actor.tenantId, {
        ...base,
        action: 'guest.resent',
        outcome: 'resent',
        graphRequestId: sent.requestId ?? undefined,
      });
      return { kind: 'done', message: msg('guests:resend.done', { guest: address }) };
    } catch (err) {
      const error = err instanceof DirectoryError ? err : null;
      // A definite refusal sent nothing: the cooldown is given back. After a timeout the email may have gone: it is kept.
      if (error && (error.kind === 'forbidden' || error.kind === 'badRequest' || error.kind === 'throttled'))
        await this.options.store.state.delete([claim.key]);
      await this.audit(actor.tenantId, {
        ...base,
        action: 'guest.resend.failed',
        outcome: error?.code ?? 'Unexpected',
        graphRequestId: error?.requestId ?? undefined,
      });
      return { kind: 'failed', message: msg('guests:resend.failed', { guest: address, code: error?.code ?? 'error' }) };
    }
  }

  private cooldownMs(): number {
    return this.options.resendCooldownMs;
  }

  /** Takes this guest's resend slot (compare-and-set in the store, so two instances cannot both resend). */
  private async claimResend(
    tenantId: string,
    guestId: string,
  ): Promise<{ ok: true; key: string } | { ok: false; next: string }> {
    const key = `guestResend/${tenantId}/${guestId}`;
    const cooldown = this.cooldownMs();
    const now = this.clock();
    const existing = (await this.options.store.state.read([key])).get(key);
    const last = typeof existing?.value.at === 'string' ? Date.parse(existing.value.at) : NaN;
    if (existing && Number.isFinite(last) && now.getTime() - last < cooldown)
      return { ok: false, next: new Date(last + cooldown).toISOString() };
    try {
      await this.options.store.state.write(key, { at: now.toISOString() }, existing ? existing.version : null);
      return { ok: true, key };
    } catch (err) {
      if (err instanceof ConflictError) return { ok: false, next: new Date(now.getTime() + cooldown).toISOString() };
      throw err;
    }
  }

  /**
   * Removes a guest from a group as an operation record (`removeGuest`): exactly once, resumable. An owner's
   * removal is authorized at the moment of acting; the review default acts for the system.
   */
  async remove(
    by: RemovalBy,
    groupId: string,
    guestId: string,
    operationId: string,
    activityId?: string,
  ): Promise<GuestActionOutcome> {
    const tenantId = by.kind === 'owner' ? by.actor.tenantId : by.tenantId;
    const actorId = by.kind === 'owner' ? by.actor.userId : 'system';
    const actorName = by.kind === 'owner' ? by.actor.displayName : DEFAULT_AFTER_GRACE;
    const run = await this.runner.run<GuestActionOutcome>(
      {
        id: operationId,
        kind: REMOVE_OPERATION_KIND,
        tenantId,
        actorId,
        input: { groupId, guestId, actorName, reviewId: by.reviewId ?? null, byDefault: by.kind === 'default' },
      },
      async (steps) => {
        if (steps.record.steps.remove)
          return {
            outcome: await this.afterRemoval(tenantId, groupId, guestId, actorId, actorName, by, operationId),
            failed: false,
          };
        if (by.kind === 'owner') {
          const allowed = await this.authorize(by.actor, groupId, guestId, 'guest.remove', activityId);
          if (!allowed.ok) return { outcome: { kind: 'refused', message: allowed.message }, failed: false };
        }
        const record = await this.options.store.guests.get({ tenantId, groupId, guestId });
        const who = record?.guestEmail ?? guestId;
        const groupName = record?.groupName ?? groupId;
        // Guests only: a forged card naming an internal member (userType Member) removes nobody.
        const user = await retryTransient(() => this.options.directory.getUser(guestId), this.policy());
        if (user?.userType !== 'Guest') {
          await this.audit(tenantId, {
            actorId,
            actorName,
            groupId,
            guestId,
            operationId,
            activityId,
            action: 'guest.remove.refused',
            outcome: 'notGuest',
          });
          return {
            outcome: {
              kind: 'refused',
              message: msg('guests:refused.notGuest', { guest: record?.guestEmail ?? msg('guests:someGuest') }),
            },
            failed: false,
          };
        }
        try {
          const result = await retryWrite(
            () => this.options.directory.removeGroupMember(groupId, guestId),
            // After a 5xx or a timeout the removal may have happened: read membership before writing again.
            async () =>
              (await this.options.directory.checkMemberGroups(guestId, [groupId])).has(groupId)
                ? null
                : { removed: true, requestId: null },
            this.policy(),
          );
          await steps.done('remove', { removed: result.removed }, result.requestId);
          return {
            outcome: await this.afterRemoval(
              tenantId,
              groupId,
              guestId,
              actorId,
              actorName,
              by,
              operationId,
              result.requestId,
            ),
            failed: false,
          };
        } catch (err) {
          const error =
            err instanceof DirectoryError ? err : new DirectoryError('unknown', 0, 'Unexpected', String(err));
          const base = {
            actorId,
            actorName,
            groupId,
            groupName,
            guestId,
            guestEmail: record?.guestEmail,
            appId: record?.appId,
            appName: record?.appName,
            operationId,
            graphRequestId: error.requestId ?? undefined,
          };
          if (error.kind === 'forbidden' || error.kind === 'badRequest') {
            await this.audit(tenantId, {
              ...base,
              action: 'guest.remove.refused',
              outcome: error.code,
              detail: `${error.code}: ${error.message}`.slice(0, 500),
            });
            return {
              outcome: {
                kind: 'refused',
                message: msg('guests:remove.refused', { guest: who, group: groupName, code: error.code }),
              },
              failed: false,
            };
          }
          await this.audit(tenantId, { ...base, action: 'guest.remove.failed', outcome: error.code });
          return {
            outcome: {
              kind: 'failed',
              message: msg('guests:remove.failed', { guest: who, group: groupName, reference: operationId }),
            },
            failed: true,
          };
        }
      },
    );
    return run.kind === 'finished' ? run.outcome : { kind: 'inProgress', message: msg('guests:remove.inProgress') };
  }

  private async afterRemoval(
    tenantId: string,
    groupId: string,
    guestId: string,
    actorId: string,
    actorName: string,
    by: RemovalBy,
    operationId: string,
    graphRequestId?: string | null,
  ): Promise<GuestActionOutcome> {
    const now = this.clock().toISOString();
    const record = await this.patchRecord(
      { tenantId, groupId, guestId },
      { removedAt: now, removedBy: actorName, reviewState: 'none' },
    );
    const current = record ?? (await this.options.store.guests.get({ tenantId, groupId, guestId }));
    await this.audit(tenantId, {
      actorId,
      actorName,
      action: 'guest.removed',
      outcome: by.kind === 'default' ? 'defaultAfterGrace' : by.reviewId ? 'review' : 'owner',
      groupId,
      groupName: current?.groupName,
      appId: current?.appId,
      appName: current?.appName,
      guestId,
      guestEmail: current?.guestEmail,
      operationId,
      graphRequestId: graphRequestId ?? undefined,
      detail: by.kind === 'default' ? DEFAULT_AFTER_GRACE : `decided by ${actorName}`,
    });
    return {
      kind: 'done',
      message: msg('guests:remove.done', {
        guest: current?.guestEmail ?? guestId,
        group: current?.groupName ?? groupId,
        app: current?.appName ?? msg('guests:someApp'),
      }),
    };
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

/** Whole hours from `from` to `to` (ms), rounded up, at least 1. */
function hoursUntil(to: number, from: number): number {
  return Math.max(1, Math.ceil((to - from) / 3_600_000));
}

function removalOf(record: OperationRecord): RemovalBy {
  const reviewId = typeof record.input.reviewId === 'string' ? record.input.reviewId : undefined;
  if (record.input.byDefault === true && reviewId) return { kind: 'default', tenantId: record.tenantId, reviewId };
  return {
    kind: 'owner',
    actor: { tenantId: record.tenantId, userId: record.actorId, displayName: String(record.input.actorName ?? '') },
    reviewId,
  };
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
