/**
 * Delivering approval cards to a request's owners (new, reminder, or a fresh copy on `pending requests`): a few
 * owners at a time, each copy kept on the request with where it went or why it could not be delivered.
 */
import type { GroupOwner } from '../../graph/directory';
import type { AccessRequestRecord, OwnerCard } from '../../store/store';
import type { Actor } from '../shared/model';
import { appendOwnerCards, type RequestContext } from './context';
import type { ApprovalMessenger } from './model';

/** Owners messaged at the same time (Teams allows about 50 requests per second per app and tenant). */
const DELIVERY_CONCURRENCY = 4;

type CardReason = 'new' | 'reminder' | 'resend';

/** One owner's copy of the card, and why Teams cannot reach the owner when that is why it was not delivered. */
interface Delivery {
  card: OwnerCard;
  unreachable?: string;
}

/** Runs `work` on every item, at most `limit` at a time; the results are in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function sendTo(
  ctx: RequestContext,
  request: AccessRequestRecord,
  owner: GroupOwner,
  reason: CardReason,
): Promise<Delivery> {
  const at = ctx.clock().toISOString();
  const sent: Awaited<ReturnType<ApprovalMessenger['sendApprovalCard']>> = await ctx.options.messenger
    .sendApprovalCard(request, owner, reason)
    .catch((err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }));
  const who = { ownerId: owner.id, ownerName: owner.displayName };
  if (sent.ok) return { card: { ...who, status: 'sent', location: sent.location, error: null, at } };
  ctx.options.logger.warn('request.owner.unreachable', { requestId: request.id, ownerId: owner.id, error: sent.error });
  return {
    card: { ...who, status: 'unreachable', location: null, error: sent.error.slice(0, 300), at },
    unreachable: sent.unreachable,
  };
}

/**
 * Delivers to several owners at once (a few at a time), so one slow or unreachable owner does not hold up the rest.
 * `unreachable`, when given, is told why Teams cannot reach an owner (by owner id), when Teams said.
 */
async function deliver(
  ctx: RequestContext,
  request: AccessRequestRecord,
  owners: readonly GroupOwner[],
  reason: CardReason,
  unreachable?: Map<string, string>,
): Promise<OwnerCard[]> {
  const deliveries = await mapConcurrently(owners, DELIVERY_CONCURRENCY, (owner) =>
    sendTo(ctx, request, owner, reason),
  );
  for (const delivery of deliveries) {
    if (delivery.unreachable) unreachable?.set(delivery.card.ownerId, delivery.unreachable);
  }
  return deliveries.map((d) => d.card);
}

/** Delivers the card to `owners` and keeps the new copies on the request; returns the request as stored then. */
export async function deliverAndKeep(
  ctx: RequestContext,
  request: AccessRequestRecord,
  owners: readonly GroupOwner[],
  reason: CardReason,
  unreachable?: Map<string, string>,
): Promise<{ request: AccessRequestRecord; cards: OwnerCard[] }> {
  const cards = await deliver(ctx, request, owners, reason, unreachable);
  return { request: await appendOwnerCards(ctx, request.id, cards), cards };
}

/**
 * `pending requests`: a fresh copy of each waiting approval card in the owner's chat (kept up to date like the
 * others).
 */
export async function resendPendingCards(ctx: RequestContext, actor: Actor): Promise<number> {
  const pending = await ctx.options.store.requests.listPendingForOwner(actor.tenantId, actor.userId, 20);
  for (const request of pending) {
    await deliverAndKeep(ctx, request, [{ id: actor.userId, displayName: actor.displayName }], 'resend');
  }
  return pending.length;
}

/** Who gets a reminder: every owner that was sent a copy (by id, once), then any owner without a copy. */
export function ownersToRemind(request: AccessRequestRecord): GroupOwner[] {
  const owners = [
    ...new Map(request.ownerCards.map((c) => [c.ownerId, { id: c.ownerId, displayName: c.ownerName }])).values(),
  ];
  const fallback = request.ownerIds
    .filter((id) => !owners.some((o) => o.id === id))
    .map((id) => ({ id, displayName: '' }));
  return [...owners, ...fallback];
}
