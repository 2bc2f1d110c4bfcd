/**
 * Use case: an app owner invites a guest into one of the app's self-service groups. The service the bot calls:
 * the offers (offers.ts), the checks the cards run, and the confirmed invitation. Everything is checked again on
 * the server when the owner confirms (checks.ts); the directory writes are recorded as an operation, step by step
 * (steps.ts, membership.ts), so that a retried or resumed confirmation never writes twice.
 */
import type { NewOperation, OperationRecord } from '../../store/store';
import { useCaseTools, type OperationRunner } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { Catalog } from '../shared/catalog';
import { isOwnDomain, parseEmail } from '../shared/email';
import { recordForged, reportBlocked, type Actor, type BlockedReport } from '../shared/model';
import { msg, type Msg } from '../shared/message';
import { checkAllowance, checkContext, checkWelcomeMessage, ownDomainMessage, wasOffered } from './checks';
import { findShareableApps, type ShareableApps } from './offers';
import { isEnd, type InviteRun } from './run';
import { alreadyMember, guestToAdd, readContext, recordCheck, refuseAfterCheck, targetOf } from './steps';
import { addToGroup, succeed } from './membership';
import {
  finished,
  INVITE_OPERATION_KIND,
  refused,
  type AuditWriter,
  type EmailCheck,
  type InviteCommand,
  type InviteGuestOptions,
  type InviteOutcome,
  type RunResult,
} from './model';

export class InviteGuestService {
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runner: OperationRunner;
  private readonly catalog: Catalog;
  private tenantCache: { domains: string[]; name: string; until: number } | null = null;

  constructor(private readonly options: InviteGuestOptions) {
    ({ clock: this.clock, sleep: this.sleep, runner: this.runner } = useCaseTools(options));
    this.catalog = options.catalog ?? new Catalog(options.directory, this.clock);
  }

  /**
   * Apps whose self-service groups the actor owns and that can take guests, from the catalog. Every group the actor
   * owns but that cannot take guests hides that app from them: each counts as a block and the admins hear of it.
   */
  async findShareableApps(actor: Actor): Promise<ShareableApps> {
    return findShareableApps(await this.catalog.apps(), actor, (report) => this.reportBlocked(report));
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
    return checkWelcomeMessage(raw);
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
    if (!wasOffered(command)) {
      const { appId, groupId, activityId } = command;
      await this.recordForgedChoice(command.actor, { appId, groupId, activityId });
      return refused('notOffered', msg('invite:refused.notOffered'));
    }
    const message = this.checkWelcomeMessage(command.message);
    if (!message.ok) return refused('messageTooLong', message.message);
    const parsed = parseEmail(command.email);
    if (!parsed.ok) return refused('invalidEmail', parsed.message);
    const email = parsed.address;
    const audit = this.auditWriter(command);
    const overLimit = await checkAllowance(this.options.store, this.options.limiter, command, email, audit);
    if (overLimit) return overLimit;
    const run = await this.runner.run<InviteOutcome>(operationOf(command, email, message.message), (steps) =>
      this.run({
        options: this.options,
        clock: this.clock,
        sleep: this.sleep,
        steps,
        command,
        email,
        welcome: message.message,
        audit,
      }),
    );
    if (run.kind === 'finished') return run.outcome;
    return { kind: 'inProgress', message: msg('invite:inProgress') };
  }

  /** One run of the operation: the checks, then the steps not yet recorded, each of which may end it. */
  private async run(run: InviteRun): Promise<RunResult> {
    const context = await readContext(run);
    if (isEnd(context)) return context.end;
    const refusal = checkContext(context, run.email);
    if (refusal) return refuseAfterCheck(run, refusal, context);
    const target = targetOf(context);
    const member = await alreadyMember(run, target);
    if (member) return member;
    await recordCheck(run, target);
    const guest = await guestToAdd(run, target);
    if (isEnd(guest)) return guest.end;
    const added = await addToGroup(run, target, guest);
    if (isEnd(added)) return added.end;
    return finished(await succeed(run, target, guest, added));
  }

  /** Audit entries of this command: who, when, which operation, app and group. */
  private auditWriter(command: InviteCommand): AuditWriter {
    const { actor } = command;
    return (entry) =>
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
  }

  private reportBlocked(report: BlockedReport): Promise<void> {
    return reportBlocked(this.options.onBlocked, this.options.logger, report);
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

/** The operation record of a confirmed invitation: what a resumed run needs to carry on. */
function operationOf(command: InviteCommand, email: string, welcome: string | null): NewOperation {
  const { actor } = command;
  return {
    id: command.operationId,
    kind: INVITE_OPERATION_KIND,
    tenantId: actor.tenantId,
    actorId: actor.userId,
    input: {
      appId: command.appId,
      groupId: command.groupId,
      email,
      message: welcome,
      actorName: actor.displayName,
      language: command.language ?? null,
    },
    replyTo: command.replyTo ?? null,
  };
}
