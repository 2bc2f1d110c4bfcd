/**
 * The review of a bulk list before anything is sent: which addresses are existing users and members already, the
 * reason for each line that is not used, and the owner's
 * hourly allowance of new invitations (INVITES_PER_USER_PER_HOUR; each new address counts, existing guests who are
 * only added do not). New addresses beyond what is left this hour are listed as refused and not sent.
 */
import type { Directory } from '../../graph/directory';
import { msg, type Msg } from '../shared/message';
import { retryTransient, type RetryPolicy } from '../shared/retry';
import type { Actor } from '../shared/model';
import type { HourlyLimiter } from '../shared/rateLimit';
import type { ListEntry, ParsedList } from './addresses';
import type { BulkReview, HourlyAllowance } from './model';

/** The list parsed and looked up, before the allowance is applied. */
export type LookedUp = Omit<BulkReview, 'overAllowance' | 'allowance' | 'refused'>;

/**
 * Reads which valid addresses of the list are existing users and members of the group already (plain reads,
 * `$batch`). When a read fails, every valid address counts as new and `lookedUp` is false.
 */
export async function lookUpList(
  directory: Directory,
  policy: RetryPolicy,
  groupId: string,
  list: ParsedList,
): Promise<LookedUp> {
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
    const users = await retryTransient(() => directory.findUsersByEmails(addresses), policy);
    const ids = new Map<string, string>();
    for (const address of addresses) {
      const user = users.get(address);
      if (user) ids.set(address, user.id);
    }
    const members = await retryTransient(() => directory.membersAmong(groupId, [...ids.values()]), policy);
    return {
      ...result,
      toInvite: addresses.filter((a) => !ids.has(a)),
      existing: addresses.filter((a) => ids.has(a) && !members.has(ids.get(a)!)),
      members: addresses.filter((a) => ids.has(a) && members.has(ids.get(a)!)),
      lookedUp: true,
    };
  } catch (err) {
    policy.logger.warn('bulk.review.lookupFailed', { error: err });
    return result;
  }
}

/** The reason a line of the list is not used. */
export function lineReason(entry: ListEntry, max: number): Msg {
  switch (entry.problem) {
    case 'ownDomain':
      return msg('bulk:problem.ownDomain');
    case 'duplicate':
      return msg('bulk:problem.duplicate');
    case 'overLimit':
      return msg('bulk:problem.overLimit', { max });
    default:
      return entry.detail ?? msg('bulk:problem.syntax');
  }
}

/**
 * Keeps the new addresses that fit the allowance (in list order); the rest are refused with the limit and when it frees
 * up.
 */
export function withAllowance(found: LookedUp, allowance: HourlyAllowance | null, max: number): BulkReview {
  const fits = allowance ? Math.min(allowance.left, found.toInvite.length) : found.toInvite.length;
  const over = new Set(found.toInvite.slice(fits));
  const overAllowance = found.valid.filter((e) => over.has(e.address!));
  const refused = [
    ...found.invalid.map((e) => ({ position: e.position, raw: e.raw, reason: lineReason(e, max) })),
    ...overAllowance.map((e) => ({
      position: e.position,
      raw: e.raw,
      reason: msg('bulk:problem.hourlyLimit', { limit: allowance!.limit, minutes: allowance!.freeInMinutes }),
    })),
  ];
  return { ...found, toInvite: found.toInvite.slice(0, fits), overAllowance, allowance, refused };
}

/**
 * Counts `newInvitations` against the owner's hourly allowance when the reviewed list is sent; a message (and
 * nothing counted) when the allowance no longer covers them.
 */
export async function reserveAllowance(
  limiter: HourlyLimiter | undefined,
  actor: Actor,
  newInvitations: number,
): Promise<Msg | null> {
  if (!limiter || newInvitations === 0) return null;
  if (await limiter.take('invite', actor.tenantId, actor.userId, newInvitations)) return null;
  const { left } = await limiter.allowance('invite', actor.tenantId, actor.userId);
  return msg('bulk:rateLimited', { left });
}
