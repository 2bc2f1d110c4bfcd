/**
 * What every part of the request use case works with (`RequestContext`: options, clock, operation runner,
 * catalog) and the writes they share: audit entries, setup-problem reports, forged-choice traces and the
 * retried bookkeeping patches of a request (owner cards, outcome).
 */
import type { AccessRequestPatch, AccessRequestRecord, AuditEntry, OwnerCard } from '../../store/store';
import { recordForged, reportBlocked, type Actor, type BlockedReport } from '../shared/model';
import type { UseCaseTools } from '../shared/operations';
import type { Catalog } from '../shared/catalog';
import { retryOnConflict } from '../shared/retryOnConflict';
import type { RequestAccessOptions } from './model';

export interface RequestContext extends UseCaseTools {
  readonly options: RequestAccessOptions;
  readonly catalog: Catalog;
}

export type AuditFields = Omit<AuditEntry, 'time' | 'tenantId'>;

export function audit(ctx: RequestContext, tenantId: string, entry: AuditFields): Promise<number> {
  return ctx.options.store.audit.append({ time: ctx.clock().toISOString(), tenantId, ...entry });
}

/** A setup problem stopped the actor: kept in the audit (`entry`) and reported to the admins (`problem`). */
export async function setupBlocked(
  ctx: RequestContext,
  actor: Actor,
  entry: AuditFields,
  problem: Omit<BlockedReport, 'tenantId' | 'actor'>,
): Promise<void> {
  await audit(ctx, actor.tenantId, entry);
  await reportBlocked(ctx.options.onBlocked, ctx.options.logger, { tenantId: actor.tenantId, actor, ...problem });
}

/** A card submit named an app, group or request this actor was not offered or may not touch. */
export function recordForgedChoice(
  ctx: RequestContext,
  actor: Actor,
  detail: { appId?: string; groupId?: string; requestId?: string; verb?: string },
): Promise<void> {
  const { requestId, verb, ...ids } = detail;
  return recordForged(ctx.options.store.audit, ctx.options.logger, ctx.clock(), 'request.forged', actor, {
    ...ids,
    operationId: requestId,
    detail: `not offered or not allowed: ${verb ?? ''}`,
  });
}

/** Applies a change to a request whatever its version (retried compare-and-set), for bookkeeping fields. */
export function patchRequest(
  ctx: RequestContext,
  id: string,
  change: (current: AccessRequestRecord) => AccessRequestPatch | null,
): Promise<AccessRequestRecord> {
  return retryOnConflict(async () => {
    const current = await ctx.options.store.requests.get(id);
    if (!current) throw new Error(`Request ${id} disappeared`);
    const patch = change(current);
    if (!patch) return current;
    return ctx.options.store.requests.update(id, current.version, patch, ctx.clock());
  });
}

/** Keeps where new copies of the approval card went (or why they could not), after the ones already kept. */
export function appendOwnerCards(ctx: RequestContext, id: string, cards: OwnerCard[]): Promise<AccessRequestRecord> {
  return patchRequest(ctx, id, (current) =>
    cards.length === 0 ? null : { ownerCards: [...current.ownerCards, ...cards] },
  );
}
