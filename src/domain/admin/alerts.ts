/**
 * Use case: tell the admins about setup problems, without being asked, once per problem and quiet period.
 * Problems come from users who were blocked and from periodic scans. Alerts are records in the store (one per
 * problem key); every decision to alert is a compare-and-set, so several processes never send the same alert
 * twice; an alert nobody could receive stays pending until an admin is reachable. Every block counts: within
 * the quiet period the cards already sent are updated in place (AlertPosts keeps where they are).
 */
import type { Logger } from '../../logging';
import type { Directory } from '../../graph/directory';
import { retryOnConflict } from '../shared/retryOnConflict';
import { ConflictError, type AlertPatch, type AlertRecord, type JsonObject, type Store } from '../../store/store';
import type { Actor, BlockedReport } from '../shared/model';
import { problemFor, type SetupCheckService, type SetupProblem, type SetupReport } from './setupCheck';
import { AlertPosts } from './alertPosts';
import { ADMIN_ROLES } from './roles';

export type AlertEvent = 'problem' | 'fixed';

/** What an alert card shows: the alert, whether it is a problem or fixed, how many people it blocked, as of when. */
export interface AlertNotice {
  alert: AlertRecord;
  event: AlertEvent;
  /** People blocked by it since it was first seen (or opened again); 0 when only scans found it. */
  blocks: number;
  /** When the card is rendered (ISO time), for "2 minutes ago". */
  at: string;
}

/** Delivers alerts (Teams in production). References and card locations are opaque to the domain. */
export interface AlertMessenger {
  /** Where the card went, or null when it could not be delivered. */
  sendToChannel(channel: JsonObject, notice: AlertNotice): Promise<JsonObject | null>;
  /** Where the card went, or null when the user cannot be reached (no conversation with the bot). */
  sendToUser(tenantId: string, userId: string, notice: AlertNotice): Promise<JsonObject | null>;
  /** Replaces the cards at these locations (from the two above) with the notice; returns how many were updated. */
  updateAlertCards(locations: readonly JsonObject[], notice: AlertNotice): Promise<number>;
}

/** Cards of one alert are updated at most once in this interval; a block in between is shown by a later update. */
export const ALERT_CARD_UPDATE_INTERVAL_MS = 5_000;

export interface AdminAlertOptions {
  store: Store;
  directory: Directory;
  setup: SetupCheckService;
  messenger: AlertMessenger;
  logger: Logger;
  adminUserIds?: readonly string[];
  quietPeriodMs: number;
  roleCacheMs?: number;
  /** Default ALERT_CARD_UPDATE_INTERVAL_MS. */
  cardUpdateIntervalMs?: number;
  /** Runs a task after `ms` (default: an unref'd timer); returns a function that cancels it. The task never rejects. */
  defer?: (ms: number, task: () => Promise<void>) => () => void;
  clock?: () => Date;
}

const timer = (ms: number, task: () => Promise<void>): (() => void) => {
  const handle = setTimeout(() => void task(), ms);
  handle.unref();
  return () => clearTimeout(handle);
};

const channelKey = (tenantId: string): string => `alert-channel/${tenantId}`;

export class AdminAlertService {
  private readonly clock: () => Date;
  /** Holders of the admin roles (one set for the bot's tenant), read at most every `roleCacheMs`. */
  private holders: { ids: Promise<Set<string>>; until: number } | null = null;
  private readonly cards: AlertPosts;
  /** Card updates this process put off (rate limit), by tenant and alert key: how to cancel them. */
  private readonly deferred = new Map<string, () => void>();

  constructor(private readonly options: AdminAlertOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.cards = new AlertPosts(
      options.store.state,
      this.clock,
      options.cardUpdateIntervalMs ?? ALERT_CARD_UPDATE_INTERVAL_MS,
    );
  }

  /** Cancels card updates put off for later (shutdown). */
  stop(): void {
    for (const cancel of this.deferred.values()) cancel();
    this.deferred.clear();
  }

  /**
   * Admin: listed in ADMIN_USER_IDS or holding one of ADMIN_ROLES, directly or through a role-assignable group
   * (the role holders are read with RoleManagement.Read.Directory and cached for minutes).
   */
  async isAdmin(actor: Actor): Promise<boolean> {
    if (this.options.adminUserIds?.includes(actor.userId)) return true;
    return (await this.roleHolders()).has(actor.userId);
  }

  private roleHolders(): Promise<Set<string>> {
    const now = this.clock().getTime();
    if (this.holders && this.holders.until > now) return this.holders.ids;
    const ids = this.options.directory.listRoleMembers(Object.keys(ADMIN_ROLES));
    const entry = { ids, until: now + (this.options.roleCacheMs ?? 5 * 60_000) };
    this.holders = entry;
    ids.catch(() => {
      if (this.holders === entry) this.holders = null;
    });
    return ids;
  }

  private async adminIds(): Promise<string[]> {
    const holders = new Set(await this.roleHolders());
    for (const id of this.options.adminUserIds ?? []) holders.add(id);
    return [...holders];
  }

  async setChannel(tenantId: string, channel: JsonObject | null): Promise<void> {
    if (channel) await this.options.store.state.write(channelKey(tenantId), channel);
    else await this.options.store.state.delete([channelKey(tenantId)]);
  }

  async channel(tenantId: string): Promise<JsonObject | null> {
    const items = await this.options.store.state.read([channelKey(tenantId)]);
    return items.get(channelKey(tenantId))?.value ?? null;
  }

  /**
   * A user was blocked by a setup problem: count it, and alert the admins unless they were told within the
   * quiet period; then their cards about it are updated in place.
   */
  async reportBlocked(event: BlockedReport): Promise<void> {
    const problem = problemFor(event.kind, event.app, event.group, event.detail);
    const blocked: JsonObject = {
      userId: event.actor.userId,
      name: event.actor.displayName,
      doing: JSON.parse(JSON.stringify(event.doing)) as JsonObject,
      at: this.clock().toISOString(),
    };
    const record = await this.options.store.alerts.recordOccurrence(
      { tenantId: event.tenantId, ...problem, lastBlocked: blocked },
      this.clock(),
    );
    await this.cards.countBlock(record.tenantId, record.key);
    if (await this.alertIfDue(record)) return;
    await this.refreshCards(record.tenantId, record.key);
  }

  /**
   * Updates the cards of an alert to show the blocks counted since they were rendered: at once, or (Teams
   * rate limits) once the update interval has passed since the last update, by a task this process defers.
   */
  private async refreshCards(tenantId: string, key: string): Promise<void> {
    const claim = await this.cards.claimRefresh(tenantId, key);
    if (claim.kind === 'later') {
      const id = `${tenantId}/${key}`;
      if (this.deferred.has(id)) return;
      const cancel = (this.options.defer ?? timer)(claim.waitMs, async () => {
        this.deferred.delete(id);
        await this.refreshCards(tenantId, key).catch((err: unknown) =>
          this.options.logger.warn('alert.cards.refresh.failed', { alertKey: key, error: err }),
        );
      });
      this.deferred.set(id, cancel);
      return;
    }
    if (claim.kind !== 'now') return;
    const alert = await this.options.store.alerts.get(tenantId, key);
    if (!alert || alert.state === 'resolved') return;
    const updated = await this.options.messenger.updateAlertCards(
      claim.record.locations,
      this.notice(alert, 'problem', claim.record.blocks),
    );
    this.options.logger.info('alert.cards.updated', {
      alertKey: key,
      blocks: claim.record.blocks,
      cards: claim.record.locations.length,
      updated,
    });
  }

  private notice(alert: AlertRecord, event: AlertEvent, blocks: number): AlertNotice {
    return { alert, event, blocks, at: this.clock().toISOString() };
  }

  /**
   * Scan the tenant: new problems are alerted (quiet period applies), problems no longer found are resolved and
   * reported fixed.
   */
  async scanAndAlert(tenantId: string): Promise<{ report: SetupReport; alerted: number; fixed: number }> {
    const report = await this.options.setup.scan(tenantId);
    let alerted = 0;
    let fixed = 0;
    const found = new Set(report.problems.map((p) => p.key));
    for (const problem of report.problems) {
      const existing = await this.options.store.alerts.get(tenantId, problem.key);
      if (existing && existing.state !== 'resolved' && existing.lastAlertedAt) continue;
      const record = await this.options.store.alerts.recordOccurrence({ tenantId, ...problem }, this.clock());
      if (await this.alertIfDue(record)) alerted++;
    }
    for (const open of await this.options.store.alerts.list(tenantId, ['open', 'acknowledged'], 1000)) {
      // Refusals seen while working (a missing permission; a person the bot could not install itself for) are fixed
      // when a scan says so: for the latter, only when the scan found that the bot can install itself now.
      if (found.has(open.key) || open.kind === 'missingPermission') continue;
      if (open.kind === 'botCannotReach' && report.teamsInstall.key !== 'reach:report.ok') continue;
      try {
        // Told as fixed: should it come back, it is a new alert (not hidden by the quiet period).
        const resolved = await this.options.store.alerts.update(
          tenantId,
          open.key,
          open.version,
          { state: 'resolved', resolvedAt: this.clock().toISOString(), pendingDelivery: false, lastAlertedAt: null },
          this.clock(),
        );
        fixed++;
        const cards = await this.cards.forget(tenantId, open.key);
        const notice = this.notice(resolved, 'fixed', cards?.blocks ?? 0);
        if (cards && cards.locations.length > 0) await this.options.messenger.updateAlertCards(cards.locations, notice);
        await this.deliver(notice);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return { report, alerted, fixed };
  }

  /** Claims the right to alert (compare-and-set), then delivers; false when not due or another process claimed it. */
  private async alertIfDue(record: AlertRecord): Promise<boolean> {
    if (record.state !== 'open') return false;
    const now = this.clock();
    const quiet = this.options.quietPeriodMs;
    if (record.lastAlertedAt && now.getTime() - Date.parse(record.lastAlertedAt) < quiet) return false;
    const claimed = await this.claim(record);
    if (!claimed) return false;
    // Raised now; delivered now, or kept until an admin can be reached.
    await this.deliverClaimed(claimed);
    return true;
  }

  /**
   * The right to send an alert (compare-and-set on its version). The claim itself records the alert as told
   * now, so a scan or a block that reads it while the delivery is still under way sees it as alerted and
   * stays quiet; a delivery that fails puts it back to pending (deliverClaimed). Null: another process won.
   */
  private async claim(record: AlertRecord): Promise<AlertRecord | null> {
    const now = this.clock();
    try {
      return await this.options.store.alerts.update(
        record.tenantId,
        record.key,
        record.version,
        { lastAlertedAt: now.toISOString(), pendingDelivery: false },
        now,
      );
    } catch (err) {
      if (err instanceof ConflictError) return null;
      throw err;
    }
  }

  /**
   * Sends a claimed alert; records it as told (quiet period from now, cards to update from now on) or as
   * waiting for an admin. A block counted while it was being sent is shown by an update.
   */
  private async deliverClaimed(alert: AlertRecord): Promise<boolean> {
    const { blocks } = await this.cards.read(alert.tenantId, alert.key);
    const locations = await this.deliver(this.notice(alert, 'problem', blocks));
    const delivered = locations.length > 0;
    const now = this.clock().toISOString();
    await this.patchAlert(
      alert,
      delivered
        ? { pendingDelivery: false, countSinceAlert: 0, lastAlertedAt: now }
        : { pendingDelivery: true, lastAlertedAt: null },
    );
    if (delivered) {
      const cards = await this.cards.delivered(alert.tenantId, alert.key, locations, blocks);
      if (cards.blocks > blocks) await this.refreshCards(alert.tenantId, alert.key);
    }
    return delivered;
  }

  private async patchAlert(alert: AlertRecord, patch: AlertPatch): Promise<void> {
    await retryOnConflict(
      async () => {
        const current = await this.options.store.alerts.get(alert.tenantId, alert.key);
        if (current)
          await this.options.store.alerts.update(alert.tenantId, alert.key, current.version, patch, this.clock());
      },
      { onGiveUp: () => undefined },
    );
  }

  /** Sends to the alert channel if one is set, else to every admin who can be reached; returns where the cards went. */
  private async deliver(notice: AlertNotice): Promise<JsonObject[]> {
    const { alert, event } = notice;
    const locations: JsonObject[] = [];
    const channel = await this.channel(alert.tenantId);
    const sent = (location: JsonObject | null): void => {
      if (location) locations.push(location);
    };
    if (channel) sent(await this.options.messenger.sendToChannel(channel, notice).catch(() => null));
    if (locations.length === 0) {
      for (const adminId of await this.adminIds())
        sent(await this.options.messenger.sendToUser(alert.tenantId, adminId, notice).catch(() => null));
    }
    this.options.logger.info(locations.length > 0 ? 'alert.delivered' : 'alert.deferred', {
      alertKey: alert.key,
      alertEvent: event,
      cards: locations.length,
    });
    return locations;
  }

  /**
   * An admin was just shown these problems in a setup report (the welcome when they install the bot): each counts as
   * alerted now, so it is not sent again as its own card. It stays open; later blocks and scans go on as for any
   * alert told (quiet period, fixed). Problems not alerted before are recorded first.
   */
  async toldByReport(tenantId: string, problems: readonly SetupProblem[]): Promise<number> {
    let told = 0;
    for (const problem of problems) {
      const existing = await this.options.store.alerts.get(tenantId, problem.key);
      const open = existing && existing.state !== 'resolved' ? existing : null;
      if (open && open.lastAlertedAt && !open.pendingDelivery) continue;
      const record = open ?? (await this.options.store.alerts.recordOccurrence({ tenantId, ...problem }, this.clock()));
      if (record.state !== 'open') continue;
      const now = this.clock();
      try {
        // As a delivered alert: told now (quiet period from now), nothing waiting, no blocks since.
        await this.options.store.alerts.update(
          tenantId,
          record.key,
          record.version,
          { lastAlertedAt: now.toISOString(), pendingDelivery: false, countSinceAlert: 0 },
          now,
        );
        told++;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return told;
  }

  /**
   * Alerts that could not be delivered earlier (e.g. once an admin installs the bot); each is claimed first, so it goes
   * out once.
   */
  async deliverPending(): Promise<number> {
    let delivered = 0;
    for (const alert of await this.options.store.alerts.listPendingDelivery(100)) {
      if (alert.state !== 'open') continue;
      const claimed = await this.claim(alert);
      if (claimed && (await this.deliverClaimed(claimed))) delivered++;
    }
    return delivered;
  }

  listOpen(tenantId: string): Promise<AlertRecord[]> {
    return this.options.store.alerts.list(tenantId, ['open', 'acknowledged'], 200);
  }

  async acknowledge(actor: Actor, key: string): Promise<AlertRecord | null> {
    return retryOnConflict(
      async () => {
        const alert = await this.options.store.alerts.get(actor.tenantId, key);
        if (!alert) return null;
        if (alert.state !== 'open') return alert;
        const acknowledged = await this.options.store.alerts.update(
          actor.tenantId,
          key,
          alert.version,
          { state: 'acknowledged', acknowledgedBy: actor.displayName || actor.userId },
          this.clock(),
        );
        // The cards say who acknowledged it (and lose their Acknowledge button).
        const cards = await this.cards.read(actor.tenantId, key);
        if (cards.locations.length > 0)
          await this.options.messenger.updateAlertCards(
            cards.locations,
            this.notice(acknowledged, 'problem', cards.blocks),
          );
        return acknowledged;
      },
      { onGiveUp: async () => (await this.options.store.alerts.get(actor.tenantId, key)) ?? null },
    );
  }
}
