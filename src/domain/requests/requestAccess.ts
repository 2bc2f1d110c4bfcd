/**
 * Use case: anyone asks for membership of an app's self-service group; the group's owners decide.
 * The first decision wins (compare-and-set on the request's version); an approval adds the requester to the
 * group as an operation record, so it happens once however often or concurrently owners click.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logging';
import type { GuestRecorder } from '../guests/records';
import { DirectoryError, type CatalogApp, type Directory, type GroupOwner } from '../../graph/directory';
import {
  ConflictError,
  DuplicateRequestError,
  type AccessRequestPatch,
  type AccessRequestRecord,
  type AuditEntry,
  type JsonObject,
  type NewOperation,
  type OperationPatch,
  type OperationRecord,
  type OwnerCard,
  type Store,
} from '../../store/store';
import { msg, type Msg } from '../shared/message';
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
  type Offer,
} from '../shared/model';
import { OperationRunner, type OperationEnd, type OperationSteps } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { Catalog } from '../shared/catalog';
import { defaultSleep, retryWrite, transientPolicy } from '../shared/retry';
import { retryOnConflict } from '../shared/retryOnConflict';
import type { HourlyLimiter } from '../shared/rateLimit';
import { cleanText } from '../shared/text';

export const JUSTIFICATION_MAX = 500;
export const COMMENT_MAX = 500;
/** Owners messaged at the same time (Teams allows about 50 requests per second per app and tenant). */
const DELIVERY_CONCURRENCY = 4;

/** Delivers request cards and notices to people (Teams in production); the domain never sees channel types. */
export interface ApprovalMessenger {
  /** Puts an approval card in an owner's 1:1 chat; returns where it is, or why it could not. */
  /** `unreachable`: why the owner cannot be reached in Teams now (e.g. permissionMissing), when that is why. */
  sendApprovalCard(
    request: AccessRequestRecord,
    owner: GroupOwner,
    reason: 'new' | 'reminder' | 'resend',
  ): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string; unreachable?: string }>;
  /** Brings every delivered copy of the approval card up to the request's current state. */
  updateApprovalCards(request: AccessRequestRecord): Promise<void>;
  /** Tells the requester what happened to their request. */
  notifyRequester(request: AccessRequestRecord, event: 'decided' | 'expired'): Promise<boolean>;
}

export type RequestRefusal =
  | 'notOffered'
  | 'justification'
  | 'alreadyMember'
  | 'duplicate'
  | 'groupBlocked'
  | 'noOwners'
  | 'notFound'
  | 'notOwner'
  | 'selfDecision'
  | 'comment'
  | 'rateLimited';

export interface Refused {
  kind: 'refused';
  reason: RequestRefusal;
  message: Msg;
}

/** An owner the approval card did not reach, and why when Teams said (an UnreachableReason of the bot), else null. */
export interface UnreachableOwner {
  name: string;
  reason: string | null;
}

export type CreateOutcome =
  | {
      kind: 'created';
      request: AccessRequestRecord;
      reached: string[];
      unreachable: string[];
      unreachableOwners: UnreachableOwner[];
    }
  | Refused;
export type DecideOutcome =
  | { kind: 'decided'; request: AccessRequestRecord }
  | { kind: 'alreadyDecided'; request: AccessRequestRecord }
  | Refused;
export type WithdrawOutcome =
  | { kind: 'withdrawn'; request: AccessRequestRecord }
  | { kind: 'alreadyDecided'; request: AccessRequestRecord }
  | Refused;

export interface RequestAccessOptions {
  directory: Directory;
  store: Store;
  messenger: ApprovalMessenger;
  logger: Logger;
  clock?: () => Date;
  remindAfterMs: number;
  expireAfterMs: number;
  catalogTtlMs?: number;
  /** The self-service catalog (shared with the invite flow); one is made from `directory` when absent. */
  catalog?: Catalog;
  instanceId?: string;
  /** Told when a setup problem stops someone (admin alerts). */
  onBlocked?: BlockedReporter;
  /** Per-user allowance of new requests (INVITES_PER_USER_PER_HOUR). */
  limiter?: HourlyLimiter;
  /** How long a runner holds an approval's membership write before another process may resume it. */
  leaseMs?: number;
  /** Retries of the membership write after throttling or a 5xx (beyond the Graph client's own). */
  transientRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Keeps the bot's record (and sponsor) of each guest an approval adds. */
  guestRecorder?: GuestRecorder;
}

/** Operation records of approvals: the membership write of request {id} is `approve:{id}`. */
export const APPROVAL_OPERATION_KIND = 'approveRequest';
/** The kind earlier versions gave these records; they are resumed the same way. */
const LEGACY_APPROVAL_KIND = 'addMember';
export const APPROVAL_OPERATION_KINDS = [APPROVAL_OPERATION_KIND, LEGACY_APPROVAL_KIND];
const APPROVAL_ID_PREFIX = 'approve:';
export const approvalOperationId = (requestId: string): string => `${APPROVAL_ID_PREFIX}${requestId}`;

function approvalOperation(request: AccessRequestRecord, approverId: string): NewOperation {
  return {
    id: approvalOperationId(request.id),
    kind: APPROVAL_OPERATION_KIND,
    tenantId: request.tenantId,
    actorId: approverId,
    input: { requestId: request.id, groupId: request.groupId, userId: request.requesterId },
  };
}

type AuditFields = Omit<AuditEntry, 'time' | 'tenantId'>;

function refused(reason: RequestRefusal, message: Msg): Refused {
  return { kind: 'refused', reason, message };
}

function simplify(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Apps whose name matches what the user typed: exact, then prefix or contained, then every word present. */
/** Groups of an app that can take members and have an owner to decide. */
function usableGroups(app: CatalogApp): CatalogApp['groups'] {
  return app.groups.filter((g) => groupBlockers(g.group).length === 0 && g.ownerCount > 0);
}

export function matchApps<T extends { displayName: string }>(apps: readonly T[], query: string): T[] {
  const q = simplify(query);
  if (!q) return [...apps];
  const exact = apps.filter((a) => simplify(a.displayName) === q);
  if (exact.length > 0) return exact;
  const contained = apps.filter((a) => simplify(a.displayName).includes(q));
  if (contained.length > 0) return contained;
  const words = q.split(' ');
  return apps.filter((a) => {
    const name = simplify(a.displayName).split(' ');
    return words.every((w) => name.some((n) => n.startsWith(w) || (w.length > 3 && n.includes(w))));
  });
}

export class RequestAccessService {
  private readonly clock: () => Date;
  private readonly runner: OperationRunner;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly catalog: Catalog;

  constructor(private readonly options: RequestAccessOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    this.runner = new OperationRunner(
      options.store.operations,
      this.clock,
      options.instanceId ?? randomUUID(),
      options.leaseMs,
    );
    this.catalog = options.catalog ?? new Catalog(options.directory, this.clock, options.catalogTtlMs);
  }

  private audit(tenantId: string, entry: AuditFields): Promise<number> {
    return this.options.store.audit.append({ time: this.clock().toISOString(), tenantId, ...entry });
  }

  private blocked(report: BlockedReport): Promise<void> {
    return reportBlocked(this.options.onBlocked, this.options.logger, report);
  }

  private loadCatalog(): Promise<CatalogApp[]> {
    return this.catalog.apps();
  }

  /**
   * Self-service apps the user does not reach yet: groups that can take members, have owners, and do not have the
   * user. Membership is read with checkMemberGroups over the catalog's groups (memberOf needs Directory.Read.All
   * app-only: user-list-memberof.md).
   */
  async findRequestableApps(actor: Actor): Promise<AppChoice[]> {
    const catalog = await this.loadCatalog();
    const memberOf = await this.options.directory.checkMemberGroups(actor.userId, [
      ...new Set(catalog.flatMap((a) => a.groups.map((g) => g.group.id))),
    ]);
    const choices: AppChoice[] = [];
    for (const app of catalog) {
      if (app.groups.some((g) => memberOf.has(g.group.id))) continue;
      const groups = usableGroups(app)
        .map((g) => ({ id: g.group.id, displayName: g.group.displayName }))
        .sort((a, b) => a.displayName.localeCompare(b.displayName));
      if (groups.length > 0) choices.push({ id: app.id, displayName: app.displayName, groups });
    }
    return choices.sort((a, b) => a.displayName.localeCompare(b.displayName));
  }

  /**
   * The user asked for an app by name and it is not requestable: when the app exists but has no group that can take
   * members, that is a setup problem: the admins hear of it (a block) and the user is told why. Null otherwise.
   */
  async explainUnrequestable(actor: Actor, query: string): Promise<Msg | null> {
    const unusable = matchApps(
      (await this.loadCatalog()).filter((app) => usableGroups(app).length === 0),
      query,
    );
    if (unusable.length === 0) return null;
    for (const app of unusable) {
      await this.blocked({
        tenantId: actor.tenantId,
        actor,
        doing: msg('admin:doing.requesting', { app: app.displayName }),
        kind: 'appNoUsableGroup',
        app: { id: app.id, displayName: app.displayName },
        group: null,
      });
    }
    return msg('requests:unrequestable', { apps: unusable.map((a) => a.displayName).join(', ') });
  }

  checkJustification(raw: string | null | undefined): { ok: true; text: string } | { ok: false; message: Msg } {
    const text = cleanText(raw ?? '', { multiline: true });
    if (!text) return { ok: false, message: msg('requests:justification.empty') };
    if (text.length > JUSTIFICATION_MAX)
      return {
        ok: false,
        message: msg('requests:justification.tooLong', { length: text.length, max: JUSTIFICATION_MAX }),
      };
    return { ok: true, text };
  }

  recordForgedChoice(
    actor: Actor,
    detail: { appId?: string; groupId?: string; requestId?: string; verb?: string },
  ): Promise<void> {
    const { requestId, verb, ...ids } = detail;
    return recordForged(this.options.store.audit, this.options.logger, this.clock(), 'request.forged', actor, {
      ...ids,
      operationId: requestId,
      detail: `not offered or not allowed: ${verb ?? ''}`,
    });
  }

  async createRequest(command: {
    actor: Actor;
    appId: string;
    groupId: string;
    justification: string;
    offered: readonly Offer[];
  }): Promise<CreateOutcome> {
    const { actor } = command;
    const offer = command.offered.find((o) => o.appId === command.appId);
    if (!offer || !offer.groupIds.includes(command.groupId)) {
      await this.recordForgedChoice(actor, { appId: command.appId, groupId: command.groupId, verb: 'request.send' });
      return refused('notOffered', msg('requests:refused.notOffered'));
    }
    const justification = this.checkJustification(command.justification);
    if (!justification.ok) return refused('justification', justification.message);
    if (this.options.limiter && !(await this.options.limiter.take('request', actor.tenantId, actor.userId))) {
      return refused('rateLimited', msg('requests:refused.rateLimited'));
    }
    const app = (await this.loadCatalog()).find((a) => a.id === command.appId);
    const [context, owners] = await Promise.all([
      this.options.directory.getDecisionContext({
        deciderId: actor.userId,
        requesterId: actor.userId,
        groupId: command.groupId,
      }),
      this.options.directory.listGroupOwners(command.groupId),
    ]);
    const appName = app?.displayName ?? command.appId;
    const base = {
      actorId: actor.userId,
      actorName: actor.displayName,
      appId: command.appId,
      appName,
      groupId: command.groupId,
    };
    if (!context.group) return refused('notFound', msg('requests:refused.groupNotFound'));
    const groupName = context.group.displayName;
    if (context.requesterIsMember) {
      return refused('alreadyMember', msg('requests:refused.alreadyMember', { group: groupName, app: appName }));
    }
    const blockers = groupBlockers(context.group);
    const appRef = { id: command.appId, displayName: appName };
    const groupRef = { id: command.groupId, displayName: groupName };
    if (blockers.length > 0) {
      await this.audit(actor.tenantId, {
        ...base,
        groupName,
        action: 'setup.blocked',
        outcome: blockers[0],
        detail: 'membership request',
      });
      await this.blocked({
        tenantId: actor.tenantId,
        actor,
        doing: msg('admin:doing.requesting', { app: appName }),
        kind: blockerProblem[blockers[0]],
        app: appRef,
        group: groupRef,
      });
      return refused(
        'groupBlocked',
        msg('requests:refused.groupBlocked', { why: describeBlocker(blockers[0], groupName, appName) }),
      );
    }
    const approvers = owners.filter((o) => o.id !== actor.userId);
    if (approvers.length === 0) {
      await this.audit(actor.tenantId, {
        ...base,
        groupName,
        action: 'setup.blocked',
        outcome: 'noOwners',
        detail: 'membership request',
      });
      await this.blocked({
        tenantId: actor.tenantId,
        actor,
        doing: msg('admin:doing.requesting', { app: appName }),
        kind: 'groupNoOwners',
        app: appRef,
        group: groupRef,
      });
      return refused('noOwners', msg('requests:refused.noOwners', { group: groupName }));
    }
    let request: AccessRequestRecord;
    try {
      request = await this.options.store.requests.create(
        {
          id: randomUUID(),
          tenantId: actor.tenantId,
          requesterId: actor.userId,
          requesterName: actor.displayName,
          appId: command.appId,
          appName,
          groupId: command.groupId,
          groupName,
          justification: justification.text,
          ownerIds: approvers.map((o) => o.id),
        },
        this.clock(),
      );
    } catch (err) {
      if (err instanceof DuplicateRequestError) {
        return refused('duplicate', msg('requests:refused.duplicate', { group: groupName }));
      }
      throw err;
    }
    await this.audit(actor.tenantId, {
      ...base,
      groupName,
      action: 'request.created',
      outcome: 'pending',
      operationId: request.id,
    });
    const reasons = new Map<string, string>();
    const cards = await this.deliver(request, approvers, 'new', reasons);
    request = await this.appendOwnerCards(request.id, cards);
    const missed = cards.filter((c) => c.status === 'unreachable');
    return {
      kind: 'created',
      request,
      reached: cards.filter((c) => c.status === 'sent').map((c) => c.ownerName),
      unreachable: missed.map((c) => c.ownerName),
      unreachableOwners: missed.map((c) => ({ name: c.ownerName, reason: reasons.get(c.ownerId) ?? null })),
    };
  }

  /** Delivers to several owners at once (a few at a time), so one slow or unreachable owner does not hold up the rest. */
  private async deliver(
    request: AccessRequestRecord,
    owners: readonly GroupOwner[],
    reason: 'new' | 'reminder' | 'resend',
    unreachable?: Map<string, string>,
  ): Promise<OwnerCard[]> {
    const cards: OwnerCard[] = new Array(owners.length);
    const sendTo = async (owner: GroupOwner, index: number): Promise<void> => {
      const at = this.clock().toISOString();
      const sent: Awaited<ReturnType<ApprovalMessenger['sendApprovalCard']>> = await this.options.messenger
        .sendApprovalCard(request, owner, reason)
        .catch((err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }));
      if (!sent.ok && sent.unreachable) unreachable?.set(owner.id, sent.unreachable);
      if (sent.ok)
        cards[index] = {
          ownerId: owner.id,
          ownerName: owner.displayName,
          status: 'sent',
          location: sent.location,
          error: null,
          at,
        };
      else {
        cards[index] = {
          ownerId: owner.id,
          ownerName: owner.displayName,
          status: 'unreachable',
          location: null,
          error: sent.error.slice(0, 300),
          at,
        };
        this.options.logger.warn('request.owner.unreachable', {
          requestId: request.id,
          ownerId: owner.id,
          error: sent.error,
        });
      }
    };
    const queue = owners.map((owner, index) => ({ owner, index }));
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) await sendTo(next.owner, next.index);
    };
    await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, owners.length) }, worker));
    return cards;
  }

  /** Applies a change to a request whatever its version (retried compare-and-set), for bookkeeping fields. */
  private async patch(
    id: string,
    change: (current: AccessRequestRecord) => AccessRequestPatch | null,
  ): Promise<AccessRequestRecord> {
    return retryOnConflict(async () => {
      const current = await this.options.store.requests.get(id);
      if (!current) throw new Error(`Request ${id} disappeared`);
      const patch = change(current);
      if (!patch) return current;
      return this.options.store.requests.update(id, current.version, patch, this.clock());
    });
  }

  private appendOwnerCards(id: string, cards: OwnerCard[]): Promise<AccessRequestRecord> {
    return this.patch(id, (current) => (cards.length === 0 ? null : { ownerCards: [...current.ownerCards, ...cards] }));
  }

  /** The request, if this actor was asked to decide it (or decided it); otherwise undefined. */
  async viewForOwner(actor: Actor, requestId: string): Promise<AccessRequestRecord | undefined> {
    const request = await this.options.store.requests.get(requestId);
    if (!request || request.tenantId !== actor.tenantId) return undefined;
    return request.ownerIds.includes(actor.userId) || request.decidedBy === actor.userId ? request : undefined;
  }

  listMine(actor: Actor): Promise<AccessRequestRecord[]> {
    return this.options.store.requests.listByRequester(actor.tenantId, actor.userId, 20);
  }

  listPendingForOwner(actor: Actor): Promise<AccessRequestRecord[]> {
    return this.options.store.requests.listPendingForOwner(actor.tenantId, actor.userId, 20);
  }

  /** `pending requests`: a fresh copy of each waiting approval card in the owner's chat (kept up to date like the others). */
  async resendPendingCards(actor: Actor): Promise<number> {
    const pending = await this.listPendingForOwner(actor);
    for (const request of pending) {
      const cards = await this.deliver(request, [{ id: actor.userId, displayName: actor.displayName }], 'resend');
      await this.appendOwnerCards(request.id, cards);
    }
    return pending.length;
  }

  /** Withdraws the requester's own pending request; lost races are tried again from a fresh read. */
  withdraw(actor: Actor, requestId: string): Promise<WithdrawOutcome> {
    return retryOnConflict(() => this.withdrawOnce(actor, requestId));
  }

  private async withdrawOnce(actor: Actor, requestId: string): Promise<WithdrawOutcome> {
    const request = await this.options.store.requests.get(requestId);
    if (!request || request.tenantId !== actor.tenantId || request.requesterId !== actor.userId) {
      await this.recordForgedChoice(actor, { requestId, verb: 'request.withdraw' });
      return refused('notFound', msg('requests:refused.noSuchRequest'));
    }
    if (request.state !== 'pending') return { kind: 'alreadyDecided', request };
    let updated: AccessRequestRecord;
    try {
      updated = await this.options.store.requests.update(
        request.id,
        request.version,
        { state: 'withdrawn', decidedAt: this.clock().toISOString() },
        this.clock(),
      );
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const current = (await this.options.store.requests.get(requestId))!;
      if (current.state !== 'pending') return { kind: 'alreadyDecided', request: current };
      throw err;
    }
    await this.audit(actor.tenantId, {
      actorId: actor.userId,
      actorName: actor.displayName,
      action: 'request.withdrawn',
      outcome: 'withdrawn',
      appId: request.appId,
      appName: request.appName,
      groupId: request.groupId,
      groupName: request.groupName,
      operationId: request.id,
    });
    await this.options.messenger.updateApprovalCards(updated);
    return { kind: 'withdrawn', request: updated };
  }

  /**
   * An owner approves or denies. Checked on the server now: the request, the decider's ownership, the group.
   * A decision that loses the compare-and-set to another change of a still pending request is made again.
   */
  decide(actor: Actor, requestId: string, approve: boolean, rawComment: string | null): Promise<DecideOutcome> {
    return retryOnConflict(() => this.decideOnce(actor, requestId, approve, rawComment));
  }

  private async decideOnce(
    actor: Actor,
    requestId: string,
    approve: boolean,
    rawComment: string | null,
  ): Promise<DecideOutcome> {
    const request = await this.options.store.requests.get(requestId);
    if (!request || request.tenantId !== actor.tenantId) {
      await this.recordForgedChoice(actor, { requestId, verb: approve ? 'request.approve' : 'request.deny' });
      return refused('notFound', msg('requests:refused.requestGone'));
    }
    const base = {
      actorId: actor.userId,
      actorName: actor.displayName,
      appId: request.appId,
      appName: request.appName,
      groupId: request.groupId,
      groupName: request.groupName,
      operationId: request.id,
    };
    if (request.requesterId === actor.userId) {
      await this.audit(actor.tenantId, { ...base, action: 'request.decision.refused', outcome: 'selfDecision' });
      return refused('selfDecision', msg('requests:refused.selfDecision'));
    }
    if (request.state !== 'pending') {
      if (request.ownerIds.includes(actor.userId) || request.decidedBy === actor.userId)
        return { kind: 'alreadyDecided', request: await this.settled(request) };
    }
    const comment = cleanText(rawComment ?? '', { multiline: true });
    if (comment.length > COMMENT_MAX)
      return refused('comment', msg('requests:refused.commentTooLong', { length: comment.length, max: COMMENT_MAX }));
    const context = await this.options.directory.getDecisionContext({
      deciderId: actor.userId,
      requesterId: request.requesterId,
      groupId: request.groupId,
    });
    if (!context.deciderIsOwner) {
      await this.audit(actor.tenantId, {
        ...base,
        action: 'request.decision.refused',
        outcome: 'notOwner',
        graphRequestId: context.requestId ?? undefined,
      });
      return refused('notOwner', msg('requests:refused.notOwner', { group: request.groupName }));
    }
    if (request.state !== 'pending') return { kind: 'alreadyDecided', request: await this.settled(request) };
    if (approve && context.group) {
      const blockers = groupBlockers(context.group);
      if (blockers.length > 0) {
        await this.audit(actor.tenantId, {
          ...base,
          action: 'setup.blocked',
          outcome: blockers[0],
          detail: 'approval',
        });
        await this.blocked({
          tenantId: actor.tenantId,
          actor,
          doing: msg('admin:doing.approving', { requester: request.requesterName, app: request.appName }),
          kind: blockerProblem[blockers[0]],
          app: { id: request.appId, displayName: request.appName },
          group: { id: request.groupId, displayName: request.groupName },
        });
        return refused(
          'groupBlocked',
          msg('requests:refused.groupBlockedPending', {
            why: describeBlocker(blockers[0], request.groupName, request.appName),
          }),
        );
      }
    }
    if (approve) {
      // The intent is recorded before the decision, so a crash between the two leaves a record to finish.
      await this.options.store.operations.create(approvalOperation(request, actor.userId), this.clock());
    }
    let decided: AccessRequestRecord;
    try {
      decided = await this.options.store.requests.update(
        request.id,
        request.version,
        {
          state: approve ? 'approved' : 'denied',
          decidedBy: actor.userId,
          decidedByName: actor.displayName,
          decidedAt: this.clock().toISOString(),
          comment: comment || null,
        },
        this.clock(),
      );
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const current = (await this.options.store.requests.get(requestId))!;
      if (current.state !== 'pending') return { kind: 'alreadyDecided', request: await this.settled(current) };
      throw err;
    }
    await this.audit(actor.tenantId, {
      ...base,
      action: approve ? 'request.approved' : 'request.denied',
      outcome: approve ? 'approved' : 'denied',
      detail: comment || undefined,
      graphRequestId: context.requestId ?? undefined,
    });
    if (approve)
      return { kind: 'decided', request: await this.finishApproval(decided, context.requesterIsMember, true) };
    await this.options.messenger.updateApprovalCards(decided);
    await this.options.messenger.notifyRequester(decided, 'decided');
    return { kind: 'decided', request: decided };
  }

  /**
   * Carries out an approval's membership write once (operation record `approve:{id}`), stores what happened on the
   * request, and, when that changed, updates every owner's card and tells the requester.
   */
  private async finishApproval(
    request: AccessRequestRecord,
    knownMember = false,
    ownershipChecked = false,
  ): Promise<AccessRequestRecord> {
    let stored: AccessRequestRecord | null = null;
    const end: OperationEnd = async (record, patch, now) => {
      const ended = await this.endApproval(request.id, record, patch, now);
      stored = ended.request;
      return ended.record;
    };
    const run = await this.runner.run<JsonObject>(
      approvalOperation(request, request.decidedBy ?? ''),
      (steps) => this.addRequester(request.id, steps, knownMember, ownershipChecked && steps.record.attempts === 0),
      end,
    );
    if (run.kind === 'inProgress') return request;
    const membership = run.outcome;
    if (membership.membership === 'notApproved') return (await this.options.store.requests.get(request.id)) ?? request;
    let changed = stored !== null;
    // A record that had ended before (an earlier run) whose outcome did not reach the request yet.
    const final =
      stored ??
      (await this.patch(request.id, (current) => {
        if (current.outcome?.membership === membership.membership) return null;
        changed = true;
        return { outcome: membership };
      }));
    if (!changed) return final;
    await this.audit(final.tenantId, {
      actorId: final.decidedBy ?? 'system',
      actorName: final.decidedByName ?? undefined,
      action: 'membership.added',
      outcome: String(membership.membership),
      appId: final.appId,
      appName: final.appName,
      groupId: final.groupId,
      groupName: final.groupName,
      guestId: final.requesterId,
      operationId: final.id,
      graphRequestId: typeof membership.graphRequestId === 'string' ? membership.graphRequestId : undefined,
    });
    await this.options.messenger.updateApprovalCards(final);
    await this.options.messenger.notifyRequester(final, 'decided');
    return final;
  }

  /**
   * Ends an approval's record and stores its outcome on the request in one transaction, so neither is written
   * without the other. Returns the request when its outcome changed (null when there was nothing to store).
   * A request changed meanwhile (cards appended) is read again; a conflict on the record is the runner's.
   */
  private async endApproval(
    requestId: string,
    record: OperationRecord,
    patch: OperationPatch,
    now: Date,
  ): Promise<{ record: OperationRecord; request: AccessRequestRecord | null }> {
    const outcome = patch.result ?? null;
    let writingRequestId: string | null = null;
    return retryOnConflict(
      async () => {
        const request = await this.options.store.requests.get(requestId);
        writingRequestId = null;
        if (
          !request ||
          !outcome ||
          outcome.membership === 'notApproved' ||
          request.outcome?.membership === outcome.membership
        ) {
          return {
            record: await this.options.store.operations.update(record.id, record.version, patch, now),
            request: null,
          };
        }
        writingRequestId = request.id;
        const both = await this.options.store.updateOperationAndRequest(
          { id: record.id, expectedVersion: record.version, patch },
          { id: request.id, expectedVersion: request.version, patch: { outcome } },
          now,
        );
        return { record: both.operation, request: both.request };
      },
      { retryIf: (err) => writingRequestId !== null && err.key === writingRequestId },
    );
  }

  /** The body of an approval's operation: adds the requester unless the request is not approved (any more). */
  private async addRequester(
    requestId: string,
    steps: OperationSteps,
    knownMember: boolean,
    ownershipChecked: boolean,
  ): Promise<{ outcome: JsonObject; failed: boolean }> {
    const request = await this.options.store.requests.get(requestId);
    if (!request || request.state !== 'approved') return { outcome: { membership: 'notApproved' }, failed: false };
    const previous = steps.record.steps.addMember;
    if (previous?.result) {
      return {
        outcome: {
          membership: previous.result.added === true ? 'added' : 'alreadyMember',
          graphRequestId: previous.graphRequestId ?? null,
        },
        failed: false,
      };
    }
    if (knownMember) return { outcome: { membership: 'alreadyMember' }, failed: false };
    // Finished later (a retry or a resume): the approver must still own the group at the moment of the write.
    if (!ownershipChecked) {
      const context = await this.options.directory.getDecisionContext({
        deciderId: request.decidedBy ?? '',
        requesterId: request.requesterId,
        groupId: request.groupId,
      });
      if (!request.decidedBy || !context.deciderIsOwner) {
        await this.audit(request.tenantId, {
          actorId: request.decidedBy ?? 'system',
          actorName: request.decidedByName ?? undefined,
          action: 'request.approval.refused',
          outcome: 'approverNotOwner',
          appId: request.appId,
          appName: request.appName,
          groupId: request.groupId,
          groupName: request.groupName,
          operationId: steps.record.id,
          graphRequestId: context.requestId ?? undefined,
        });
        return { outcome: { membership: 'approverNotOwner' }, failed: false };
      }
      if (context.requesterIsMember) return { outcome: { membership: 'alreadyMember' }, failed: false };
    }
    try {
      const result = await retryWrite(
        () => this.options.directory.addGroupMember(request.groupId, request.requesterId),
        // After a 5xx or timeout the add may have happened: read before writing again.
        async () =>
          (await this.options.directory.checkMemberGroups(request.requesterId, [request.groupId])).has(request.groupId)
            ? { added: true, requestId: null }
            : null,
        transientPolicy(this.options, this.sleep),
      );
      await steps.done('addMember', { added: result.added }, result.requestId);
      if (result.added) await this.recordGuest(request, steps.record.id);
      return {
        outcome: { membership: result.added ? 'added' : 'alreadyMember', graphRequestId: result.requestId },
        failed: false,
      };
    } catch (err) {
      const error = err instanceof DirectoryError ? err : null;
      this.options.logger.error('request.membership.failed', {
        requestId,
        code: error?.code,
        graphRequestId: error?.requestId ?? undefined,
        error: err,
      });
      // Refused by the directory (the group changed, a permission is missing): retrying as it is will not help.
      const refusedWrite = error !== null && (error.kind === 'forbidden' || error.kind === 'badRequest');
      return {
        outcome: {
          membership: refusedWrite ? 'refused' : 'failed',
          code: error?.code ?? 'Unexpected',
          graphRequestId: error?.requestId ?? null,
        },
        failed: !refusedWrite,
      };
    }
  }

  /** A guest the approval added is kept in the bot's records with the approver as sponsor (members are not). */
  private async recordGuest(request: AccessRequestRecord, operationId: string): Promise<void> {
    const recorder = this.options.guestRecorder;
    if (!recorder || !request.decidedBy) return;
    try {
      const user = await this.options.directory.getUser(request.requesterId);
      if (user?.userType !== 'Guest') return;
      await recorder.recordAdded({
        actor: { tenantId: request.tenantId, userId: request.decidedBy, displayName: request.decidedByName ?? '' },
        how: 'request',
        operationId,
        guest: {
          id: user.id,
          email: user.mail ?? user.userPrincipalName,
          displayName: user.displayName,
          redemption: user.externalUserState,
        },
        app: { id: request.appId, displayName: request.appName },
        group: { id: request.groupId, displayName: request.groupName },
      });
    } catch (err) {
      this.options.logger.error('guest.record.failed', { operationId, error: err });
    }
  }

  /**
   * Finishes an approval a crash or restart left unfinished (or that was reopened for a retry) once its request has
   * been decided: it is run again from its recorded steps.
   */
  async resume(record: OperationRecord): Promise<boolean> {
    const request = await this.options.store.requests.get(record.id.slice(APPROVAL_ID_PREFIX.length));
    // Still pending: the owner's decision did not happen; the record waits for the next decision (at the latest,
    // the request expires and the record is closed).
    if (request?.state === 'pending') return false;
    const final = request ? await this.finishApproval(request) : await this.finishOrphan(record.id);
    this.options.logger.info('request.approval.resumed', {
      operationId: record.id,
      membership: final?.outcome?.membership,
    });
    return true;
  }

  /** Resumes this service's unfinished approvals alone (the bot resumes every kind through one registry). */
  resumeUnfinished(): Promise<number> {
    return new OperationResumers(this.options.store.operations, this.clock)
      .register(APPROVAL_OPERATION_KINDS, (record) => this.resume(record))
      .resumeAll();
  }

  /** A record whose request is gone: nothing to add; the record is closed. */
  private async finishOrphan(operationId: string): Promise<undefined> {
    const record = await this.options.store.operations.get(operationId);
    if (record) await this.runner.run(record, async () => ({ outcome: { membership: 'notApproved' }, failed: false }));
    return undefined;
  }

  /** A decided request as the cards should show it: wait briefly for an approval's membership write to finish. */
  private async settled(request: AccessRequestRecord): Promise<AccessRequestRecord> {
    let current = request;
    for (let i = 0; i < 30 && current.state === 'approved' && !current.outcome; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = (await this.options.store.requests.get(request.id)) ?? current;
    }
    return current;
  }

  /** Reminders and expiry; safe when several processes run it at once (each change is a compare-and-set). */
  async sweep(): Promise<{ reminded: number; expired: number }> {
    const now = this.clock();
    const { remindAfterMs: remindAfter, expireAfterMs: expireAfter } = this.options;
    let reminded = 0;
    let expired = 0;
    for (const request of await this.options.store.requests.listPendingCreatedBefore(
      new Date(now.getTime() - expireAfter),
      100,
    )) {
      try {
        const updated = await this.options.store.requests.update(
          request.id,
          request.version,
          { state: 'expired', decidedAt: now.toISOString() },
          now,
        );
        expired++;
        await this.audit(request.tenantId, {
          actorId: 'system',
          action: 'request.expired',
          outcome: 'expired',
          appId: request.appId,
          groupId: request.groupId,
          operationId: request.id,
        });
        await this.options.messenger.updateApprovalCards(updated);
        await this.options.messenger.notifyRequester(updated, 'expired');
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    for (const request of await this.options.store.requests.listPendingCreatedBefore(
      new Date(now.getTime() - remindAfter),
      100,
    )) {
      if (request.remindedAt) continue;
      try {
        const updated = await this.options.store.requests.update(
          request.id,
          request.version,
          { remindedAt: now.toISOString() },
          now,
        );
        reminded++;
        await this.audit(request.tenantId, {
          actorId: 'system',
          action: 'request.reminded',
          outcome: 'reminded',
          appId: request.appId,
          groupId: request.groupId,
          operationId: request.id,
        });
        const owners = [
          ...new Map(updated.ownerCards.map((c) => [c.ownerId, { id: c.ownerId, displayName: c.ownerName }])).values(),
        ];
        const fallback = updated.ownerIds
          .filter((id) => !owners.some((o) => o.id === id))
          .map((id) => ({ id, displayName: '' }));
        const cards = await this.deliver(updated, [...owners, ...fallback], 'reminder');
        await this.appendOwnerCards(updated.id, cards);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return { reminded, expired };
  }
}
