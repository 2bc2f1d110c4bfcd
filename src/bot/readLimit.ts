/**
 * A per-user limit on commands that read much of the directory (the `request access` catalog, `my guests`, the
 * bulk list's "Check the list"): READS_PER_USER_PER_HOUR over a sliding hour, so a loop cannot spend the tenant's
 * Graph budget. Counted in the store, so it holds across instances.
 */
import type { TurnContext } from 'botbuilder';
import type { HourlyLimiter } from '../domain/shared/rateLimit';
import { actorFrom } from './identity';
import { loc } from './locale';

export type ReadLimit = (context: TurnContext) => Promise<boolean>;

/** Null when the read may go on (and it is counted); otherwise the text telling the user when to try again. */
export type ReadCheck = (context: TurnContext) => Promise<string | null>;

export function readCheck(limiter: HourlyLimiter): ReadCheck {
  return async (context) => {
    const actor = actorFrom(context);
    if (!actor) return null;
    if (await limiter.take('read', actor.tenantId, actor.userId)) return null;
    const { freeInMinutes } = await limiter.allowance('read', actor.tenantId, actor.userId);
    return loc(context).t('security:readLimited', { minutes: freeInMinutes });
  };
}

/** True when the read may go on; otherwise the user was told when to try again. */
export function readLimit(check: ReadCheck): ReadLimit {
  return async (context) => {
    const refusal = await check(context);
    if (refusal === null) return true;
    await context.sendActivity(refusal);
    return false;
  };
}
