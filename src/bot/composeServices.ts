/**
 * Builders of the bot's services, one per room, used by composeBot (./compose.ts): proactive delivery, admin alerts
 * and the setup check, invitations (single and bulk), access requests, the guest lifecycle, and guest list files.
 * Each takes the ports and test seams of ComposeOptions, the slice of the settings it needs, and what it builds on.
 */
import type { CloudAdapter } from 'botbuilder';
import { InviteGuestService } from '../domain/invite/inviteGuest';
import { BulkInviteService } from '../domain/bulk/bulkJob';
import { RequestAccessService } from '../domain/requests/requestAccess';
import { AdminAlertService } from '../domain/admin/alerts';
import { SetupCheckService, type InstallProbe } from '../domain/admin/setupCheck';
import { reportBlocked } from '../domain/shared/model';
import { msg } from '../domain/shared/message';
import { Catalog } from '../domain/shared/catalog';
import { HourlyLimiter } from '../domain/shared/rateLimit';
import { GuestRecorder } from '../domain/guests/records';
import { GuestLifecycleService } from '../domain/guests/lifecycle';
import { GuestReviewService } from '../domain/guests/review';
import { fileHosts } from '../domain/files/download';
import { PersonalChatService } from './delivery/reachability';
import { TeamsMessenger } from './messenger';
import { TeamsReviewMessenger } from './guests/reviewMessenger';
import { FileIntake } from './files/intake';
import { FileExport } from './files/export';
import type { ComposeOptions } from './compose';

/** What a blocked directory call is reported with (admin alerts). */
export type OnBlocked = (report: Parameters<AdminAlertService['reportBlocked']>[0]) => Promise<void>;

/**
 * The admins are told once per fix when someone cannot be reached; the chats that find people are built before
 * the alert service (which sends through them), so the service is handed over once it exists.
 */
class UnreachableReports {
  alerts: AdminAlertService | undefined;

  constructor(private readonly logger: ComposeOptions['logger']) {}

  async report(tenantId: string, userId: string, reason: string): Promise<void> {
    if (!this.alerts) return;
    const alerts = this.alerts;
    await reportBlocked(alerts.reportBlocked.bind(alerts), this.logger, {
      tenantId,
      actor: { tenantId, userId, displayName: '' },
      doing: msg('reach:doing'),
      kind: 'botCannotReach',
      app: null,
      group: null,
      detail: reason,
    });
  }
}

export interface Delivery {
  chats: PersonalChatService;
  teams: TeamsMessenger;
  unreachable: UnreachableReports;
}

/** Finding people's chats (installing the app where allowed) and the Teams messenger with its outbox. */
export function composeDelivery(options: ComposeOptions, instanceId: string): Delivery {
  const { store, logger, clock, settings } = options;
  const unreachable = new UnreachableReports(logger);
  const chats: PersonalChatService = new PersonalChatService({
    adapter: options.adapter as CloudAdapter,
    appId: options.appId,
    conversations: store.conversations,
    state: store.state,
    logger,
    installer: options.teamsAppInstaller ?? null,
    ...settings.teamsApp,
    onUnreachable: (tenantId, userId, reason) => unreachable.report(tenantId, userId, reason),
    // createConversation counts against Teams' limits like a send: paced by the outbox's pacer (made below).
    pace: (tenantId: string, userId: string): Promise<() => void> => teams.outbox.paceFor(tenantId, userId),
    clock,
  });
  const teams: TeamsMessenger = new TeamsMessenger(options.adapter as CloudAdapter, store, options.appId, logger, {
    clock,
    instanceId,
    leaseMs: settings.operations.leaseMs,
    chats,
  });
  return { chats, teams, unreachable };
}

export interface Admin {
  setupCheck: SetupCheckService;
  adminAlerts: AdminAlertService;
  onBlocked: OnBlocked;
}

/** The setup check (with whether the bot can install itself) and the admin alerts. */
export function composeAdmin(options: ComposeOptions, delivery: Delivery): Admin {
  const { store, directory, logger, clock, settings } = options;
  const installProbe: InstallProbe = async (tenantId) => {
    const probe = await delivery.chats.canInstall(tenantId);
    return probe && (probe.ok ? probe : { ok: false, reason: probe.reason });
  };
  const setupCheck = new SetupCheckService(directory, clock, settings.guests.sponsorsInEntra, installProbe);
  const adminAlerts = new AdminAlertService({
    store,
    directory,
    setup: setupCheck,
    messenger: options.alertMessenger ?? delivery.teams,
    logger,
    adminUserIds: settings.alerts.adminUserIds,
    quietPeriodMs: settings.alerts.quietPeriodMs,
    clock,
  });
  delivery.unreachable.alerts = adminAlerts;
  const onBlocked: OnBlocked = (report) => adminAlerts.reportBlocked(report);
  return { setupCheck, adminAlerts, onBlocked };
}

/** What the directory services share: the catalog of apps and groups, the hourly limit, guest records. */
export interface Shared {
  instanceId: string;
  catalog: Catalog;
  limiter: HourlyLimiter;
  guestRecorder: GuestRecorder;
  onBlocked: OnBlocked;
}

export function composeShared(options: ComposeOptions, instanceId: string, onBlocked: OnBlocked): Shared {
  const { store, directory, logger, clock, settings } = options;
  const limiter = new HourlyLimiter(store.state, settings.actionsPerUserPerHour, clock);
  const catalog = new Catalog(directory, clock);
  const guestRecorder = new GuestRecorder({
    directory,
    store,
    logger,
    clock,
    sponsorsInEntra: settings.guests.sponsorsInEntra,
    onBlocked,
  });
  return { instanceId, catalog, limiter, guestRecorder, onBlocked };
}

/** Single and bulk invitations: the same directory writes, leases, replication waits and hourly limit. */
export function composeInvitations(
  options: ComposeOptions,
  shared: Shared,
): { inviteGuest: InviteGuestService; bulkInvite: BulkInviteService } {
  const { store, directory, logger, clock, sleep, settings } = options;
  const operationOptions = {
    directory,
    store,
    logger,
    defaultRedirectUrl: settings.defaultRedirectUrl,
    instanceId: shared.instanceId,
    clock,
    sleep,
    leaseMs: settings.operations.leaseMs,
    replicationBackoffMs: options.replicationBackoffMs,
    replicationWaitMs: settings.operations.replicationWaitMs,
    confirmBackoffMs: options.confirmBackoffMs,
    limiter: shared.limiter,
  };
  const inviteGuest = new InviteGuestService({
    ...operationOptions,
    catalog: shared.catalog,
    onBlocked: shared.onBlocked,
    guestRecorder: shared.guestRecorder,
  });
  const bulkInvite = new BulkInviteService({
    ...operationOptions,
    tenantDomains: () => inviteGuest.tenantDomains(),
    ...settings.bulk,
  });
  return { inviteGuest, bulkInvite };
}

export function composeRequests(options: ComposeOptions, shared: Shared, delivery: Delivery): RequestAccessService {
  const { store, directory, logger, clock, sleep, settings } = options;
  return new RequestAccessService({
    directory,
    store,
    messenger: options.messenger ?? delivery.teams,
    logger,
    clock,
    instanceId: shared.instanceId,
    remindAfterMs: settings.requests.remindAfterMs,
    expireAfterMs: settings.requests.expireAfterMs,
    catalog: shared.catalog,
    onBlocked: shared.onBlocked,
    limiter: shared.limiter,
    leaseMs: settings.operations.leaseMs,
    sleep,
    guestRecorder: shared.guestRecorder,
  });
}

/** Resends and removals of guests, and their periodic review by the group owners. */
export function composeGuests(
  options: ComposeOptions,
  shared: Shared,
  delivery: Delivery,
): { guestLifecycle: GuestLifecycleService; guestReview: GuestReviewService } {
  const { store, directory, logger, clock, sleep, settings } = options;
  const guests = settings.guests;
  const guestLifecycle = new GuestLifecycleService({
    directory,
    store,
    logger,
    catalog: shared.catalog,
    defaultRedirectUrl: settings.defaultRedirectUrl,
    resendCooldownMs: guests.resendCooldownMs,
    clock,
    sleep,
    instanceId: shared.instanceId,
    leaseMs: settings.operations.leaseMs,
  });
  const guestReview = new GuestReviewService({
    store,
    logger,
    catalog: shared.catalog,
    lifecycle: guestLifecycle,
    messenger: options.reviewMessenger ?? new TeamsReviewMessenger(delivery.teams, guests.reviewDefault, logger),
    clock,
    intervalMs: guests.reviewIntervalMs,
    graceMs: guests.reviewGraceMs,
    defaultDecision: guests.reviewDefault,
    staleAfterMs: guests.invitationStaleAfterMs,
    adminUserIds: settings.alerts.adminUserIds,
  });
  return { guestLifecycle, guestReview };
}

/** Guest lists sent as files (bulk invitations) and the guest list exported as one. */
export function composeFiles(
  options: ComposeOptions,
  services: { inviteGuest: InviteGuestService; adminAlerts: AdminAlertService; guestLifecycle: GuestLifecycleService },
): { fileIntake: FileIntake; fileExport: FileExport } {
  const { store, logger, clock, settings } = options;
  const { inviteGuest, adminAlerts, guestLifecycle } = services;
  const files = settings.files;
  const hosts = async (): Promise<string[]> => fileHosts((await inviteGuest.tenantDomains()).domains, files.hosts);
  const fileIntake = new FileIntake({
    hosts,
    maxBytes: files.maxBytes,
    maxRows: settings.bulk.maxAddresses,
    maxUncompressedBytes: files.maxUncompressedBytes,
    checkMessage: (raw) => inviteGuest.checkWelcomeMessage(raw),
    logger,
    fetch: options.fetchFile,
  });
  const fileExport = new FileExport({
    store,
    logger,
    isAdmin: (actor) => adminAlerts.isAdmin(actor),
    ownedGroupIds: async (actor) => (await guestLifecycle.ownedGroups(actor)).map((g) => g.groupId),
    hosts,
    reviewIntervalMs: settings.guests.reviewIntervalMs,
    reviewGraceMs: settings.guests.reviewGraceMs,
    clock,
    fetch: options.fetchFile,
  });
  return { fileIntake, fileExport };
}
