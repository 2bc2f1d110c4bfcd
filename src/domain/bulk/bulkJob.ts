/**
 * Use case: an owner invites many guests into one group at once; this service is its face (the review of a list,
 * the allowance, running and resuming a job). One operation record per job with a step per address (`a<n>`), so
 * a crash or restart resumes where it stopped and nothing is invited or added twice (see `BulkRun`, bulkRun.ts,
 * for the steps). Graph: look-ups and membership reads in `$batch`, invitations 20 a `$batch`, memberships 20 a
 * `PATCH /groups/{id}` (members@odata.bind, all or none) with single adds for a refused chunk.
 */
import type { OperationRecord } from '../../store/store';
import { useCaseTools, type OperationRunner } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { transientPolicy, waitSchedules } from '../shared/retry';
import type { Actor } from '../shared/model';
import { msg, type Msg } from '../shared/message';
import type { HourlyLimiter } from '../shared/rateLimit';
import type { GuestWriteOptions } from '../invite/model';
import { parseAddressList } from './addresses';
import { lookUpList, reserveAllowance, withAllowance, type LookedUp } from './review';
import type { BulkCommand, BulkOutcome, BulkReview, BulkSummary, PersonalInvitation } from './model';
import { BulkRun, type BulkRunTools } from './bulkRun';

/** The kind of a bulk job's operation record. */
export const BULK_OPERATION_KIND = 'bulkInvite';
/** `/invitations`: 150 requests per 5 s per tenant (field notes); a job keeps to 100 so other work still fits. */
const INVITES_PER_WINDOW = 100;
const INVITE_WINDOW_MS = 5_000;

/** The stored form of `personal` read back (a record kept before files has none). */
function personalFrom(value: unknown): Array<PersonalInvitation | null> | null {
  if (!Array.isArray(value)) return null;
  return value.map((v) => {
    if (typeof v !== 'object' || v === null) return null;
    const o = v as { message?: unknown; send?: unknown };
    return { message: typeof o.message === 'string' ? o.message : null, send: o.send !== false };
  });
}

export interface BulkInviteOptions extends GuestWriteOptions {
  /** Owners are read again before the membership writes when the job is older than this (BULK_RECHECK_AFTER). */
  recheckAfterMs: number;
  /** The organization's verified domains (cached; InviteGuestService.tenantDomains). */
  tenantDomains: () => Promise<{ domains: string[]; name: string }>;
  /** BULK_INVITE_MAX. */
  maxAddresses: number;
  /** The owner's allowance of new invitations (INVITES_PER_USER_PER_HOUR): each new address counts. */
  limiter?: HourlyLimiter;
}

export class BulkInviteService {
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runner: OperationRunner;
  private inviteWindow: number[] = [];

  constructor(private readonly options: BulkInviteOptions) {
    ({ clock: this.clock, sleep: this.sleep, runner: this.runner } = useCaseTools(options));
  }

  get maxAddresses(): number {
    return this.options.maxAddresses;
  }

  /**
   * Parses the list and reads which addresses are existing users and members already (plain reads, `$batch`).
   * With `actor`, new addresses beyond the owner's remaining hourly allowance are set apart (not sent).
   */
  async review(groupId: string, text: string, actor?: Actor): Promise<BulkReview> {
    const found = await this.lookUp(groupId, text);
    const allowance =
      actor && this.options.limiter
        ? await this.options.limiter.allowance('invite', actor.tenantId, actor.userId)
        : null;
    return withAllowance(found, allowance, this.maxAddresses);
  }

  /** Counts the new invitations of a reviewed list when it is sent (see `reserveAllowance`). */
  reserve(actor: Actor, newInvitations: number): Promise<Msg | null> {
    return reserveAllowance(this.options.limiter, actor, newInvitations);
  }

  private async lookUp(groupId: string, text: string): Promise<LookedUp> {
    const tenant = await this.options.tenantDomains();
    const list = parseAddressList(text, { max: this.maxAddresses, ownDomains: tenant.domains });
    return lookUpList(this.options.directory, transientPolicy(this.options, this.sleep), groupId, list);
  }

  /** Runs (or resumes, or returns the stored outcome of) a confirmed bulk job. */
  async run(command: BulkCommand): Promise<BulkOutcome> {
    const run = await this.runner.run<BulkSummary>(
      {
        id: command.operationId,
        kind: BULK_OPERATION_KIND,
        tenantId: command.actor.tenantId,
        actorId: command.actor.userId,
        input: {
          appId: command.appId,
          groupId: command.groupId,
          addresses: command.addresses,
          message: command.message,
          language: command.language ?? null,
          actorName: command.actor.displayName,
          ...(command.personal
            ? { personal: command.personal.map((p) => (p ? { message: p.message, send: p.send } : null)) }
            : {}),
        },
        replyTo: command.replyTo ?? null,
      },
      (steps) => new BulkRun(this.runTools(), steps, command).execute(),
    );
    return run.kind === 'finished' ? run.outcome : { kind: 'inProgress', message: msg('bulk:inProgress') };
  }

  /** Carries on with a bulk job left unfinished (a crash, a restart, replication lag); `report` gets its outcome. */
  async resume(
    record: OperationRecord,
    report: (record: OperationRecord, outcome: BulkSummary) => Promise<void>,
    onProgress?: (record: OperationRecord, summary: BulkSummary) => void,
  ): Promise<boolean> {
    const input = record.input;
    const outcome = await this.run({
      operationId: record.id,
      actor: { tenantId: record.tenantId, userId: record.actorId, displayName: String(input.actorName ?? '') },
      appId: String(input.appId),
      groupId: String(input.groupId),
      addresses: Array.isArray(input.addresses) ? input.addresses.map(String) : [],
      message: typeof input.message === 'string' ? input.message : null,
      personal: personalFrom(input.personal),
      language: typeof input.language === 'string' ? input.language : null,
      onProgress: onProgress ? (summary) => onProgress(record, summary) : undefined,
    });
    if (outcome.kind === 'inProgress') return false;
    this.options.logger.info('bulk.resumed', { operationId: record.id, status: outcome.status });
    await report(record, outcome);
    return true;
  }

  /** Resumes this service's unfinished bulk jobs alone (the bot resumes every kind through one registry). */
  resumeUnfinished(
    report: (record: OperationRecord, outcome: BulkSummary) => Promise<void>,
    onProgress?: (record: OperationRecord, summary: BulkSummary) => void,
  ): Promise<number> {
    return new OperationResumers(this.options.store.operations, this.clock)
      .register(BULK_OPERATION_KIND, (record) => this.resume(record, report, onProgress))
      .resumeAll();
  }

  /** What a run uses: this service's directory, clock, waits and pace. */
  private runTools(): BulkRunTools {
    const { options } = this;
    return {
      directory: options.directory,
      logger: options.logger,
      clock: this.clock,
      sleep: this.sleep,
      policy: transientPolicy(options, this.sleep),
      waits: waitSchedules(options),
      pace: (n) => this.pace(n),
      defaultRedirectUrl: options.defaultRedirectUrl,
      recheckAfterMs: options.recheckAfterMs,
      replicationWaitMs: options.replicationWaitMs,
    };
  }

  /** Waits while this job would pass its share of the `/invitations` limit (a sliding window in this process). */
  private async pace(n: number): Promise<void> {
    for (;;) {
      const now = this.clock().getTime();
      this.inviteWindow = this.inviteWindow.filter((t) => t > now - INVITE_WINDOW_MS);
      if (this.inviteWindow.length + n <= INVITES_PER_WINDOW || this.inviteWindow.length === 0) {
        for (let k = 0; k < n; k++) this.inviteWindow.push(now);
        return;
      }
      await this.sleep(this.inviteWindow[0] + INVITE_WINDOW_MS - now);
    }
  }
}
