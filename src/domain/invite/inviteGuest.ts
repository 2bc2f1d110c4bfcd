/**
 * Use case: an app owner invites a guest into one of the app's self-service groups.
 * Everything is checked again on the server when the owner confirms; the directory writes are recorded
 * as an operation, step by step, so that a retried or resumed confirmation never writes twice.
 */
import { invitationRedirect } from './redirect';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logging';
import {
  DirectoryError,
  isPermissionDenied,
  type Directory,
  type InvitationResult,
  type InviteContext,
} from '../../graph/directory';
import type { AuditEntry, JsonObject, OperationRecord, Store } from '../../store/store';
import { OperationRunner, type OperationSteps } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import type { HourlyLimiter } from '../shared/rateLimit';
import { Catalog } from '../shared/catalog';
import { defaultSleep, retryTransient, retryWrite, transientPolicy, type RetryPolicy } from '../shared/retry';
import { isOwnDomain, parseEmail } from '../shared/email';
import {
  blockerProblem,
  describeBlocker,
  groupBlockers,
  recordForged,
  reportBlocked,
  type Actor,
  type AppChoice,
  type BlockedReport,
  type BlockedReporter,
  type GroupBlocker,
  type Offer,
} from '../shared/model';
import { cleanText, WELCOME_MESSAGE_MAX } from '../shared/text';
import type { GuestRecorder } from '../guests/records';
import { auditText, msg, type Msg } from '../shared/message';

/** The kind of an invitation's operation record. */
export const INVITE_OPERATION_KIND = 'inviteGuest';

export interface ShareableApps {
  apps: AppChoice[];
  /** Groups the actor owns and that are assigned to an app, but cannot take guests. */
  blocked: Array<{ appId: string; appName: string; groupId: string; groupName: string; blockers: GroupBlocker[] }>;
}

export type RefusalReason =
  | 'notOffered'
  | 'invalidEmail'
  | 'ownDomain'
  | 'messageTooLong'
  | 'groupNotFound'
  | 'appNotFound'
  | 'notOwner'
  | 'notAssigned'
  | 'groupBlocked'
  | 'invitesNotAllowed'
  | 'invitationRefused'
  | 'writeRefused'
  | 'notSetUp'
  | 'rateLimited';

export interface InviteDone {
  kind: 'done';
  invited: boolean;
  added: boolean;
  guest: { id: string; email: string; displayName: string; redemption: string };
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  redeemUrl: string | null;
}

export interface InviteRefused {
  kind: 'refused';
  reason: RefusalReason;
  message: Msg;
}

export type InviteOutcome =
  | InviteDone
  | InviteRefused
  | InviteWaiting
  | { kind: 'failed'; message: Msg; reference: string; operationId: string }
  | { kind: 'inProgress'; message: Msg };

/**
 * The invitation went out, but Microsoft Entra ID does not show the new guest to membership writes yet
 * (replication lag): the operation tries the membership again on its own schedule, for up to REPLICATION_WAIT.
 */
export interface InviteWaiting {
  kind: 'waiting';
  guest: { id: string; email: string };
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
  retryAt: string;
}

/** An audit entry of one invitation: who, when and which operation are filled in. */
type InviteAudit = Omit<AuditEntry, 'time' | 'tenantId' | 'actorId' | 'actorName' | 'activityId' | 'operationId'>;

export interface InviteCommand {
  /** Idempotency key: the same confirmation always carries the same id. */
  operationId: string;
  actor: Actor;
  appId: string;
  groupId: string;
  email: string;
  message: string | null;
  /** The inviting owner's language (BCP 47, e.g. nl-NL): the invitation email is sent in it. */
  language?: string | null;
  /** What the dialog offered this actor (server-side state, not the card's data). */
  offered: readonly Offer[];
  activityId?: string;
  /** Where the outcome is to be shown (opaque: e.g. the confirmation card), kept on the operation record. */
  replyTo?: JsonObject | null;
}

export type EmailCheck =
  { ok: true; address: string } | { ok: false; reason: 'invalidEmail' | 'ownDomain'; message: Msg };

/** What the services that invite guests and add them to groups share (single and bulk invitations). */
export interface GuestWriteOptions {
  directory: Directory;
  store: Store;
  logger: Logger;
  defaultRedirectUrl: string;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Waits, within the turn, before retrying a membership write that cannot see a just-invited user yet. */
  replicationBackoffMs?: readonly number[];
  /** How long after the invitation a membership write that does not see the guest yet is retried (REPLICATION_WAIT). */
  replicationWaitMs: number;
  /** Waits before reading whether an ambiguous write (5xx, timeout) took effect, the first read included. */
  confirmBackoffMs?: readonly number[];
  /** Identifies this process as a lease owner of operation records. */
  instanceId?: string;
  /** Retries of a step after throttling or a 5xx (beyond the Graph client's own). */
  transientRetries?: number;
  /** How long a runner holds an operation before another process may resume it. */
  leaseMs?: number;
}

export interface InviteGuestOptions extends GuestWriteOptions {
  /** The self-service catalog (shared with the request flow); one is made from `directory` when absent. */
  catalog?: Catalog;
  tenantInfoTtlMs?: number;
  /** Told when a setup problem stops an owner (admin alerts). */
  onBlocked?: BlockedReporter;
  /** Per-user allowance of new invitations (INVITES_PER_USER_PER_HOUR). */
  limiter?: HourlyLimiter;
  /** Keeps the bot's record (and sponsor) of each guest it adds. */
  guestRecorder?: GuestRecorder;
}

/** allowInvitesFrom values that stop a member from inviting (message keys say what they mean). */
const inviteSettingNames: Record<string, string> = {
  none: 'invite:inviteSetting.none',
  adminsAndGuestInviters: 'invite:inviteSetting.adminsAndGuestInviters',
};

export class InviteGuestService {
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runner: OperationRunner;
  private readonly catalog: Catalog;
  private tenantCache: { domains: string[]; name: string; until: number } | null = null;

  constructor(private readonly options: InviteGuestOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    this.runner = new OperationRunner(
      options.store.operations,
      this.clock,
      options.instanceId ?? randomUUID(),
      options.leaseMs,
    );
    this.catalog = options.catalog ?? new Catalog(options.directory, this.clock);
  }

  /**
   * Apps whose self-service groups the actor owns and that can take guests, from the catalog (walked from the
   * apps: `ownedObjects` is not supported with application permissions). Every group the actor owns but that
   * cannot take guests hides that app from them: each counts as a block and the admins hear of it.
   */
  async findShareableApps(actor: Actor): Promise<ShareableApps> {
    const apps = new Map<string, AppChoice>();
    const blocked: ShareableApps['blocked'] = [];
    for (const app of await this.catalog.apps()) {
      for (const { group, ownerIds } of app.groups) {
        if (!ownerIds.includes(actor.userId)) continue;
        const blockers = groupBlockers(group);
        if (blockers.length > 0) {
          blocked.push({
            appId: app.id,
            appName: app.displayName,
            groupId: group.id,
            groupName: group.displayName,
            blockers,
          });
          continue;
        }
        const choice = apps.get(app.id) ?? { id: app.id, displayName: app.displayName, groups: [] };
        choice.groups.push({ id: group.id, displayName: group.displayName });
        apps.set(app.id, choice);
      }
    }
    const byName = (a: { displayName: string }, b: { displayName: string }): number =>
      a.displayName.localeCompare(b.displayName);
    const list = [...apps.values()].sort(byName);
    for (const b of blocked) {
      await this.reportBlocked({
        tenantId: actor.tenantId,
        actor,
        doing: msg('admin:doing.sharing', { app: b.appName }),
        kind: blockerProblem[b.blockers[0]],
        app: { id: b.appId, displayName: b.appName },
        group: { id: b.groupId, displayName: b.groupName },
      });
    }
    for (const app of list) app.groups.sort(byName);
    return { apps: list, blocked: blocked.sort((a, b) => a.appName.localeCompare(b.appName)) };
  }

  /** The address check the details card runs before the confirmation (cached verified domains). */
  async checkGuestEmail(raw: string): Promise<EmailCheck> {
    const parsed = parseEmail(raw);
    if (!parsed.ok) return { ok: false, reason: 'invalidEmail', message: parsed.message };
    const tenant = await this.tenantDomains();
    if (isOwnDomain(parsed.domain, tenant.domains))
      return { ok: false, reason: 'ownDomain', message: ownDomainMessage(parsed.address, parsed.domain, tenant.name) };
    return { ok: true, address: parsed.address };
  }

  checkWelcomeMessage(
    raw: string | null | undefined,
  ): { ok: true; message: string | null } | { ok: false; message: Msg } {
    const cleaned = cleanText(raw ?? '', { multiline: true });
    if (cleaned.length > WELCOME_MESSAGE_MAX) {
      return { ok: false, message: msg('invite:welcomeTooLong', { length: cleaned.length, max: WELCOME_MESSAGE_MAX }) };
    }
    return { ok: true, message: cleaned || null };
  }

  /**
   * Carries on with an invitation left unfinished (a crash, a restart) from its recorded steps; `report` gets the
   * outcome and where to show it. False when another process holds it.
   */
  async resume(
    record: OperationRecord,
    report: (record: OperationRecord, outcome: InviteOutcome) => Promise<void>,
  ): Promise<boolean> {
    const input = record.input;
    const appId = String(input.appId);
    const groupId = String(input.groupId);
    const outcome = await this.invite({
      operationId: record.id,
      actor: { tenantId: record.tenantId, userId: record.actorId, displayName: String(input.actorName ?? '') },
      appId,
      groupId,
      email: String(input.email),
      message: typeof input.message === 'string' ? input.message : null,
      language: typeof input.language === 'string' ? input.language : null,
      // Authorised when it was confirmed; ownership and the group are checked again by the run itself.
      offered: [{ appId, groupIds: [groupId] }],
    });
    if (outcome.kind === 'inProgress') return false;
    this.options.logger.info('invite.resumed', { operationId: record.id, outcome: outcome.kind });
    // Still waiting for the directory, as the card already says: nothing new to show.
    if (!(outcome.kind === 'waiting' && record.result?.kind === 'waiting')) await report(record, outcome);
    return true;
  }

  /** Resumes this service's unfinished invitations alone (the bot resumes every kind through one registry). */
  resumeUnfinished(report: (record: OperationRecord, outcome: InviteOutcome) => Promise<void>): Promise<number> {
    return new OperationResumers(this.options.store.operations, this.clock)
      .register(INVITE_OPERATION_KIND, (record) => this.resume(record, report))
      .resumeAll();
  }

  /** A submitted card named an app or group this actor was not offered: refuse and keep a trace. */
  recordForgedChoice(actor: Actor, detail: { appId?: string; groupId?: string; activityId?: string }): Promise<void> {
    return recordForged(this.options.store.audit, this.options.logger, this.clock(), 'invite.forged', actor, {
      ...detail,
      detail: 'app or group not offered to this user',
    });
  }

  /** Carries out a confirmed invitation: re-checks everything, then invites (if needed) and adds the guest. */
  async invite(command: InviteCommand): Promise<InviteOutcome> {
    const { actor } = command;
    const audit = (entry: InviteAudit): Promise<number> =>
      this.options.store.audit.append({
        time: this.clock().toISOString(),
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorName: actor.displayName,
        activityId: command.activityId,
        operationId: command.operationId,
        appId: command.appId,
        groupId: command.groupId,
        ...entry,
      });

    const offer = command.offered.find((o) => o.appId === command.appId);
    if (!offer || !offer.groupIds.includes(command.groupId)) {
      await this.recordForgedChoice(actor, {
        appId: command.appId,
        groupId: command.groupId,
        activityId: command.activityId,
      });
      return refused('notOffered', msg('invite:refused.notOffered'));
    }
    const message = this.checkWelcomeMessage(command.message);
    if (!message.ok) return refused('messageTooLong', message.message);
    const parsed = parseEmail(command.email);
    if (!parsed.ok) return refused('invalidEmail', parsed.message);
    const email = parsed.address;

    const known = await this.options.store.operations.get(command.operationId);
    if (!known && this.options.limiter && !(await this.options.limiter.take('invite', actor.tenantId, actor.userId))) {
      await audit({ action: 'invite.refused', outcome: 'rateLimited', guestEmail: email });
      return refused('rateLimited', msg('invite:refused.rateLimited'));
    }
    const run = await this.runner.run<InviteOutcome>(
      {
        id: command.operationId,
        kind: INVITE_OPERATION_KIND,
        tenantId: actor.tenantId,
        actorId: actor.userId,
        input: {
          appId: command.appId,
          groupId: command.groupId,
          email,
          message: message.message,
          actorName: actor.displayName,
          language: command.language ?? null,
        },
        replyTo: command.replyTo ?? null,
      },
      (steps) => this.run(steps, command, email, message.message, audit),
    );
    if (run.kind === 'finished') return run.outcome;
    return { kind: 'inProgress', message: msg('invite:inProgress') };
  }

  private async run(
    steps: OperationSteps,
    command: InviteCommand,
    email: string,
    welcome: string | null,
    audit: (entry: InviteAudit) => Promise<number>,
  ): Promise<{ outcome: InviteOutcome; failed: boolean; retryAt?: Date }> {
    const { directory, logger } = this.options;
    const step = steps.done;
    const finished = (outcome: InviteOutcome): { outcome: InviteOutcome; failed: boolean } => ({
      outcome,
      failed: outcome.kind === 'failed',
    });

    let context: InviteContext;
    try {
      context = await this.transient(() =>
        directory.getInviteContext({
          actorId: command.actor.userId,
          groupId: command.groupId,
          appId: command.appId,
          email,
        }),
      );
    } catch (err) {
      if (isPermissionDenied(err)) return finished(await this.notSetUp(command.actor, err, 'check', email, audit));
      return finished(await this.failure(steps.record.id, err, 'check', email, audit));
    }
    const refusal = this.evaluate(context, email);
    const names = { appName: context.app?.displayName, groupName: context.group?.displayName };
    if (refusal) {
      await this.reportRefusal(command.actor, refusal, context);
      await audit({
        action: 'invite.refused',
        outcome: refusal.reason,
        guestEmail: email,
        detail: auditText(refusal.message).slice(0, 500),
        graphRequestId: context.requestId ?? undefined,
        ...names,
      });
      return finished(refusal);
    }
    const app = context.app!;
    const group = context.group!;
    const appRef = { id: app.id, displayName: app.displayName };
    const groupRef = { id: group.id, displayName: group.displayName };
    const existing = context.existingUser;
    const previousInvite = steps.record.steps.invite;
    const previousAdd = steps.record.steps.addMember?.result;
    if (existing && !previousAdd && !previousInvite) {
      // Membership is read plainly (checkMemberGroups), not from the lagging advanced-query index.
      let member: boolean;
      try {
        member = (await this.transient(() => directory.checkMemberGroups(existing.id, [group.id]))).has(group.id);
      } catch (err) {
        if (isPermissionDenied(err)) return finished(await this.notSetUp(command.actor, err, 'member', email, audit));
        return finished(await this.failure(steps.record.id, err, 'check', email, audit, names));
      }
      if (member) {
        await audit({
          action: 'invite.alreadyMember',
          outcome: 'alreadyMember',
          guestEmail: email,
          guestId: existing.id,
          graphRequestId: context.requestId ?? undefined,
          ...names,
        });
        return finished({
          kind: 'done',
          invited: false,
          added: false,
          guest: { id: existing.id, email, displayName: existing.displayName, redemption: redemptionOf(existing) },
          app: appRef,
          group: groupRef,
          redeemUrl: null,
        });
      }
    }
    if (!steps.record.steps.check)
      await step(
        'check',
        { groupId: group.id, appId: app.id, existingUserId: existing?.id ?? null },
        context.requestId,
      );

    let guestId: string;
    let redemption: string;
    let redeemUrl: string | null = null;
    let invited = false;
    let lastRequestId: string | null = context.requestId;
    let invitedAt = this.clock();
    if (previousInvite && typeof previousInvite.result?.userId === 'string') {
      // Resumed after the invitation step: never invite again.
      guestId = previousInvite.result.userId;
      redemption = String(previousInvite.result.status ?? 'PendingAcceptance');
      invitedAt = new Date(previousInvite.at);
      invited = true;
    } else if (existing) {
      guestId = existing.id;
      redemption = redemptionOf(existing);
    } else {
      try {
        const redirectUrl = invitationRedirect(app, this.options.defaultRedirectUrl);
        const invitation = await retryWrite(
          () => directory.inviteGuest({ email, redirectUrl, message: welcome, language: command.language ?? null }),
          () => this.invitationTookEffect(email),
          this.writePolicy(),
        );
        guestId = invitation.userId;
        redemption = invitation.status ?? 'PendingAcceptance';
        redeemUrl = invitation.redeemUrl;
        invited = true;
        lastRequestId = invitation.requestId;
        await step('invite', { userId: guestId, status: redemption }, invitation.requestId);
        logger.info('invite.invitation.created', { guestId, graphRequestId: invitation.requestId });
      } catch (err) {
        if (err instanceof DirectoryError && (err.kind === 'forbidden' || err.kind === 'badRequest')) {
          const refusedOutcome = invitationRefused(err, email);
          if (err.kind === 'forbidden') {
            await this.reportBlocked({
              tenantId: command.actor.tenantId,
              actor: command.actor,
              doing: msg('admin:doing.inviting', { email, app: app.displayName }),
              kind: 'invitesNotAllowed',
              app,
              group,
              detail: `POST /invitations answered 403 ${err.code}`,
            });
          }
          await audit({
            action: 'invite.refused',
            outcome: refusedOutcome.reason,
            guestEmail: email,
            detail: `${err.code}: ${err.message}`.slice(0, 500),
            graphRequestId: err.requestId ?? undefined,
            ...names,
          });
          return finished(refusedOutcome);
        }
        return finished(await this.failure(steps.record.id, err, 'invite', email, audit, names));
      }
    }

    let added: boolean;
    try {
      const result = await retryWrite(
        () => this.withReplicationRetry(() => directory.addGroupMember(group.id, guestId)),
        async () =>
          (await directory.checkMemberGroups(guestId, [group.id])).has(group.id)
            ? { added: true, requestId: null }
            : null,
        this.writePolicy(),
      );
      // A guest this operation invited can only be in the group through this operation (an earlier, interrupted run).
      added = result.added || invited;
      lastRequestId = result.requestId ?? lastRequestId;
      await step('addMember', { added }, result.requestId);
    } catch (err) {
      if (isPermissionDenied(err)) {
        await this.reportBlocked({
          tenantId: command.actor.tenantId,
          actor: command.actor,
          doing: msg('admin:doing.adding', { email, group: group.displayName }),
          kind: 'missingPermission',
          app: appRef,
          group: groupRef,
          detail: err.permission ?? 'GroupMember.ReadWrite.All',
        });
      }
      const lagging = err instanceof DirectoryError && (err.kind === 'notFound' || err.kind === 'badRequest');
      const waitedMs = this.clock().getTime() - invitedAt.getTime();
      if (lagging && invited && waitedMs < this.options.replicationWaitMs) {
        const retryAt = new Date(this.clock().getTime() + replicationRetryDelay(waitedMs));
        logger.info('invite.replication.waiting', {
          guestId,
          groupId: group.id,
          code: err.code,
          retryAt: retryAt.toISOString(),
          graphRequestId: err.requestId ?? undefined,
        });
        await audit({
          action: 'invite.waiting',
          outcome: 'replicationLag',
          guestEmail: email,
          guestId,
          detail: `${err.code}: ${err.message}`.slice(0, 500),
          graphRequestId: err.requestId ?? undefined,
          ...names,
        });
        return {
          outcome: {
            kind: 'waiting',
            guest: { id: guestId, email },
            app: appRef,
            group: groupRef,
            retryAt: retryAt.toISOString(),
          },
          failed: false,
          retryAt,
        };
      }
      // Still not visible after REPLICATION_WAIT: no refusal either, so it fails and can be retried (automatically or by an admin).
      if (lagging && invited)
        return finished(await this.failure(steps.record.id, err, 'addMember', email, audit, names));
      if (err instanceof DirectoryError && (err.kind === 'forbidden' || err.kind === 'badRequest')) {
        const text = msg(
          isPermissionDenied(err) ? 'invite:refused.addMissingPermission' : 'invite:refused.addRefused',
          {
            email,
            group: group.displayName,
            code: err.code,
            invited: invited ? 'yes' : 'no',
            permission: err.permission ?? 'GroupMember.ReadWrite.All',
          },
        );
        await audit({
          action: 'invite.refused',
          outcome: 'writeRefused',
          guestEmail: email,
          guestId,
          detail: `${err.code}: ${err.message}`.slice(0, 500),
          graphRequestId: err.requestId ?? undefined,
          ...names,
        });
        return finished(refused('writeRefused', text));
      }
      return finished(await this.failure(steps.record.id, err, 'addMember', email, audit, names));
    }

    const outcome: InviteDone = {
      kind: 'done',
      invited,
      added,
      guest: { id: guestId, email, displayName: existing?.displayName ?? email, redemption },
      app: appRef,
      group: groupRef,
      redeemUrl,
    };
    await audit({
      action: 'invite.succeeded',
      outcome: added ? (invited ? 'invitedAndAdded' : 'existingGuestAdded') : 'alreadyMember',
      guestEmail: email,
      guestId,
      graphRequestId: lastRequestId ?? undefined,
      ...names,
    });
    // Only guests are kept in the guest records (and reviewed, and removed by the review default): an existing
    // member added to the group is not one.
    if (added && (invited || existing?.userType === 'Guest')) {
      await this.options.guestRecorder?.recordAdded({
        actor: command.actor,
        how: 'invite',
        operationId: steps.record.id,
        guest: outcome.guest,
        app: appRef,
        group: groupRef,
      });
    }
    logger.info('invite.succeeded', { guestId, groupId: group.id, appId: app.id, invited, added });
    return finished(outcome);
  }

  /**
   * After an ambiguous answer to `POST /invitations`: does a user with that address exist now? A few reads apart,
   * since the new user may take a moment to show in plain reads too (user-list.md: replication delays).
   */
  private async invitationTookEffect(email: string): Promise<InvitationResult | null> {
    for (const wait of this.options.confirmBackoffMs ?? [500, 1500, 3000]) {
      await this.sleep(wait);
      const user = await this.options.directory.findUserByEmail(email);
      if (user)
        return {
          userId: user.id,
          redeemUrl: null,
          status: user.externalUserState ?? 'PendingAcceptance',
          requestId: null,
        };
    }
    return null;
  }

  /** A permission the check needs was not granted: the user hears it is not set up, the admins what to grant. */
  private async notSetUp(
    actor: Actor,
    err: DirectoryError,
    doing: 'check' | 'member',
    email: string,
    audit: (entry: InviteAudit) => Promise<number>,
  ): Promise<InviteRefused> {
    const permission = err.permission ?? 'a Microsoft Graph permission';
    await this.reportBlocked({
      tenantId: actor.tenantId,
      actor,
      doing: msg('admin:doing.invitingStep', { step: doing }),
      kind: 'missingPermission',
      app: null,
      group: null,
      detail: permission,
    });
    await audit({
      action: 'invite.refused',
      outcome: 'notSetUp',
      guestEmail: email,
      detail: `${err.code}: needs ${permission}`,
      graphRequestId: err.requestId ?? undefined,
    });
    return refused('notSetUp', notSetUpMessage());
  }

  private reportBlocked(report: BlockedReport): Promise<void> {
    return reportBlocked(this.options.onBlocked, this.options.logger, report);
  }

  private async reportRefusal(actor: Actor, refusal: InviteRefused, context: InviteContext): Promise<void> {
    const app = context.app ? { id: context.app.id, displayName: context.app.displayName } : null;
    const group = context.group ? { id: context.group.id, displayName: context.group.displayName } : null;
    const doing = app ? msg('admin:doing.invitingTo', { app: app.displayName }) : msg('admin:doing.invitingAny');
    if (refusal.reason === 'groupBlocked' && context.group) {
      await this.reportBlocked({
        tenantId: actor.tenantId,
        actor,
        doing,
        kind: blockerProblem[groupBlockers(context.group)[0]],
        app,
        group,
      });
    } else if (refusal.reason === 'invitesNotAllowed') {
      await this.reportBlocked({
        tenantId: actor.tenantId,
        actor,
        doing,
        kind: 'invitesNotAllowed',
        app,
        group,
        detail: context.allowInvitesFrom ?? '',
      });
    }
  }

  /** The server-side checks, in the order an owner would want to hear about them. */
  private evaluate(context: InviteContext, email: string): InviteRefused | null {
    const { group, app } = context;
    if (!group) return refused('groupNotFound', msg('invite:refused.groupNotFound'));
    if (!app) return refused('appNotFound', msg('invite:refused.appNotFound'));
    // Graph lists no owners for a group synced from on-premises (group-list-owners.md): say what it is, not "not an owner".
    if (group.onPremisesSyncEnabled === true)
      return refused(
        'groupBlocked',
        msg('invite:refused.groupBlocked', { why: describeBlocker('synced', group.displayName, app.displayName) }),
      );
    if (!context.actorIsOwner) {
      return refused('notOwner', msg('invite:refused.notOwner', { group: group.displayName }));
    }
    if (!context.groupAssignedToApp) {
      return refused(
        'notAssigned',
        msg('invite:refused.notAssigned', { group: group.displayName, app: app.displayName }),
      );
    }
    const blockers = groupBlockers(group);
    if (blockers.length > 0) {
      return refused(
        'groupBlocked',
        msg('invite:refused.groupBlocked', { why: describeBlocker(blockers[0], group.displayName, app.displayName) }),
      );
    }
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (context.tenant && isOwnDomain(domain, context.tenant.verifiedDomains)) {
      return refused('ownDomain', ownDomainMessage(email, domain, context.tenant.displayName));
    }
    const setting = context.allowInvitesFrom;
    if (!context.existingUser && setting && setting in inviteSettingNames) {
      return refused('invitesNotAllowed', invitesNotAllowedMessage(setting));
    }
    return null;
  }

  private writePolicy(): RetryPolicy {
    return transientPolicy(this.options, this.sleep);
  }

  private transient<T>(call: () => Promise<T>): Promise<T> {
    return retryTransient(call, this.writePolicy());
  }

  /**
   * Graph may not see a just-invited user for seconds, sometimes minutes: 404 Request_ResourceNotFound, 404
   * Directory_ObjectNotFound or 400 "Not a valid reference update" (field notes; msgraph-sdk-dotnet#2508). A 400
   * reaching here is not "already a member" (the adapter read membership). A few quick retries within the turn;
   * after that the operation waits on its own schedule (REPLICATION_WAIT).
   */
  private async withReplicationRetry<T>(write: () => Promise<T>): Promise<T> {
    const backoff = this.options.replicationBackoffMs ?? [500, 1000, 2000];
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        const lagging = err instanceof DirectoryError && (err.kind === 'notFound' || err.kind === 'badRequest');
        if (!lagging || attempt >= backoff.length) throw err;
        this.options.logger.info('invite.replication.wait', { attempt: attempt + 1, ms: backoff[attempt] });
        await this.sleep(backoff[attempt]);
      }
    }
  }

  private async failure(
    operationId: string,
    err: unknown,
    step: string,
    email: string,
    audit: (entry: InviteAudit) => Promise<number>,
    names: { appName?: string; groupName?: string } = {},
  ): Promise<InviteOutcome> {
    const error =
      err instanceof DirectoryError
        ? err
        : new DirectoryError('unknown', 0, 'Unexpected', err instanceof Error ? err.message : String(err));
    const reference = (error.requestId ?? this.clock().getTime().toString(36)).slice(0, 36);
    this.options.logger.error('invite.failed', {
      step,
      code: error.code,
      status: error.status,
      graphRequestId: error.requestId ?? undefined,
      error: err,
    });
    await audit({
      action: 'invite.failed',
      outcome: `failed:${step}`,
      guestEmail: email,
      detail: `${error.code}: ${error.message}`.slice(0, 500),
      graphRequestId: error.requestId ?? undefined,
      ...names,
    });
    const what = error.kind === 'throttled' || error.kind === 'unavailable' ? error.kind : 'other';
    return {
      kind: 'failed',
      message: msg('invite:failed', { what, step: stepText[step] ?? 'check' }),
      reference,
      operationId,
    };
  }

  /** The organization's verified domains and name, cached (tenantInfoTtlMs). */
  async tenantDomains(): Promise<{ domains: string[]; name: string }> {
    const now = this.clock().getTime();
    if (this.tenantCache && this.tenantCache.until > now) return this.tenantCache;
    const tenant = await this.options.directory.getTenantInfo();
    this.tenantCache = {
      domains: tenant.verifiedDomains,
      name: tenant.displayName,
      until: now + (this.options.tenantInfoTtlMs ?? 10 * 60_000),
    };
    return this.tenantCache;
  }
}

/** How long a membership write waits for a just-invited guest to show: 30 s, growing with the wait, at most 5 minutes. */
export function replicationRetryDelay(waitedMs: number): number {
  return Math.min(5 * 60_000, Math.max(30_000, Math.round(waitedMs / 2)));
}

function redemptionOf(user: { externalUserState: string | null; userType: string | null }): string {
  return user.externalUserState ?? (user.userType === 'Member' ? 'Member' : 'Unknown');
}

function notSetUpMessage(): Msg {
  return msg('invite:refused.notSetUp');
}

/** The step names the failure message knows (a select argument in the catalog). */
const stepText: Record<string, string> = { check: 'check', invite: 'invite', addMember: 'addMember' };

function refused(reason: RefusalReason, message: Msg): InviteRefused {
  return { kind: 'refused', reason, message };
}

function ownDomainMessage(address: string, domain: string, tenantName: string): Msg {
  return tenantName
    ? msg('invite:ownDomain.named', { address, domain, tenant: tenantName })
    : msg('invite:ownDomain.unnamed', { address, domain });
}

function invitesNotAllowedMessage(setting: string): Msg {
  const who = inviteSettingNames[setting]
    ? msg(inviteSettingNames[setting])
    : msg('invite:inviteSetting.other', { setting });
  return msg('invite:refused.invitesNotAllowed', { who, setting });
}

function invitationRefused(err: DirectoryError, email: string): InviteRefused {
  if (err.kind === 'forbidden') {
    return refused('invitesNotAllowed', msg('invite:refused.invitationForbidden', { email, code: err.code }));
  }
  return refused(
    'invitationRefused',
    msg('invite:refused.invitationRefused', { email, code: err.code, detail: err.message }),
  );
}
