/** Wires the Teams side (state, dialogs, handler, proactive messenger) onto the domain services. */
import type { GuestSettings } from '../config';
import { randomUUID } from 'node:crypto';
import { ConversationState, type BotAdapter, type CloudAdapter } from 'botbuilder';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Directory } from '../graph/directory';
import { InviteGuestService } from '../domain/inviteGuest';
import { BulkInviteService } from '../domain/bulk/bulkInvite';
import { BulkFlow } from './bulk/bulkFlow';
import { resumedCards } from './bulk/bulkCards';
import { RequestAccessService, type ApprovalMessenger } from '../domain/requestAccess';
import { AdminAlertService, type AlertMessenger } from '../domain/adminAlerts';
import { SetupCheckService, type InstallProbe } from '../domain/setupCheck';
import { reportBlocked } from '../domain/model';
import { msg } from '../domain/message';
import type { TeamsAppInstaller } from '../graph/teamsApps';
import { PersonalChatService } from './delivery/reachability';
import { Catalog } from '../domain/catalog';
import { HourlyLimiter } from '../domain/rateLimit';
import { readCheck, readLimit } from './readLimit';
import { GuestRecorder } from '../domain/guestRecords';
import { GuestLifecycleService } from '../domain/guestLifecycle';
import { GuestReviewService, type ReviewMessenger } from '../domain/guestReview';
import { GuestActions } from './guests/actions';
import { TeamsReviewMessenger } from './guests/reviewMessenger';
import { AdminCommands, type RetryOperation } from './adminCommands';
import { BotStateStorage } from './stateStorage';
import { InviteGuestDialog, outcomeToCard } from './dialogs/inviteGuestDialog';
import { locFor } from './locale';
import { RequestAccessDialog } from './dialogs/requestAccessDialog';
import { MainDialog } from './dialogs/mainDialog';
import { TeamsBot } from './teamsBot';
import { TeamsMessenger } from './messenger';
import type { Outbox } from './delivery/outbox';
import { RequestActions } from './requestActions';
import { installTurnErrorHandler } from './adapter';
import { BackgroundWork, type CardUpdater, type SlowWork } from './background';
import { FileIntake } from './files/fileIntake';
import { FileExport } from './files/fileExport';
import { fileHosts, type FileFetch } from '../domain/files/download';
import type { FileSettings } from '../config';
import { reopenFailedOperations, reopenOperation } from '../domain/operations';
import { PersonErasure } from '../domain/personErasure';
import { PrivacyActions } from './privacyActions';

export interface BotParts {
  bot: TeamsBot;
  conversationState: ConversationState;
  /**
   * Carries on with operations a crash or restart left unfinished (invitations, approvals) and with failed ones
   * due for an automatic retry; shows their outcome on the owner's card.
   */
  resumeOperations(): Promise<number>;
  /** This process's id among the instances sharing the store (owner of its leases). */
  instanceId: string;
  /** Work that went on after its turn answered (shutdown waits for it). */
  background: BackgroundWork;
  /** Every proactive message, recorded before it is sent (start it to send in the background; stop it at shutdown). */
  outbox: Outbox;
  inviteGuest: InviteGuestService;
  requestAccess: RequestAccessService;
  adminAlerts: AdminAlertService;
  setupCheck: SetupCheckService;
  guestLifecycle: GuestLifecycleService;
  guestReview: GuestReviewService;
}


export const DEFAULT_GUEST_SETTINGS: GuestSettings = {
  resendCooldownMs: 24 * 3_600_000,
  reviewIntervalMs: 90 * 86_400_000,
  reviewGraceMs: 14 * 86_400_000,
  reviewDefault: 'remove',
  invitationStaleAfterMs: 30 * 86_400_000,
  sponsorsInEntra: false,
};

export interface ComposeOptions {
  store: Store;
  directory: Directory;
  logger: Logger;
  adapter: BotAdapter;
  /** The bot's Microsoft App ID ('' when anonymous), for proactive messages. */
  appId: string;
  defaultRedirectUrl: string;
  /** Replace Teams delivery (tests). */
  messenger?: ApprovalMessenger;
  alertMessenger?: AlertMessenger;
  adminUserIds?: readonly string[];
  alertQuietPeriodMs?: number;
  /** How long one process holds an operation before another may resume it. */
  operationLeaseMs?: number;
  /** INVITES_PER_USER_PER_HOUR: new invitations, and new requests, per user and hour. */
  actionsPerUserPerHour?: number;
  /** READS_PER_USER_PER_HOUR: commands that read much of the directory, per user over a sliding hour. */
  readsPerUserPerHour?: number;
  /** ALLOWED_TENANT_IDS: when set, activities from other tenants are refused. */
  allowedTenantIds?: readonly string[];
  /** Which serviceUrls a user's conversation reference may be kept with (live: https only). */
  trustServiceUrl?: (serviceUrl: string) => boolean;
  remindAfterMs?: number;
  expireAfterMs?: number;
  replicationBackoffMs?: readonly number[];
  /** REPLICATION_WAIT: how long a membership write waits for a just-invited guest to show in the directory. */
  replicationWaitMs?: number;
  /** Waits before reading whether an ambiguous write took effect (tests shorten them). */
  confirmBackoffMs?: readonly number[];
  /** A failed operation is retried automatically this long after it failed (OPERATION_RETRY_AFTER)... */
  operationRetryAfterMs?: number;
  /** ...at most this many times (OPERATION_RETRY_MAX); then an admin can still run `retry operation <id>`. */
  operationRetryMax?: number;
  /** Replaces a card proactively (default: the Teams messenger). */
  cardUpdater?: CardUpdater;
  /** How long a card submit's turn waits for a directory write before answering "still working". */
  turnDeadlineMs?: number;
  /** How long an Action.Execute invoke waits before answering "working on it". */
  invokeDeadlineMs?: number;
  /** BULK_INVITE_MAX and BULK_RECHECK_AFTER. */
  bulk?: { maxAddresses: number; recheckAfterMs: number };
  /** Guest lists as files (FILE_MAX_BYTES, FILE_HOSTS); `fetch` stands in for the network in tests. */
  files?: Partial<FileSettings> & { fetch?: FileFetch };
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  guests?: GuestSettings;
  /** Replace Teams delivery of review cards (tests). */
  reviewMessenger?: ReviewMessenger;
  /** Installing the bot for people who never opened it (Graph); without it such people are unreachable. */
  teamsApp?: { installer: TeamsAppInstaller | null; manifestId: string | null; catalogId: string | null };
}

/** Files: 2 MB a file, a workbook at most 20 MB once uncompressed, hosts derived from the tenant's initial domain. */
export const DEFAULT_FILE_SETTINGS: FileSettings = { maxBytes: 2 * 1024 * 1024, maxUncompressedBytes: 20 * 1024 * 1024, hosts: [] };

export function composeBot(options: ComposeOptions): BotParts {
  const { store, directory, logger, clock, sleep } = options;
  const guests = options.guests ?? DEFAULT_GUEST_SETTINGS;
  const instanceId = randomUUID();
  // The admins are told once per fix when someone cannot be reached (adminAlerts is made below; it needs `teams`).
  let reportUnreachable: (tenantId: string, userId: string, reason: string) => Promise<void> = async () => undefined;
  const chats: PersonalChatService = new PersonalChatService({
    adapter: options.adapter as CloudAdapter,
    appId: options.appId,
    conversations: store.conversations,
    state: store.state,
    logger,
    installer: options.teamsApp?.installer ?? null,
    manifestId: options.teamsApp?.manifestId ?? null,
    catalogId: options.teamsApp?.catalogId ?? null,
    onUnreachable: (tenantId, userId, reason) => reportUnreachable(tenantId, userId, reason),
    // createConversation counts against Teams' limits like a send: paced by the outbox's pacer (made below).
    pace: (tenantId: string, userId: string): Promise<() => void> => teams.outbox.paceFor(tenantId, userId),
    clock,
  });
  const teams: TeamsMessenger = new TeamsMessenger(options.adapter as CloudAdapter, store, options.appId, logger, { clock, instanceId, leaseMs: options.operationLeaseMs, chats });
  const installProbe: InstallProbe = async (tenantId) => {
    const probe = await chats.canInstall(tenantId);
    return probe && (probe.ok ? probe : { ok: false, reason: probe.reason });
  };
  const setupCheck = new SetupCheckService(directory, clock, guests.sponsorsInEntra, installProbe);
  const adminAlerts = new AdminAlertService({
    store,
    directory,
    setup: setupCheck,
    messenger: options.alertMessenger ?? teams,
    logger,
    adminUserIds: options.adminUserIds,
    quietPeriodMs: options.alertQuietPeriodMs,
    clock,
  });
  reportUnreachable = (tenantId, userId, reason) =>
    reportBlocked(adminAlerts.reportBlocked.bind(adminAlerts), logger, {
      tenantId,
      actor: { tenantId, userId, displayName: '' },
      doing: msg('reach:doing'),
      kind: 'botCannotReach',
      app: null,
      group: null,
      detail: reason,
    });
  const limiter = new HourlyLimiter(store.state, options.actionsPerUserPerHour ?? 20, clock);
  const readsChecked = readCheck(new HourlyLimiter(store.state, options.readsPerUserPerHour ?? 60, clock));
  const reads = readLimit(readsChecked);
  const onBlocked = (report: Parameters<AdminAlertService['reportBlocked']>[0]): Promise<void> => adminAlerts.reportBlocked(report);
  const catalog = new Catalog(directory, clock);
  const guestRecorder = new GuestRecorder({ directory, store, logger, clock, sponsorsInEntra: guests.sponsorsInEntra, onBlocked });
  const inviteGuest = new InviteGuestService({
    directory,
    store,
    logger,
    defaultRedirectUrl: options.defaultRedirectUrl,
    instanceId,
    clock,
    sleep,
    replicationBackoffMs: options.replicationBackoffMs,
    replicationWaitMs: options.replicationWaitMs,
    confirmBackoffMs: options.confirmBackoffMs,
    catalog,
    onBlocked,
    limiter,
    leaseMs: options.operationLeaseMs,
    guestRecorder,
  });
  const bulkInvite = new BulkInviteService({
    directory,
    store,
    logger,
    defaultRedirectUrl: options.defaultRedirectUrl,
    instanceId,
    clock,
    sleep,
    leaseMs: options.operationLeaseMs,
    replicationBackoffMs: options.replicationBackoffMs,
    replicationWaitMs: options.replicationWaitMs,
    confirmBackoffMs: options.confirmBackoffMs,
    tenantDomains: () => inviteGuest.tenantDomains(),
    maxAddresses: options.bulk?.maxAddresses,
    recheckAfterMs: options.bulk?.recheckAfterMs,
    limiter,
  });
  const messenger = options.messenger ?? teams;
  const requestAccess = new RequestAccessService({
    directory,
    store,
    messenger,
    logger,
    clock,
    instanceId,
    remindAfterMs: options.remindAfterMs,
    expireAfterMs: options.expireAfterMs,
    catalog,
    onBlocked,
    limiter,
    leaseMs: options.operationLeaseMs,
    sleep,
    guestRecorder,
  });
  const conversationState = new ConversationState(new BotStateStorage(store.state));
  const background = new BackgroundWork(logger);
  const updateCard: CardUpdater = options.cardUpdater ?? ((location, card) => teams.replaceCard(location, card));
  const slow: SlowWork = { background, updateCard, turnDeadlineMs: options.turnDeadlineMs ?? 5_000, invokeDeadlineMs: options.invokeDeadlineMs ?? 2_000 };
  const requestActions = new RequestActions(requestAccess, logger, slow);
  const guestLifecycle = new GuestLifecycleService({ directory, store, logger, catalog, defaultRedirectUrl: options.defaultRedirectUrl, resendCooldownMs: guests.resendCooldownMs, clock, sleep, instanceId, leaseMs: options.operationLeaseMs });
  const guestReview = new GuestReviewService({
    store,
    logger,
    catalog,
    lifecycle: guestLifecycle,
    messenger: options.reviewMessenger ?? new TeamsReviewMessenger(teams, guests.reviewDefault, logger),
    clock,
    intervalMs: guests.reviewIntervalMs,
    graceMs: guests.reviewGraceMs,
    defaultDecision: guests.reviewDefault,
    staleAfterMs: guests.invitationStaleAfterMs,
    adminUserIds: options.adminUserIds,
  });
  const fileSettings: FileSettings = { ...DEFAULT_FILE_SETTINGS, ...options.files };
  const hosts = async (): Promise<string[]> => fileHosts((await inviteGuest.tenantDomains()).domains, fileSettings.hosts);
  const fileIntake = new FileIntake({
    hosts,
    maxBytes: fileSettings.maxBytes,
    maxRows: options.bulk?.maxAddresses ?? 100,
    maxUncompressedBytes: fileSettings.maxUncompressedBytes,
    checkMessage: (raw) => inviteGuest.checkWelcomeMessage(raw),
    logger,
    fetch: options.files?.fetch,
  });
  const fileExport = new FileExport({
    store,
    logger,
    isAdmin: (actor) => adminAlerts.isAdmin(actor),
    ownedGroupIds: async (actor) => (await guestLifecycle.ownedGroups(actor)).map((g) => g.groupId),
    hosts,
    reviewIntervalMs: guests.reviewIntervalMs,
    reviewGraceMs: guests.reviewGraceMs,
    clock,
    fetch: options.files?.fetch,
  });
  const guestActions = new GuestActions({
    files: fileExport,
    lifecycle: guestLifecycle,
    review: guestReview,
    store,
    logger,
    slow,
    isAdmin: (actor) => adminAlerts.isAdmin(actor),
    reviewDefault: guests.reviewDefault,
    reviewIntervalMs: guests.reviewIntervalMs,
    reviewGraceMs: guests.reviewGraceMs,
    clock,
    readCheck: readsChecked,
  });
  const now = (): Date => (clock ? clock() : new Date());
  const bulkCards = resumedCards(updateCard);
  const resumeOperations = async (): Promise<number> => {
    await reopenFailedOperations(store.operations, { retryAfterMs: options.operationRetryAfterMs ?? 15 * 60_000, maxAttempts: options.operationRetryMax ?? 3, now: now() });
    const invitations = await inviteGuest.resumeUnfinished(async (record, outcome) => {
      if (record.replyTo) await updateCard(record.replyTo, outcomeToCard(outcome, locFor(record.replyTo)));
    });
    const bulkJobs = await bulkInvite.resumeUnfinished(bulkCards.final, bulkCards.progress);
    return invitations + bulkJobs + (await requestAccess.resumeUnfinished()) + (await guestLifecycle.resumeUnfinished());
  };
  const retryOperation: RetryOperation = async (operationId) => {
    if (!(await reopenOperation(store.operations, operationId, now()))) return { kind: 'notFound' };
    await resumeOperations();
    const record = await store.operations.get(operationId);
    return record?.status === 'succeeded' ? { kind: 'done' } : { kind: 'unfinished', status: record?.status ?? 'unknown' };
  };
  const erasure = new PersonErasure({ store, directory, logger, clock });
  const privacyActions = new PrivacyActions({ erasure, isAdmin: (actor) => adminAlerts.isAdmin(actor), logger });
  const groupHasGuests = async (groupId: string): Promise<boolean> => (await directory.listGuestMembers(groupId)).length > 0;
  const adminCommands = new AdminCommands(adminAlerts, setupCheck, logger, retryOperation, privacyActions, groupHasGuests);
  const bulkFlow = new BulkFlow(bulkInvite, inviteGuest, slow, logger, reads);
  const mainDialog = new MainDialog(new InviteGuestDialog(inviteGuest, logger, slow, bulkFlow), new RequestAccessDialog(requestAccess, logger), requestAccess, requestActions, adminCommands, guestActions, fileIntake, reads);
  const bot = new TeamsBot({ conversationState, mainDialog, requestActions, adminCommands, guestActions, privacyActions, fileExport, store, logger, clock, allowedTenantIds: options.allowedTenantIds, directory, trustServiceUrl: options.trustServiceUrl, chats });
  installTurnErrorHandler(options.adapter, logger, conversationState, onBlocked);
  return { bot, conversationState, outbox: teams.outbox, inviteGuest, requestAccess, adminAlerts, setupCheck, resumeOperations, background, instanceId, guestLifecycle, guestReview };
}
