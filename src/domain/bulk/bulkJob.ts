/**
 * Use case: an owner invites many guests into one group at once. One operation record per job with a step per
 * address (`a<n>`), so a crash or restart resumes where it stopped and nothing is invited or added twice:
 * an address is marked `inviting` before its invitation goes out, and a resumed or ambiguous one is looked up
 * before it is sent again. Graph: look-ups and membership reads in `$batch`, invitations 20 a `$batch`,
 * memberships 20 a `PATCH /groups/{id}` (members@odata.bind, all or none) with single adds for a refused chunk.
 */
import { invitationRedirect } from '../invite/redirect';
import { randomUUID } from 'node:crypto';
import { DirectoryError, isPermissionDenied, type InvitationResult } from '../../graph/directory';
import type { JsonObject, OperationRecord } from '../../store/store';
import { OperationRunner, type OperationSteps } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { defaultSleep, retryTransient, retryWrite, transientPolicy, type RetryPolicy } from '../shared/retry';
import type { Actor } from '../shared/model';
import { msg, type Msg } from '../shared/message';
import type { HourlyLimiter } from '../shared/rateLimit';
import { parseAddressList } from './addresses';
import { reserveAllowance, withAllowance, type LookedUp } from './review';
import type { AddressResult, AddressState, BulkOutcome, BulkReview, BulkSummary } from './model';
import { counts } from './model';

export {
  counts,
  type AddressResult,
  type AddressState,
  type BulkOutcome,
  type BulkReview,
  type BulkSummary,
  type HourlyAllowance,
} from './model';
import type { GuestWriteOptions } from '../invite/model';
import { replicationRetryDelay } from '../invite/replication';

export const BULK_CHUNK = 20;
/** The kind of a bulk job's operation record. */
export const BULK_OPERATION_KIND = 'bulkInvite';
/** `/invitations`: 150 requests per 5 s per tenant (field notes); a job keeps to 100 so other work still fits. */
const INVITES_PER_WINDOW = 100;
const INVITE_WINDOW_MS = 5_000;

export interface BulkCommand {
  operationId: string;
  actor: Actor;
  appId: string;
  groupId: string;
  addresses: string[];
  message: string | null;
  /**
   * Per address (same order), from a file: its own welcome message (instead of `message`) and whether an
   * invitation email is sent at all (Entra's bulk template columns). Null or missing: `message`, email sent.
   */
  personal?: ReadonlyArray<PersonalInvitation | null> | null;
  /** The inviting owner's language (BCP 47, e.g. nl-NL): the invitation emails are sent in it. */
  language?: string | null;
  replyTo?: JsonObject | null;
  onProgress?: (summary: BulkSummary) => void;
}

export interface PersonalInvitation {
  message: string | null;
  send: boolean;
}

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

/** A Graph error's code and text as the detail of a refusal (kept short: it is stored with the job). */
/** The invitation email of one address: its message, its language and whether it is sent. */
type InvitationEmail = { message: string | null; language: string | null; send: boolean };

const graphDetail = (code: string, message: string): string => `${code}: ${message}`.slice(0, 300);

const chunks = <T>(items: readonly T[], size = BULK_CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const lagging = (err: unknown): err is DirectoryError =>
  err instanceof DirectoryError && (err.kind === 'notFound' || err.kind === 'badRequest');

export class BulkInviteService {
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runner: OperationRunner;
  private inviteWindow: number[] = [];

  constructor(private readonly options: BulkInviteOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    this.runner = new OperationRunner(
      options.store.operations,
      this.clock,
      options.instanceId ?? randomUUID(),
      options.leaseMs,
    );
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
    const addresses = list.valid.map((e) => e.address!);
    const result = {
      valid: list.valid,
      invalid: list.invalid,
      toInvite: addresses,
      existing: [] as string[],
      members: [] as string[],
      lookedUp: false,
    };
    if (addresses.length === 0) return { ...result, lookedUp: true };
    try {
      const users = await retryTransient(() => this.options.directory.findUsersByEmails(addresses), this.policy());
      const ids = new Map<string, string>();
      for (const address of addresses) {
        const user = users.get(address);
        if (user) ids.set(address, user.id);
      }
      const members = await retryTransient(
        () => this.options.directory.membersAmong(groupId, [...ids.values()]),
        this.policy(),
      );
      return {
        ...result,
        toInvite: addresses.filter((a) => !ids.has(a)),
        existing: addresses.filter((a) => ids.has(a) && !members.has(ids.get(a)!)),
        members: addresses.filter((a) => ids.has(a) && members.has(ids.get(a)!)),
        lookedUp: true,
      };
    } catch (err) {
      this.options.logger.warn('bulk.review.lookupFailed', { error: err });
      return result;
    }
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
      (steps) => this.body(steps, command),
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

  private policy(): RetryPolicy {
    return transientPolicy(this.options, this.sleep);
  }

  private async body(
    steps: OperationSteps,
    command: BulkCommand,
  ): Promise<{ outcome: BulkSummary; failed: boolean; retryAt?: Date }> {
    const { directory, logger } = this.options;
    const entries: AddressResult[] = command.addresses.map((address, i) => {
      const recorded = steps.record.steps[`a${i}`]?.result as (JsonObject & Partial<AddressResult>) | undefined;
      const state = recorded?.state;
      // A failed address is tried again (a reopened job); everything else resumes from its recorded state.
      return recorded && state && state !== 'failed'
        ? { ...(recorded as unknown as AddressResult), address }
        : { address, state: 'pending' };
    });
    const summary = (status: BulkSummary['status']): BulkSummary => ({
      kind: 'bulk',
      operationId: command.operationId,
      status,
      app,
      group,
      message: command.message,
      entries: entries.map((e) => ({ ...e })),
    });
    let app = { id: command.appId, displayName: '' };
    let group = { id: command.groupId, displayName: '' };
    const record = async (i: number, result: AddressResult): Promise<void> => {
      entries[i] = result;
      const stored: JsonObject = { state: result.state };
      if (result.userId) stored.userId = result.userId;
      if (result.invited !== undefined) stored.invited = result.invited;
      if (result.detail)
        stored.detail =
          typeof result.detail === 'string' ? result.detail.slice(0, 300) : (result.detail as unknown as JsonObject);
      if (result.since) stored.since = result.since;
      unsaved.set(i, stored);
    };
    // Step results are written together: before a write goes out (its intent) and after each chunk.
    const unsaved = new Map<number, JsonObject>();
    const flush = async (): Promise<void> => {
      const results = [...unsaved].map(([i, result]) => ({ name: `a${i}`, result }));
      unsaved.clear();
      await steps.doneAll(results);
    };
    const progress = async (): Promise<void> => {
      await flush();
      command.onProgress?.(summary('running'));
    };
    const stopAll = async (states: AddressState[], detail: Msg): Promise<void> => {
      for (const [i, e] of entries.entries())
        if (states.includes(e.state)) await record(i, { ...e, state: 'refused', detail });
    };

    // 1. The owner check at confirmation (and on each resumed run): plain reads, one $batch.
    const context = await retryTransient(
      () =>
        directory.getInviteContext({
          actorId: command.actor.userId,
          groupId: command.groupId,
          appId: command.appId,
          email: command.addresses[0] ?? '',
        }),
      this.policy(),
    );
    if (context.app) app = { id: context.app.id, displayName: context.app.displayName };
    if (context.group) group = { id: context.group.id, displayName: context.group.displayName };
    const open: AddressState[] = ['pending', 'inviting', 'invited', 'existing', 'waiting'];
    if (!context.group || !context.app || !context.actorIsOwner || !context.groupAssignedToApp) {
      await stopAll(open, msg('bulk:reason.notOwner', { group: group.displayName || command.groupId }));
      await flush();
      return { outcome: summary('stopped'), failed: false };
    }
    const checkedAt = this.clock().getTime();
    const redirectUrl = invitationRedirect(context.app, this.options.defaultRedirectUrl);
    const invitesAllowed = !(
      context.allowInvitesFrom === 'none' || context.allowInvitesFrom === 'adminsAndGuestInviters'
    );

    // 2. Look up the addresses not settled yet (an address marked `inviting` may have been invited before a crash).
    const toLookUp = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.state === 'pending' || e.state === 'inviting');
    if (toLookUp.length > 0) {
      const found = await retryTransient(
        () => directory.findUsersByEmails(toLookUp.map(({ e }) => e.address)),
        this.policy(),
      );
      for (const { e, i } of toLookUp) {
        const user = found.get(e.address);
        if (user)
          await record(i, {
            address: e.address,
            state: e.state === 'inviting' ? 'invited' : 'existing',
            userId: user.id,
            invited: e.state === 'inviting',
            since: this.clock().toISOString(),
          });
      }
    }
    // 3. Existing users (and users of an earlier run) that are members already are skipped.
    const toCheck = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => (e.state === 'existing' || e.state === 'invited' || e.state === 'waiting') && e.userId);
    if (toCheck.length > 0) {
      const members = await retryTransient(
        () =>
          directory.membersAmong(
            command.groupId,
            toCheck.map(({ e }) => e.userId!),
          ),
        this.policy(),
      );
      for (const { e, i } of toCheck) {
        if (members.has(e.userId!)) await record(i, { ...e, state: e.invited ? 'added' : 'member' });
      }
    }
    await progress();

    // 4. Invitations, 20 a $batch.
    const newOnes = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.state === 'pending' || e.state === 'inviting');
    if (!invitesAllowed) {
      for (const { e, i } of newOnes)
        await record(i, { ...e, state: 'refused', detail: msg('bulk:reason.invitesNotAllowed') });
    } else {
      for (const chunk of chunks(newOnes)) {
        // Resumed `inviting` addresses not found by the look-up may still be replicating: confirm before sending again.
        const unsure = chunk.filter(({ e }) => e.state === 'inviting');
        const confirmed =
          unsure.length > 0 ? await this.confirmInvited(unsure.map(({ e }) => e.address)) : new Map<string, string>();
        for (const { e, i } of chunk) {
          const userId = confirmed.get(e.address);
          if (userId) {
            await record(i, {
              address: e.address,
              state: 'invited',
              userId,
              invited: true,
              since: this.clock().toISOString(),
            });
          } else if (e.state !== 'inviting') await record(i, { ...e, state: 'inviting' });
        }
        await flush();
        const email = (i: number): InvitationEmail => {
          const own = command.personal?.[i];
          return {
            message: own?.message ?? command.message,
            language: command.language ?? null,
            send: own ? own.send : true,
          };
        };
        await this.inviteChunk(
          chunk.filter(({ i }) => entries[i].state === 'inviting'),
          entries,
          record,
          redirectUrl,
          email,
        );
        await progress();
      }
    }

    // 5. Memberships, 20 a PATCH; the owner is read again first when the job is old.
    if (this.clock().getTime() - checkedAt > this.options.recheckAfterMs) {
      const owners = await retryTransient(() => directory.listGroupOwners(command.groupId), this.policy());
      if (!owners.some((o) => o.id === command.actor.userId)) {
        await stopAll(['invited', 'existing', 'waiting'], msg('bulk:reason.notOwner', { group: group.displayName }));
        await flush();
        return { outcome: summary('stopped'), failed: false };
      }
    }
    const toAdd = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => (e.state === 'existing' || e.state === 'invited' || e.state === 'waiting') && e.userId);
    // Existing users first: they are visible at once, so their chunks are not refused for replication lag.
    toAdd.sort((a, b) => Number(a.e.state !== 'existing') - Number(b.e.state !== 'existing'));
    for (const chunk of chunks(toAdd)) {
      await this.addChunk(command.groupId, chunk, entries, record);
      await progress();
    }

    const waiting = entries.filter((e) => e.state === 'waiting');
    const failed = entries.some((e) => e.state === 'failed');
    logger.info('bulk.run', { operationId: command.operationId, ...counts(entries) });
    if (waiting.length > 0) {
      const oldest = Math.min(...waiting.map((e) => Date.parse(e.since ?? this.clock().toISOString())));
      const waited = this.clock().getTime() - oldest;
      if (waited < this.options.replicationWaitMs) {
        return {
          outcome: summary('running'),
          failed: false,
          retryAt: new Date(this.clock().getTime() + replicationRetryDelay(waited)),
        };
      }
      for (const [i, e] of entries.entries())
        if (e.state === 'waiting')
          await record(i, { ...e, state: 'failed', detail: msg('bulk:reason.replicationTimeout') });
    }
    await flush();
    return { outcome: summary('finished'), failed: failed || entries.some((e) => e.state === 'failed') };
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

  /** Users that exist now for these addresses, read a few times apart (a new user may take a moment to show). */
  private async confirmInvited(addresses: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let left = [...addresses];
    for (const wait of this.options.confirmBackoffMs ?? [500, 1500, 3000]) {
      if (left.length === 0) break;
      await this.sleep(wait);
      const users = await retryTransient(() => this.options.directory.findUsersByEmails(left), this.policy());
      for (const address of left) {
        const user = users.get(address);
        if (user) found.set(address, user.id);
      }
      left = left.filter((a) => !found.has(a));
    }
    return found;
  }

  private async inviteChunk(
    chunk: Array<{ e: AddressResult; i: number }>,
    entries: AddressResult[],
    record: (i: number, result: AddressResult) => Promise<void>,
    redirectUrl: string,
    email: (i: number) => InvitationEmail,
  ): Promise<void> {
    let left = chunk;
    const budget = this.policy().budget;
    for (let attempt = 0; left.length > 0; attempt++) {
      await this.pace(left.length);
      let answers: Map<string, InvitationResult | DirectoryError>;
      try {
        answers = await this.options.directory.inviteGuests(
          left.map(({ e, i }) => ({ key: String(i), email: e.address, redirectUrl, ...email(i) })),
        );
      } catch (err) {
        if (!(err instanceof DirectoryError)) throw err;
        answers = new Map(left.map(({ i }) => [String(i), err]));
      }
      const again: typeof left = [];
      const unsure: typeof left = [];
      let waitMs = 0;
      for (const item of left) {
        const answer = answers.get(String(item.i));
        if (answer && !(answer instanceof DirectoryError)) {
          await record(item.i, {
            address: item.e.address,
            state: 'invited',
            userId: answer.userId,
            invited: true,
            since: this.clock().toISOString(),
          });
        } else if (answer?.kind === 'throttled') {
          again.push(item);
          waitMs = Math.max(waitMs, (answer.retryAfterSeconds ?? 2 ** attempt) * 1000);
        } else if (!answer || answer.kind === 'unavailable' || answer.kind === 'unknown') {
          unsure.push(item);
          waitMs = Math.max(waitMs, answer?.retryAfterSeconds ? answer.retryAfterSeconds * 1000 : 0);
        } else if (answer.kind === 'forbidden') {
          await record(item.i, {
            ...entries[item.i],
            state: 'refused',
            detail: isPermissionDenied(answer)
              ? msg('bulk:reason.writeRefused', { detail: answer.permission ?? answer.code })
              : msg('bulk:reason.invitesNotAllowed'),
          });
        } else {
          await record(item.i, {
            ...entries[item.i],
            state: 'refused',
            detail: msg('bulk:reason.invitationRefused', { detail: graphDetail(answer.code, answer.message) }),
          });
        }
      }
      // An item answered 5xx/504 (or missing) may have been carried out: look it up before sending it again.
      if (unsure.length > 0) {
        const confirmed = await this.confirmInvited(unsure.map(({ e }) => e.address));
        for (const item of unsure) {
          const userId = confirmed.get(item.e.address);
          if (userId) {
            this.options.logger.info('graph.write.confirmed', { step: 'bulkInvite', position: item.i });
            await record(item.i, {
              address: item.e.address,
              state: 'invited',
              userId,
              invited: true,
              since: this.clock().toISOString(),
            });
          } else again.push(item);
        }
      }
      if (again.length > 0 && attempt >= budget) {
        for (const item of again)
          await record(item.i, {
            ...entries[item.i],
            state: 'failed',
            detail: msg('bulk:reason.failed', { detail: msg('bulk:reason.noAnswer') }),
          });
        return;
      }
      if (again.length > 0 && waitMs > 0) await this.sleep(waitMs);
      left = again;
    }
  }

  private async addChunk(
    groupId: string,
    chunk: Array<{ e: AddressResult; i: number }>,
    entries: AddressResult[],
    record: (i: number, result: AddressResult) => Promise<void>,
  ): Promise<void> {
    const { directory } = this.options;
    const added = async (item: { e: AddressResult; i: number }, wasAdded = true): Promise<void> =>
      record(item.i, { ...entries[item.i], state: wasAdded || entries[item.i].invited ? 'added' : 'member' });
    let left = chunk;
    const budget = this.policy().budget;
    const backoff = this.options.replicationBackoffMs ?? [500, 1000, 2000];
    let lagRetries = 0;
    for (let attempt = 0; left.length > 0; attempt++) {
      try {
        await directory.addGroupMembers(
          groupId,
          left.map(({ e }) => e.userId!),
        );
        for (const item of left) await added(item);
        return;
      } catch (err) {
        if (!(err instanceof DirectoryError)) throw err;
        if ((err.kind === 'throttled' || err.kind === 'unavailable') && attempt < budget) {
          if (err.kind === 'unavailable') {
            // The PATCH may have been carried out: read who is a member now and send only the rest.
            const members = await retryTransient(
              () =>
                directory.membersAmong(
                  groupId,
                  left.map(({ e }) => e.userId!),
                ),
              this.policy(),
            );
            for (const item of left) if (members.has(item.e.userId!)) await added(item);
            left = left.filter(({ e }) => !members.has(e.userId!));
          }
          await this.sleep(
            err.retryAfterSeconds !== null ? err.retryAfterSeconds * 1000 : Math.min(8000, 250 * 2 ** attempt),
          );
          continue;
        }
        // A chunk of just-invited guests refused as not found: replication lag; the whole chunk is tried again a few times.
        if (lagging(err) && left.every(({ i }) => entries[i].invited) && lagRetries < backoff.length) {
          await this.sleep(backoff[lagRetries++]);
          continue;
        }
        if (err.kind === 'forbidden' || err.kind === 'notFound' || err.kind === 'badRequest') {
          // All or none: one member already there, or one user not replicated yet, refuses the chunk. Add one by one.
          this.options.logger.info('bulk.chunk.refused', { code: err.code, size: left.length });
          await Promise.all(left.map((item) => this.addOne(groupId, item, entries, record)));
          return;
        }
        for (const item of left)
          await record(item.i, {
            ...entries[item.i],
            state: 'failed',
            detail: msg('bulk:reason.failed', { detail: graphDetail(err.code, err.message) }),
          });
        return;
      }
    }
  }

  private async addOne(
    groupId: string,
    item: { e: AddressResult; i: number },
    entries: AddressResult[],
    record: (i: number, result: AddressResult) => Promise<void>,
  ): Promise<void> {
    const { directory } = this.options;
    const userId = item.e.userId!;
    const backoff = this.options.replicationBackoffMs ?? [500, 1000, 2000];
    try {
      const result = await retryWrite(
        async () => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await directory.addGroupMember(groupId, userId);
            } catch (err) {
              if (!lagging(err) || !item.e.invited || attempt >= backoff.length) throw err;
              await this.sleep(backoff[attempt]);
            }
          }
        },
        async () =>
          (await directory.checkMemberGroups(userId, [groupId])).has(groupId) ? { added: true, requestId: null } : null,
        this.policy(),
      );
      await record(item.i, { ...entries[item.i], state: result.added || entries[item.i].invited ? 'added' : 'member' });
    } catch (err) {
      if (lagging(err) && item.e.invited) {
        await record(item.i, {
          ...entries[item.i],
          state: 'waiting',
          since: entries[item.i].since ?? this.clock().toISOString(),
        });
      } else if (
        err instanceof DirectoryError &&
        (err.kind === 'forbidden' || err.kind === 'badRequest' || err.kind === 'notFound')
      ) {
        await record(item.i, {
          ...entries[item.i],
          state: 'refused',
          detail: msg('bulk:reason.writeRefused', { detail: graphDetail(err.code, err.message) }),
        });
      } else {
        const detail = err instanceof DirectoryError ? graphDetail(err.code, err.message) : String(err).slice(0, 300);
        await record(item.i, { ...entries[item.i], state: 'failed', detail: msg('bulk:reason.failed', { detail }) });
      }
    }
  }
}
