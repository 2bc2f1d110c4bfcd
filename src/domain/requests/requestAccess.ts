/**
 * Use case: anyone asks for membership of an app's self-service group; the group's owners decide.
 * The first decision wins (compare-and-set on the request's version); an approval adds the requester to the
 * group as an operation record, so it happens once however often or concurrently owners click.
 * `RequestAccessService` is the face the bot calls; the work is in this folder: matching.ts (which apps),
 * create.ts (a new request), delivery.ts (cards to owners), decide.ts (approve, deny, withdraw),
 * approval.ts (the membership write) and sweep.ts (reminders and expiry).
 */
import type { AccessRequestRecord, OperationRecord } from '../../store/store';
import type { Msg } from '../shared/message';
import type { Actor, AppChoice } from '../shared/model';
import { useCaseTools } from '../shared/operations';
import { OperationResumers } from '../shared/resumers';
import { Catalog } from '../shared/catalog';
import { retryOnConflict } from '../shared/retryOnConflict';
import { APPROVAL_ID_PREFIX, APPROVAL_OPERATION_KINDS, finishApproval, finishOrphan } from './approval';
import { recordForgedChoice, type RequestContext } from './context';
import { checkJustification, createRequest, type CreateCommand, type JustificationCheck } from './create';
import { decideOnce, withdrawOnce } from './decide';
import { resendPendingCards } from './delivery';
import { explainUnrequestable, findRequestableApps } from './matching';
import type { CreateOutcome, DecideOutcome, RequestAccessOptions, WithdrawOutcome } from './model';
import { sweep } from './sweep';

export class RequestAccessService {
  private readonly ctx: RequestContext;

  constructor(private readonly options: RequestAccessOptions) {
    const tools = useCaseTools(options);
    const catalog = options.catalog ?? new Catalog(options.directory, tools.clock, options.catalogTtlMs);
    this.ctx = { ...tools, options, catalog };
  }

  /**
   * Self-service apps the user does not reach yet: groups that can take members, have owners, and do not have the
   * user.
   */
  findRequestableApps(actor: Actor): Promise<AppChoice[]> {
    return findRequestableApps(this.ctx, actor);
  }

  /** Why an app the user named cannot be requested (a setup problem, reported to the admins), or null. */
  explainUnrequestable(actor: Actor, query: string): Promise<Msg | null> {
    return explainUnrequestable(this.ctx, actor, query);
  }

  checkJustification(raw: string | null | undefined): JustificationCheck {
    return checkJustification(raw);
  }

  recordForgedChoice(
    actor: Actor,
    detail: { appId?: string; groupId?: string; requestId?: string; verb?: string },
  ): Promise<void> {
    return recordForgedChoice(this.ctx, actor, detail);
  }

  createRequest(command: CreateCommand): Promise<CreateOutcome> {
    return createRequest(this.ctx, command);
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

  /** `pending requests`: a fresh copy of each waiting approval card in the owner's chat, kept up to date. */
  resendPendingCards(actor: Actor): Promise<number> {
    return resendPendingCards(this.ctx, actor);
  }

  /** Withdraws the requester's own pending request; lost races are tried again from a fresh read. */
  withdraw(actor: Actor, requestId: string): Promise<WithdrawOutcome> {
    return retryOnConflict(() => withdrawOnce(this.ctx, actor, requestId));
  }

  /**
   * An owner approves or denies. Checked on the server now: the request, the decider's ownership, the group.
   * A decision that loses the compare-and-set to another change of a still pending request is made again.
   */
  decide(actor: Actor, requestId: string, approve: boolean, rawComment: string | null): Promise<DecideOutcome> {
    return retryOnConflict(() => decideOnce(this.ctx, actor, requestId, approve, rawComment));
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
    const final = request ? await finishApproval(this.ctx, request) : await finishOrphan(this.ctx, record.id);
    this.options.logger.info('request.approval.resumed', {
      operationId: record.id,
      membership: final?.outcome?.membership,
    });
    return true;
  }

  /** Resumes this service's unfinished approvals alone (the bot resumes every kind through one registry). */
  resumeUnfinished(): Promise<number> {
    return new OperationResumers(this.options.store.operations, this.ctx.clock)
      .register(APPROVAL_OPERATION_KINDS, (record) => this.resume(record))
      .resumeAll();
  }

  /** Reminders and expiry; safe when several processes run it at once (each change is a compare-and-set). */
  sweep(): Promise<{ reminded: number; expired: number }> {
    return sweep(this.ctx);
  }
}
