/**
 * Resending a pending guest's invitation: pending guests only, at most once per RESEND_COOLDOWN per guest (counted
 * from the last resend, claimed by compare-and-set so two instances cannot both resend), audited either way.
 */
import { DirectoryError } from '../../graph/directory';
import { ConflictError, type GuestRecord } from '../../store/store';
import { msg } from '../shared/message';
import type { Actor } from '../shared/model';
import { retryTransient } from '../shared/retry';
import type { GuestActionContext, GuestActionOutcome, GuestAudit } from './actionContext';

export interface ResendSettings {
  defaultRedirectUrl: string;
  /** RESEND_COOLDOWN: at most one resend per guest in this time, counted from the last resend. */
  resendCooldownMs: number;
}

/** What every audit entry of one resend says (all but the action and its outcome). */
type ResendAudit = Omit<GuestAudit, 'action' | 'outcome'>;

export class GuestResend {
  constructor(
    private readonly context: GuestActionContext,
    private readonly settings: ResendSettings,
  ) {}

  /** `language`: the owner's (BCP 47), for Microsoft's invitation email (invitedUserMessageInfo.messageLanguage). */
  async resend(
    actor: Actor,
    groupId: string,
    guestId: string,
    activityId?: string,
    language?: string | null,
  ): Promise<GuestActionOutcome> {
    const allowed = await this.context.authorize(actor, groupId, guestId, 'guest.resend', activityId);
    if (!allowed.ok) return { kind: 'refused', message: allowed.message };
    const { directory, store } = this.context.deps;
    const user = await retryTransient(() => directory.getUser(guestId), this.context.policy());
    const record = await store.guests.get({ tenantId: actor.tenantId, groupId, guestId });
    const address = user?.mail ?? record?.guestEmail ?? null;
    const base: ResendAudit = {
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
      await this.context.audit(actor.tenantId, { ...base, action: 'guest.resend.refused', outcome: 'notPending' });
      return { kind: 'refused', message: msg('guests:resend.notPending', { guest: address }) };
    }
    const claim = await this.claimResend(actor.tenantId, guestId);
    if (!claim.ok) return this.refuseInCooldown(actor.tenantId, base, address, claim.next);
    return this.invitationAgain(actor.tenantId, base, address, record, claim.key, language ?? null);
  }

  private async refuseInCooldown(
    tenantId: string,
    base: ResendAudit,
    address: string,
    next: string,
  ): Promise<GuestActionOutcome> {
    await this.context.audit(tenantId, {
      ...base,
      action: 'guest.resend.refused',
      outcome: 'cooldown',
      detail: `next allowed after ${next}`,
    });
    return {
      kind: 'refused',
      message: msg('guests:resend.cooldown', {
        guest: address,
        cooldownHours: hoursUntil(this.settings.resendCooldownMs, 0),
        hours: hoursUntil(Date.parse(next), this.context.clock().getTime()),
      }),
    };
  }

  /** Sends the invitation again; a definite refusal gives the claimed cooldown back. */
  private async invitationAgain(
    tenantId: string,
    base: ResendAudit,
    address: string,
    record: GuestRecord | undefined,
    claimKey: string,
    language: string | null,
  ): Promise<GuestActionOutcome> {
    try {
      // invitation-post.md: a new invitation for the same address sends the invitation email again
      // (sendInvitationMessage: true).
      const sent = await this.context.deps.directory.inviteGuest({
        email: address,
        redirectUrl: this.settings.defaultRedirectUrl,
        message: null,
        language,
      });
      if (record) await this.context.patchRecord(record, { lastResentAt: this.context.clock().toISOString() });
      await this.context.audit(tenantId, {
        ...base,
        action: 'guest.resent',
        outcome: 'resent',
        graphRequestId: sent.requestId ?? undefined,
      });
      return { kind: 'done', message: msg('guests:resend.done', { guest: address }) };
    } catch (err) {
      const error = err instanceof DirectoryError ? err : null;
      // A definite refusal sent nothing: the cooldown is given back. After a timeout the email may have gone: it is
      // kept.
      if (error && (error.kind === 'forbidden' || error.kind === 'badRequest' || error.kind === 'throttled'))
        await this.context.deps.store.state.delete([claimKey]);
      await this.context.audit(tenantId, {
        ...base,
        action: 'guest.resend.failed',
        outcome: error?.code ?? 'Unexpected',
        graphRequestId: error?.requestId ?? undefined,
      });
      return { kind: 'failed', message: msg('guests:resend.failed', { guest: address, code: error?.code ?? 'error' }) };
    }
  }

  /** Takes this guest's resend slot (compare-and-set in the store, so two instances cannot both resend). */
  private async claimResend(
    tenantId: string,
    guestId: string,
  ): Promise<{ ok: true; key: string } | { ok: false; next: string }> {
    const key = `guestResend/${tenantId}/${guestId}`;
    const cooldown = this.settings.resendCooldownMs;
    const now = this.context.clock();
    const { state } = this.context.deps.store;
    const existing = (await state.read([key])).get(key);
    const last = typeof existing?.value.at === 'string' ? Date.parse(existing.value.at) : NaN;
    if (existing && Number.isFinite(last) && now.getTime() - last < cooldown)
      return { ok: false, next: new Date(last + cooldown).toISOString() };
    try {
      await state.write(key, { at: now.toISOString() }, existing ? existing.version : null);
      return { ok: true, key };
    } catch (err) {
      if (err instanceof ConflictError) return { ok: false, next: new Date(now.getTime() + cooldown).toISOString() };
      throw err;
    }
  }
}

/** Whole hours from `from` to `to` (ms), rounded up, at least 1. */
function hoursUntil(to: number, from: number): number {
  return Math.max(1, Math.ceil((to - from) / 3_600_000));
}
