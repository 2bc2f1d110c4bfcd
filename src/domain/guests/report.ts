/**
 * Use case: admins' `guest report`, per app, from the bot's own records (no Graph reads): guests in groups, pending
 * invitations (as last seen), reviews overdue, guests whose sponsor is only in the bot's records, removals in the
 * last 30 days.
 */
import type { Store } from '../../store/store';

export interface AppGuestSummary {
  appId: string;
  appName: string;
  guests: number;
  pending: number;
  overdue: number;
  noSponsor: number;
  removed: number;
}

const DAY = 86_400_000;

export async function guestReport(
  store: Store,
  tenantId: string,
  now: Date,
  options: { intervalMs: number; graceMs: number },
): Promise<AppGuestSummary[]> {
  const byApp = new Map<string, AppGuestSummary>();
  for (const r of await store.guests.listForTenant(tenantId, 100_000)) {
    const s = byApp.get(r.appId) ?? {
      appId: r.appId,
      appName: r.appName,
      guests: 0,
      pending: 0,
      overdue: 0,
      noSponsor: 0,
      removed: 0,
    };
    byApp.set(r.appId, s);
    if (r.removedAt) {
      if (Date.parse(r.removedAt) >= now.getTime() - 30 * DAY) s.removed++;
      continue;
    }
    s.guests++;
    if (r.redemption === 'PendingAcceptance') s.pending++;
    if (!r.sponsorInEntra) s.noSponsor++;
    const openedLongAgo =
      r.reviewState === 'open' && Date.parse(r.reviewOpenedAt ?? '') <= now.getTime() - options.graceMs / 2;
    const notOpenedYet = r.reviewState === 'none' && Date.parse(r.lastKeptAt) <= now.getTime() - options.intervalMs;
    if (openedLongAgo || notOpenedYet) s.overdue++;
  }
  return [...byApp.values()].sort((a, b) => a.appName.localeCompare(b.appName));
}
