/**
 * Use case: tell the admins about setup problems, without being asked, once per problem and quiet period.
 * Problems come from users who were blocked and from periodic scans. Alerts are records in the store (one per
 * problem key); every decision to alert is a compare-and-set, so several processes never send the same alert
 * twice; an alert nobody could receive stays pending until an admin is reachable.
 */
import type { Logger } from '../logging';
import type { Directory } from '../graph/directory';
import { ConflictError, type AlertPatch, type AlertRecord, type JsonObject, type Store } from '../store/store';
import type { Actor, BlockedReport } from './model';
import { problemFor, type SetupCheckService, type SetupReport } from './setupCheck';

/** Directory roles whose holders are admins for this bot (role template ids). */
export const ADMIN_ROLES: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  'fdd7a751-b60b-444a-984c-02652fe8fa1c': 'Groups Administrator',
};

export type AlertEvent = 'problem' | 'fixed';

/** Delivers alerts (Teams in production). References are opaque to the domain. */
export interface AlertMessenger {
  sendToChannel(channel: JsonObject, alert: AlertRecord, event: AlertEvent): Promise<boolean>;
  /** False when the user cannot be reached (no conversation with the bot). */
  sendToUser(tenantId: string, userId: string, alert: AlertRecord, event: AlertEvent): Promise<boolean>;
}


export interface AdminAlertOptions {
  store: Store;
  directory: Directory;
  setup: SetupCheckService;
  messenger: AlertMessenger;
  logger: Logger;
  adminUserIds?: readonly string[];
  quietPeriodMs?: number;
  roleCacheMs?: number;
  clock?: () => Date;
}

const channelKey = (tenantId: string): string => `alert-channel/${tenantId}`;

export class AdminAlertService {
  private readonly clock: () => Date;
  /** Holders of the admin roles (one set for the bot's tenant), read at most every `roleCacheMs`. */
  private holders: { ids: Promise<Set<string>>; until: number } | null = null;

  constructor(private readonly options: AdminAlertOptions) {
    this.clock = options.clock ?? (() => new Date());
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

  /** A user was blocked by a setup problem: count it, and alert the admins unless they were told within the quiet period. */
  async reportBlocked(event: BlockedReport): Promise<void> {
    const problem = problemFor(event.kind, event.app, event.group, event.detail);
    const blocked: JsonObject = { userId: event.actor.userId, name: event.actor.displayName, doing: JSON.parse(JSON.stringify(event.doing)) as JsonObject, at: this.clock().toISOString() };
    const record = await this.options.store.alerts.recordOccurrence({ tenantId: event.tenantId, ...problem, lastBlocked: blocked }, this.clock());
    await this.alertIfDue(record);
  }

  /** Scan the tenant: new problems are alerted (quiet period applies), problems no longer found are resolved and reported fixed. */
  async scanAndAlert(tenantId: string): Promise<{ report: SetupReport; alerted: number; fixed: number }> {
    const report = await this.options.setup.scan();
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
      if (found.has(open.key) || open.kind === 'missingPermission') continue;
      try {
        const resolved = await this.options.store.alerts.update(tenantId, open.key, open.version, { state: 'resolved', resolvedAt: this.clock().toISOString(), pendingDelivery: false }, this.clock());
        fixed++;
        await this.deliver(resolved, 'fixed');
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
    const quiet = this.options.quietPeriodMs ?? 24 * 3600_000;
    if (record.lastAlertedAt && now.getTime() - Date.parse(record.lastAlertedAt) < quiet) return false;
    let claimed: AlertRecord;
    try {
      claimed = await this.options.store.alerts.update(record.tenantId, record.key, record.version, { lastAlertedAt: now.toISOString(), pendingDelivery: false }, now);
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
    // Raised now; delivered now, or kept until an admin can be reached.
    await this.deliverClaimed(claimed);
    return true;
  }

  /** Sends a claimed alert; records it as told (quiet period from now) or as waiting for an admin. */
  private async deliverClaimed(alert: AlertRecord): Promise<boolean> {
    const delivered = await this.deliver(alert, 'problem');
    const now = this.clock().toISOString();
    await this.patchAlert(alert, delivered ? { pendingDelivery: false, countSinceAlert: 0, lastAlertedAt: now } : { pendingDelivery: true, lastAlertedAt: null });
    return delivered;
  }

  private async patchAlert(alert: AlertRecord, patch: AlertPatch): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.options.store.alerts.get(alert.tenantId, alert.key);
      if (!current) return;
      try {
        await this.options.store.alerts.update(alert.tenantId, alert.key, current.version, patch, this.clock());
        return;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
  }

  /** Sends to the alert channel if one is set, else to every admin who can be reached. */
  private async deliver(alert: AlertRecord, event: AlertEvent): Promise<boolean> {
    let delivered = false;
    const channel = await this.channel(alert.tenantId);
    if (channel) delivered = await this.options.messenger.sendToChannel(channel, alert, event).catch(() => false);
    if (!delivered) {
      for (const adminId of await this.adminIds()) {
        if (await this.options.messenger.sendToUser(alert.tenantId, adminId, alert, event).catch(() => false)) delivered = true;
      }
    }
    this.options.logger.info(delivered ? 'alert.delivered' : 'alert.deferred', { alertKey: alert.key, alertEvent: event });
    return delivered;
  }

  /** Alerts that could not be delivered earlier (e.g. once an admin installs the bot); each is claimed first, so it goes out once. */
  async deliverPending(): Promise<number> {
    let delivered = 0;
    for (const alert of await this.options.store.alerts.listPendingDelivery(100)) {
      if (alert.state !== 'open') continue;
      let claimed: AlertRecord;
      try {
        claimed = await this.options.store.alerts.update(alert.tenantId, alert.key, alert.version, { pendingDelivery: false }, this.clock());
      } catch (err) {
        if (err instanceof ConflictError) continue;
        throw err;
      }
      if (await this.deliverClaimed(claimed)) delivered++;
    }
    return delivered;
  }

  listOpen(tenantId: string): Promise<AlertRecord[]> {
    return this.options.store.alerts.list(tenantId, ['open', 'acknowledged'], 200);
  }

  async acknowledge(actor: Actor, key: string): Promise<AlertRecord | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const alert = await this.options.store.alerts.get(actor.tenantId, key);
      if (!alert) return null;
      if (alert.state !== 'open') return alert;
      try {
        return await this.options.store.alerts.update(actor.tenantId, key, alert.version, { state: 'acknowledged', acknowledgedBy: actor.displayName || actor.userId }, this.clock());
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return this.options.store.alerts.get(actor.tenantId, key).then((a) => a ?? null);
  }
}
