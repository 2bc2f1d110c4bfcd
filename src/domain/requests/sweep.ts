/**
 * The timer's work on pending requests: those older than the expiry are expired (cards updated, requester told),
 * those older than the reminder delay get one reminder card. Safe when several processes sweep at once: each
 * change is a compare-and-set, and a request another process changed first is left to it.
 */
import { ConflictError, type AccessRequestRecord } from '../../store/store';
import { audit, type RequestContext } from './context';
import { deliverAndKeep, ownersToRemind } from './delivery';

/** Pending requests read per pass and per kind of change; the rest wait for the next sweep. */
const SWEEP_BATCH = 100;

/** Reminders and expiry; safe when several processes run it at once (each change is a compare-and-set). */
export async function sweep(ctx: RequestContext): Promise<{ reminded: number; expired: number }> {
  const now = ctx.clock();
  const expired = await expireOld(ctx, now);
  const reminded = await remindWaiting(ctx, now);
  return { reminded, expired };
}

/**
 * Changes each request by compare-and-set (`write`), then does what follows the change (`then`); a request another
 * process changed first is skipped. Returns how many were written.
 */
async function changeEach(
  requests: readonly AccessRequestRecord[],
  write: (request: AccessRequestRecord) => Promise<AccessRequestRecord>,
  then: (request: AccessRequestRecord, updated: AccessRequestRecord) => Promise<void>,
): Promise<number> {
  let changed = 0;
  for (const request of requests) {
    try {
      const updated = await write(request);
      changed++;
      await then(request, updated);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return changed;
}

function pendingSince(ctx: RequestContext, before: Date): Promise<AccessRequestRecord[]> {
  return ctx.options.store.requests.listPendingCreatedBefore(before, SWEEP_BATCH);
}

function systemEntry(request: AccessRequestRecord, action: 'request.expired' | 'request.reminded') {
  return {
    actorId: 'system',
    action,
    outcome: action === 'request.expired' ? 'expired' : 'reminded',
    appId: request.appId,
    groupId: request.groupId,
    operationId: request.id,
  };
}

/** Expires the requests pending longer than the expiry: cards updated, requester told. */
async function expireOld(ctx: RequestContext, now: Date): Promise<number> {
  const { requests } = ctx.options.store;
  const old = await pendingSince(ctx, new Date(now.getTime() - ctx.options.expireAfterMs));
  return changeEach(
    old,
    (request) => requests.update(request.id, request.version, { state: 'expired', decidedAt: now.toISOString() }, now),
    async (request, updated) => {
      await audit(ctx, request.tenantId, systemEntry(request, 'request.expired'));
      await ctx.options.messenger.updateApprovalCards(updated);
      await ctx.options.messenger.notifyRequester(updated, 'expired');
    },
  );
}

/** Sends one reminder card to the owners of each request pending longer than the reminder delay. */
async function remindWaiting(ctx: RequestContext, now: Date): Promise<number> {
  const { requests } = ctx.options.store;
  const waiting = await pendingSince(ctx, new Date(now.getTime() - ctx.options.remindAfterMs));
  return changeEach(
    waiting.filter((request) => !request.remindedAt),
    (request) => requests.update(request.id, request.version, { remindedAt: now.toISOString() }, now),
    async (request, updated) => {
      await audit(ctx, request.tenantId, systemEntry(request, 'request.reminded'));
      await deliverAndKeep(ctx, updated, ownersToRemind(updated), 'reminder');
    },
  );
}
