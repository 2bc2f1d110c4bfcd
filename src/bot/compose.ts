/** Wires the Teams side (state, dialogs, handler, proactive messenger) onto the domain services. */
import type { Settings } from '../config';
import { randomUUID } from 'node:crypto';
import { ConversationState, type BotAdapter, type CloudAdapter } from 'botbuilder';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Directory } from '../graph/directory';
import { InviteGuestService } from '../domain/invite/inviteGuest';
import { INVITE_OPERATION_KIND } from '../domain/invite/model';
import { BULK_OPERATION_KIND, BulkInviteService } from '../domain/bulk/bulkJob';
import { BulkFlow } from './bulk/flow';
import { resumedCards } from './bulk/cards';
import { RequestAccessService } from '../domain/requests/requestAccess';
import { APPROVAL_OPERATION_KINDS } from '../domain/requests/approval';
import type { ApprovalMessenger } from '../domain/requests/model';
import { AdminAlertService, type AlertMessenger } from '../domain/admin/alerts';
import { SetupCheckService, type InstallProbe } from '../domain/admin/setupCheck';
import { reportBlocked } from '../domain/shared/model';
import { msg } from '../domain/shared/message';
import type { TeamsAppInstaller } from '../graph/teamsApps';
import { PersonalChatService } from './delivery/reachability';
import { Catalog } from '../domain/shared/catalog';
import { HourlyLimiter } from '../domain/shared/rateLimit';
import { readCheck, readLimit } from './readLimit';
import { GuestRecorder } from '../domain/guests/records';
import { GuestLifecycleService } from '../domain/guests/lifecycle';
import { REMOVE_OPERATION_KIND } from '../domain/guests/removal';
import { GuestReviewService, type ReviewMessenger } from '../domain/guests/review';
import { GuestActions } from './guests/actions';
import { TeamsReviewMessenger } from './guests/reviewMessenger';
import { AdminCommands, type RetryOperation } from './admin/commands';
import { BotStateStorage } from './stateStorage';
import { InviteGuestDialog, outcomeToCard } from './invite/dialog';
import { locFor } from './locale';
import { RequestAccessDialog } from './requests/dialog';
import { MainDialog } from './mainDialog';
import { TeamsBot } from './teamsBot';
import { TeamsMessenger } from './messenger';
import type { Outbox } from './delivery/outbox';
import { RequestActions } from './requests/actions';
import { installTurnErrorHandler } from './adapter';
import { BackgroundWork, type CardUpdater, type SlowWork } from './background';
import { FileIntake } from './files/intake';
import { FileExport } from './files/export';
import { fileHosts, type FileFetch } from '../domain/files/download';
import { reopenFailedOperations, reopenOperation } from '../domain/shared/operations';
import { OperationResumers } from '../domain/shared/resumers';
import { PersonErasure } from '../domain/privacy/personErasure';
import { PrivacyActions } from './privacy/actions';

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

/**
 * The slices of the settings the bot's services are built from (src/config.ts, the only place with defaults;
 * tests start from loadSettings({})).
 */
export type ComposeSettings = Pick<
  Settings,
  | 'defaultRedirectUrl'
  | 'requests'
  | 'alerts'
  | 'actionsPerUserPerHour'
  | 'readsPerUserPerHour'
  | 'bulk'
  | 'files'
  | 'operations'
  | 'allowedTenantIds'
  | 'guests'
  | 'teamsApp'
>;

export interface ComposeOptions {
  store: Store;
  directory: Directory;
  logger: Logger;
  adapter: BotAdapter;
  /** The bot's Microsoft App ID ('' when anonymous), for proactive messages. */
  appId: string;
  settings: ComposeSettings;
  /** Replace Teams delivery (tests). */
  messenger?: ApprovalMessenger;
  alertMessenger?: AlertMessenger;
  /** Which serviceUrls a user's conversation reference may be kept with (live: https only). */
  trustServiceUrl?: (serviceUrl: string) => boolean;
  replicationBackoffMs?: readonly number[];
  /** Waits before reading whether an ambiguous write took effect (tests shorten them). */
  confirmBackoffMs?: readonly number[];
  /** Replaces a card proactively (default: the Teams messenger). */
  cardUpdater?: CardUpdater;
  /** How long a card submit's turn waits for a directory write before answering "still working". */
  turnDeadlineMs?: number;
  /** How long an Action.Execute invoke waits before answering "working on it". */
  invokeDeadlineMs?: number;
  /** Stands in for the network when guest lists are fetched as files (tests). */
  fetchFile?: FileFetch;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Replace Teams delivery of review cards (tests). */
  reviewMessenger?: ReviewMessenger;
  /** Installing the bot for people who never opened it (Graph); without it such people are unreachable. */
  teamsAppInstaller?: TeamsAppInstaller | null;
}

export function composeBot(options: ComposeOptions): BotParts {
  const { store, directory, logger, clock, sleep, settings } = options;
  const { guests, operations } = settings;
  const instanceId = randomUUID();
  // The admins are told once per fix when someone cannot be reached (adminAlerts is made below; it needs `teams`).
  let reportUnreachable: (tenantId: string, userId: string, reason: string) => Promise<void> = async () => undefined;
  const chats: PersonalChatService = new PersonalChatService({
    adapter: options.adapter as CloudAdapter,
    appId: options.appId,
    conversations: store.conversations,
    state: store.state,
    logger,
    installer: options.teamsAppInstaller ?? null,
    manifestId: settings.teamsApp.manifestId,
    catalogId: settings.teamsApp.catalogId,
    onUnreachable: (tenantId, userId, reason) => reportUnreachable(tenantId, userId, reason),
    // createConversation counts against Teams' limits like a send: paced by the outbox's pacer (made below).
    pace: (tenantId: string, userId: string): Promise<() => void> => teams.outbox.paceFor(tenantId, userId),
    clock,
  });
  const teams: TeamsMessenger = new TeamsMessenger(options.adapter as CloudAdapter, store, options.appId, logger, {
    clock,
    instanceId,
    leaseMs: operations.leaseMs,
    chats,
  });
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
    adminUserIds: settings.alerts.adminUserIds,
    quietPeriodMs: settings.alerts.quietPeriodMs,
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
  const limiter = new HourlyLimiter(store.state, settings.actionsPerUserPerHour, clock);
  const readsChecked = readCheck(new HourlyLimiter(store.state, settings.readsPerUserPerHour, clock));
  const reads = readLimit(readsChecked);
  const onBlocked = (report: Parameters<AdminAlertService['reportBlocked']>[0]): Promise<void> =>
    adminAlerts.reportBlocked(report);
  const catalog = new Catalog(directory, clock);
  const guestRecorder = new GuestRecorder({
    directory,
    store,
    logger,
    clock,
    sponsorsInEntra: guests.sponsorsInEntra,
    onBlocked,
  });
  const inviteGuest = new InviteGuestService({
    directory,
    store,
    logger,
    defaultRedirectUrl: settings.defaultRedirectUrl,
    instanceId,
    clock,
    sleep,
    replicationBackoffMs: options.replicationBackoffMs,
    replicationWaitMs: operations.replicationWaitMs,
    confirmBackoffMs: options.confirmBackoffMs,
    catalog,
    onBlocked,
    limiter,
    leaseMs: operations.leaseMs,
    guestRecorder,
  });
  const bulkInvite = new BulkInviteService({
    directory,
    store,
    logger,
    defaultRedirectUrl: settings.defaultRedirectUrl,
    instanceId,
    clock,
    sleep,
    leaseMs: operations.leaseMs,
    replicationBackoffMs: options.replicationBackoffMs,
    replicationWaitMs: operations.replicationWaitMs,
    confirmBackoffMs: options.confirmBackoffMs,
    tenantDomains: () => inviteGuest.tenantDomains(),
    maxAddresses: settings.bulk.maxAddresses,
    recheckAfterMs: settings.bulk.recheckAfterMs,
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
    remindAfterMs: settings.requests.remindAfterMs,
    expireAfterMs: settings.requests.expireAfterMs,
    catalog,
    onBlocked,
    limiter,
    leaseMs: operations.leaseMs,
    sleep,
    guestRecorder,
  });
  const conversationState = new ConversationState(new BotStateStorage(store.state));
  const background = new BackgroundWork(logger);
  const updateCard: CardUpdater = options.cardUpdater ?? ((location, card) => teams.replaceCard(location, card));
  const slow: SlowWork = {
    background,
    updateCard,
    turnDeadlineMs: options.turnDeadlineMs ?? 5_000,
    invokeDeadlineMs: options.invokeDeadlineMs ?? 2_000,
  };
  const requestActions = new RequestActions(requestAccess, logger, slow);
  const guestLifecycle = new GuestLifecycleService({
    directory,
    store,
    logger,
    catalog,
    defaultRedirectUrl: settings.defaultRedirectUrl,
    resendCooldownMs: guests.resendCooldownMs,
    clock,
    sleep,
    instanceId,
    leaseMs: operations.leaseMs,
  });
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
    adminUserIds: settings.alerts.adminUserIds,
  });
  const fileSettings = settings.files;
  const hosts = async (): Promise<string[]> =>
    fileHosts((await inviteGuest.tenantDomains()).domains, fileSettings.hosts);
  const fileIntake = new FileIntake({
    hosts,
    maxBytes: fileSettings.maxBytes,
    maxRows: settings.bulk.maxAddresses,
    maxUncompressedBytes: fileSettings.maxUncompressedBytes,
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
    reviewIntervalMs: guests.reviewIntervalMs,
    reviewGraceMs: guests.reviewGraceMs,
    clock,
    fetch: options.fetchFile,
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
  const resumers = new OperationResumers(store.operations, now)
    .register(INVITE_OPERATION_KIND, (record) =>
      inviteGuest.resume(record, async (done, outcome) => {
        if (done.replyTo) await updateCard(done.replyTo, outcomeToCard(outcome, locFor(done.replyTo)));
      }),
    )
    .register(BULK_OPERATION_KIND, (record) => bulkInvite.resume(record, bulkCards.final, bulkCards.progress))
    .register(APPROVAL_OPERATION_KINDS, (record) => requestAccess.resume(record))
    .register(REMOVE_OPERATION_KIND, (record) => guestLifecycle.resume(record));
  const resumeOperations = async (): Promise<number> => {
    await reopenFailedOperations(store.operations, {
      retryAfterMs: operations.retryAfterMs,
      maxAttempts: operations.retryMax,
      now: now(),
    });
    return resumers.resumeAll();
  };
  const retryOperation: RetryOperation = async (operationId) => {
    if (!(await reopenOperation(store.operations, operationId, now()))) return { kind: 'notFound' };
    await resumeOperations();
    const record = await store.operations.get(operationId);
    return record?.status === 'succeeded'
      ? { kind: 'done' }
      : { kind: 'unfinished', status: record?.status ?? 'unknown' };
  };
  const erasure = new PersonErasure({ store, directory, logger, clock });
  const privacyActions = new PrivacyActions({ erasure, isAdmin: (actor) => adminAlerts.isAdmin(actor), logger });
  const groupHasGuests = async (groupId: string): Promise<boolean> =>
    (await directory.listGuestMembers(groupId)).length > 0;
  const adminCommands = new AdminCommands(
    adminAlerts,
    setupCheck,
    logger,
    retryOperation,
    privacyActions,
    groupHasGuests,
  );
  const bulkFlow = new BulkFlow(bulkInvite, inviteGuest, slow, logger, reads);
  const mainDialog = new MainDialog(
    new InviteGuestDialog(inviteGuest, logger, slow, bulkFlow),
    new RequestAccessDialog(requestAccess, logger),
    requestAccess,
    requestActions,
    adminCommands,
    guestActions,
    fileIntake,
    reads,
  );
  const bot = new TeamsBot({
    conversationState,
    mainDialog,
    requestActions,
    adminCommands,
    guestActions,
    privacyActions,
    fileExport,
    store,
    logger,
    clock,
    allowedTenantIds: settings.allowedTenantIds,
    directory,
    trustServiceUrl: options.trustServiceUrl,
    chats,
    welcomes: teams,
  });
  installTurnErrorHandler(options.adapter, logger, conversationState, onBlocked);
  return {
    bot,
    conversationState,
    outbox: teams.outbox,
    inviteGuest,
    requestAccess,
    adminAlerts,
    setupCheck,
    resumeOperations,
    background,
    instanceId,
    guestLifecycle,
    guestReview,
  };
}
