/**
 * One run of a bulk job (its first run or a resumed one): the entries of its addresses as recorded so far, and the
 * steps that move them on, one method each: the owner check, the look-up of existing users and members, the
 * invitations, the owner check again for an old job, the memberships and the end. Step results are written
 * together (`OperationSteps.doneAll`): before a write goes out (its intent) and after each chunk.
 */
import type { Directory } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { JsonObject } from '../../store/store';
import { invitationRedirect } from '../invite/redirect';
import { msg, type Msg } from '../shared/message';
import type { OperationSteps } from '../shared/operations';
import { replicationRetryDelay, retryTransient, type RetryPolicy, type WaitSchedules } from '../shared/retry';
import { addChunk } from './memberships';
import { inviteChunk } from './invitations';
import { counts, type AddressResult, type AddressState, type BulkCommand, type BulkSummary } from './model';

/** What a run uses from its service. */
export interface BulkRunTools {
  directory: Directory;
  logger: Logger;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  policy: RetryPolicy;
  waits: WaitSchedules;
  /** Waits while the job would pass its share of the `/invitations` limit (shared by the service's runs). */
  pace: (n: number) => Promise<void>;
  defaultRedirectUrl: string;
  /** Owners are read again before the membership writes when the job is older than this (BULK_RECHECK_AFTER). */
  recheckAfterMs: number;
  /** How long after its invitation an address hidden by replication lag is waited for (REPLICATION_WAIT). */
  replicationWaitMs: number;
}

/** An address of the job as it was when a step picked it, and its position in the list (its step is `a<i>`). */
export interface Slot {
  e: AddressResult;
  i: number;
}

/** What the operation runner gets back from a run. */
export interface RunEnd {
  outcome: BulkSummary;
  failed: boolean;
  retryAt?: Date;
}

/** What the owner check lets the invitations use. */
interface Checked {
  redirectUrl: string;
  invitesAllowed: boolean;
}

/** Invitations go 20 a `$batch`, memberships 20 a PATCH. */
export const BULK_CHUNK = 20;

const chunks = <T>(items: readonly T[], size = BULK_CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** States of an address that has a user and is not in the group yet (as far as the job knows). */
const USER_KNOWN: AddressState[] = ['existing', 'invited', 'waiting'];

export class BulkRun {
  readonly entries: AddressResult[];
  private app: { id: string; displayName: string };
  private group: { id: string; displayName: string };
  /** Step results recorded but not written yet. */
  private readonly unsaved = new Map<number, JsonObject>();

  constructor(
    readonly tools: BulkRunTools,
    private readonly steps: OperationSteps,
    readonly command: BulkCommand,
  ) {
    this.entries = command.addresses.map((address, i) => entryFrom(steps.record.steps[`a${i}`]?.result, address));
    this.app = { id: command.appId, displayName: '' };
    this.group = { id: command.groupId, displayName: '' };
  }

  /** The steps in order; a refused owner check stops the job. */
  async execute(): Promise<RunEnd> {
    const checked = await this.checkOwner();
    if (!checked) return { outcome: this.summary('stopped'), failed: false };
    const checkedAt = this.tools.clock().getTime();
    await this.lookUpUsers();
    await this.skipMembers();
    await this.progress();
    await this.inviteNew(checked);
    if (!(await this.ownerStill(checkedAt))) return { outcome: this.summary('stopped'), failed: false };
    await this.addMembers();
    return this.finish();
  }

  /** 1. The owner check at confirmation (and on each resumed run): plain reads, one $batch. */
  private async checkOwner(): Promise<Checked | null> {
    const { command } = this;
    const context = await retryTransient(
      () =>
        this.tools.directory.getInviteContext({
          actorId: command.actor.userId,
          groupId: command.groupId,
          appId: command.appId,
          email: command.addresses[0] ?? '',
        }),
      this.tools.policy,
    );
    if (context.app) this.app = { id: context.app.id, displayName: context.app.displayName };
    if (context.group) this.group = { id: context.group.id, displayName: context.group.displayName };
    if (!context.group || !context.app || !context.actorIsOwner || !context.groupAssignedToApp) {
      const open: AddressState[] = ['pending', 'inviting', ...USER_KNOWN];
      this.stopAll(open, msg('bulk:reason.notOwner', { group: this.group.displayName || command.groupId }));
      await this.flush();
      return null;
    }
    return {
      redirectUrl: invitationRedirect(context.app, this.tools.defaultRedirectUrl),
      invitesAllowed: !(context.allowInvitesFrom === 'none' || context.allowInvitesFrom === 'adminsAndGuestInviters'),
    };
  }

  /** 2. Looks up the addresses not settled yet (one marked `inviting` may have been invited before a crash). */
  private async lookUpUsers(): Promise<void> {
    const toLookUp = this.slots(['pending', 'inviting']);
    if (toLookUp.length === 0) return;
    const found = await retryTransient(
      () => this.tools.directory.findUsersByEmails(toLookUp.map(({ e }) => e.address)),
      this.tools.policy,
    );
    for (const { e, i } of toLookUp) {
      const user = found.get(e.address);
      if (user)
        this.record(i, {
          address: e.address,
          state: e.state === 'inviting' ? 'invited' : 'existing',
          userId: user.id,
          invited: e.state === 'inviting',
          since: this.tools.clock().toISOString(),
        });
    }
  }

  /** 3. Existing users (and users of an earlier run) that are members already are skipped. */
  private async skipMembers(): Promise<void> {
    const toCheck = this.slots(USER_KNOWN).filter(({ e }) => e.userId);
    if (toCheck.length === 0) return;
    const members = await retryTransient(
      () =>
        this.tools.directory.membersAmong(
          this.command.groupId,
          toCheck.map(({ e }) => e.userId!),
        ),
      this.tools.policy,
    );
    for (const { e, i } of toCheck) {
      if (members.has(e.userId!)) this.record(i, { ...e, state: e.invited ? 'added' : 'member' });
    }
  }

  /** 4. Invitations, 20 a $batch (all refused when the tenant lets no member invite). */
  private async inviteNew(checked: Checked): Promise<void> {
    const newOnes = this.slots(['pending', 'inviting']);
    if (!checked.invitesAllowed) {
      for (const { e, i } of newOnes)
        this.record(i, { ...e, state: 'refused', detail: msg('bulk:reason.invitesNotAllowed') });
      return;
    }
    for (const chunk of chunks(newOnes)) {
      await inviteChunk(this, chunk, checked.redirectUrl);
      await this.progress();
    }
  }

  /** 5a. When the job is old, the owner is read again before the membership writes; false (all stopped) if gone. */
  private async ownerStill(checkedAt: number): Promise<boolean> {
    if (this.tools.clock().getTime() - checkedAt <= this.tools.recheckAfterMs) return true;
    const owners = await retryTransient(
      () => this.tools.directory.listGroupOwners(this.command.groupId),
      this.tools.policy,
    );
    if (owners.some((o) => o.id === this.command.actor.userId)) return true;
    this.stopAll(USER_KNOWN, msg('bulk:reason.notOwner', { group: this.group.displayName }));
    await this.flush();
    return false;
  }

  /** 5b. Memberships, 20 a PATCH. */
  private async addMembers(): Promise<void> {
    const toAdd = this.slots(USER_KNOWN).filter(({ e }) => e.userId);
    // Existing users first: they are visible at once, so their chunks are not refused for replication lag.
    toAdd.sort((a, b) => Number(a.e.state !== 'existing') - Number(b.e.state !== 'existing'));
    for (const chunk of chunks(toAdd)) {
      await addChunk(this, chunk);
      await this.progress();
    }
  }

  /**
   * 6. The end: addresses still hidden by replication lag make the job go on later (`retryAt`) until
   * REPLICATION_WAIT has passed; then they fail.
   */
  private async finish(): Promise<RunEnd> {
    const { clock, logger } = this.tools;
    const waiting = this.entries.filter((e) => e.state === 'waiting');
    const failed = this.entries.some((e) => e.state === 'failed');
    logger.info('bulk.run', { operationId: this.command.operationId, ...counts(this.entries) });
    if (waiting.length > 0) {
      const oldest = Math.min(...waiting.map((e) => Date.parse(e.since ?? clock().toISOString())));
      const waited = clock().getTime() - oldest;
      if (waited < this.tools.replicationWaitMs) {
        const retryAt = new Date(clock().getTime() + replicationRetryDelay(waited));
        return { outcome: this.summary('running'), failed: false, retryAt };
      }
      for (const [i, e] of this.entries.entries())
        if (e.state === 'waiting')
          this.record(i, { ...e, state: 'failed', detail: msg('bulk:reason.replicationTimeout') });
    }
    await this.flush();
    return { outcome: this.summary('finished'), failed: failed || this.entries.some((e) => e.state === 'failed') };
  }

  /** The entries in one of these states, with their positions. */
  private slots(states: readonly AddressState[]): Slot[] {
    return this.entries.map((e, i) => ({ e, i })).filter(({ e }) => states.includes(e.state));
  }

  /** Sets an address's result; it is written with the next `flush`. */
  record(i: number, result: AddressResult): void {
    this.entries[i] = result;
    this.unsaved.set(i, storedForm(result));
  }

  /** Records an address as invited now, as the user `userId`. */
  markInvited(i: number, userId: string): void {
    const since = this.tools.clock().toISOString();
    this.record(i, { address: this.entries[i].address, state: 'invited', userId, invited: true, since });
  }

  /** Records an address as in the group: `added` by this job (or invited by it), else a `member` already. */
  markAdded(i: number, wasAdded: boolean): void {
    const entry = this.entries[i];
    this.record(i, { ...entry, state: wasAdded || entry.invited ? 'added' : 'member' });
  }

  /** Writes the recorded results not written yet, together. */
  async flush(): Promise<void> {
    const results = [...this.unsaved].map(([i, result]) => ({ name: `a${i}`, result }));
    this.unsaved.clear();
    await this.steps.doneAll(results);
  }

  /** Writes the results and shows the job's progress. */
  private async progress(): Promise<void> {
    await this.flush();
    this.command.onProgress?.(this.summary('running'));
  }

  private stopAll(states: readonly AddressState[], detail: Msg): void {
    for (const [i, e] of this.entries.entries())
      if (states.includes(e.state)) this.record(i, { ...e, state: 'refused', detail });
  }

  private summary(status: BulkSummary['status']): BulkSummary {
    return {
      kind: 'bulk',
      operationId: this.command.operationId,
      status,
      app: this.app,
      group: this.group,
      message: this.command.message,
      entries: this.entries.map((e) => ({ ...e })),
    };
  }
}

/** An address's entry from its recorded step: a failed one is tried again (a reopened job), the rest resume. */
function entryFrom(recorded: JsonObject | undefined, address: string): AddressResult {
  const state = (recorded as Partial<AddressResult> | undefined)?.state;
  return recorded && state && state !== 'failed'
    ? { ...(recorded as unknown as AddressResult), address }
    : { address, state: 'pending' };
}

/** The stored form of an address's result (a step result). */
function storedForm(result: AddressResult): JsonObject {
  const stored: JsonObject = { state: result.state };
  if (result.userId) stored.userId = result.userId;
  if (result.invited !== undefined) stored.invited = result.invited;
  if (result.detail)
    stored.detail =
      typeof result.detail === 'string' ? result.detail.slice(0, 300) : (result.detail as unknown as JsonObject);
  if (result.since) stored.since = result.since;
  return stored;
}
