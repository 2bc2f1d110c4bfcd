/**
 * Wires the Teams side (state, dialogs, handler, proactive messenger) onto the domain services: composeBot calls
 * the builders of ./composeServices.ts (one per room), then makes the slow-work seam, the resume of operations,
 * the admin commands and the dialogs.
 */
import type { Settings } from '../config';
import { randomUUID } from 'node:crypto';
import { ConversationState, type BotAdapter } from 'botbuilder';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Directory } from '../graph/directory';
import type { InviteGuestService } from '../domain/invite/inviteGuest';
import { INVITE_OPERATION_KIND } from '../domain/invite/model';
import { BULK_OPERATION_KIND, type BulkInviteService } from '../domain/bulk/bulkJob';
import { BulkFlow } from './bulk/flow';
import { resumedCards } from './bulk/cards';
import type { RequestAccessService } from '../domain/requests/requestAccess';
import { APPROVAL_OPERATION_KINDS } from '../domain/requests/approval';
import type { ApprovalMessenger } from '../domain/requests/model';
import type { AdminAlertService, AlertMessenger } from '../domain/admin/alerts';
import type { SetupCheckService } from '../domain/admin/setupCheck';
import type { TeamsAppInstaller } from '../graph/teamsApps';
import { HourlyLimiter } from '../domain/shared/rateLimit';
import { readCheck, readLimit } from './readLimit';
import type { GuestLifecycleService } from '../domain/guests/lifecycle';
import { REMOVE_OPERATION_KIND } from '../domain/guests/removal';
import type { GuestReviewService, ReviewMessenger } from '../domain/guests/review';
import { GuestActions } from './guests/actions';
import { AdminCommands, type RetryOperation } from './admin/commands';
import { BotStateStorage } from './stateStorage';
import { InviteGuestDialog, outcomeToCard } from './invite/dialog';
import { locFor } from './locale';
import { RequestAccessDialog } from './requests/dialog';
import { MainDialog } from './mainDialog';
import { TeamsBot } from './teamsBot';
import type { Outbox } from './delivery/outbox';
import { RequestActions } from './requests/actions';
import { installTurnErrorHandler } from './adapter';
import { BackgroundWork, type CardUpdater, type SlowWork } from './background';
import type { FileFetch } from '../domain/files/download';
import { reopenFailedOperations, reopenOperation } from '../domain/shared/operations';
import { OperationResumers } from '../domain/shared/resumers';
import { PersonErasure } from '../domain/privacy/personErasure';
import { PrivacyActions } from './privacy/actions';
import {
  composeAdmin,
  composeDelivery,
  composeFiles,
  composeGuests,
  composeInvitations,
  composeRequests,
  composeShared,
  type Admin,
  type Delivery,
} from './composeServices';

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
 * The slices of the settings the bot's services are built from (src/config/, the only place with defaults;
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

/** Everything composeBot built, for the builders of the Teams side. */
interface Services extends Admin {
  delivery: Delivery;
  inviteGuest: InviteGuestService;
  bulkInvite: BulkInviteService;
  requestAccess: RequestAccessService;
  guestLifecycle: GuestLifecycleService;
  guestReview: GuestReviewService;
}

/** How a card submit's turn hands slow directory work to the background and updates its card later. */
function composeSlowWork(options: ComposeOptions, delivery: Delivery): SlowWork & { background: BackgroundWork } {
  const background = new BackgroundWork(options.logger);
  const updateCard: CardUpdater =
    options.cardUpdater ?? ((location, card) => delivery.teams.replaceCard(location, card));
  return {
    background,
    updateCard,
    turnDeadlineMs: options.turnDeadlineMs ?? 5_000,
    invokeDeadlineMs: options.invokeDeadlineMs ?? 2_000,
  };
}

interface ResumeParts {
  store: Store;
  operations: Settings['operations'];
  clock?: () => Date;
  updateCard: CardUpdater;
  inviteGuest: InviteGuestService;
  bulkInvite: BulkInviteService;
  requestAccess: RequestAccessService;
  guestLifecycle: GuestLifecycleService;
}

function buildResumeOperations({
  store,
  operations,
  clock,
  updateCard,
  inviteGuest,
  bulkInvite,
  requestAccess,
  guestLifecycle,
}: ResumeParts): () => Promise<number> {
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
  return resumeOperations;
}

/** `setup check`, `guest report`, retrying an operation and erasing a person's data (admins). */
function composeAdminCommands(
  options: ComposeOptions,
  services: Services,
  resumeOperations: () => Promise<number>,
): { adminCommands: AdminCommands; privacyActions: PrivacyActions } {
  const { store, directory, logger, clock } = options;
  const { adminAlerts } = services;
  const retryOperation: RetryOperation = async (operationId) => {
    if (!(await reopenOperation(store.operations, operationId, clock ? clock() : new Date())))
      return { kind: 'notFound' };
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
    services.setupCheck,
    logger,
    retryOperation,
    privacyActions,
    groupHasGuests,
  );
  return { adminCommands, privacyActions };
}

/** The conversation's dialogs and the activity handler on top of the services. */
function composeDialogs(
  options: ComposeOptions,
  services: Services,
  slow: SlowWork,
  resumeOperations: () => Promise<number>,
): { bot: TeamsBot; conversationState: ConversationState } {
  const { store, directory, logger, clock, settings } = options;
  const { inviteGuest, requestAccess, guestLifecycle, guestReview, adminAlerts, delivery } = services;
  const readsChecked = readCheck(new HourlyLimiter(store.state, settings.readsPerUserPerHour, clock));
  const reads = readLimit(readsChecked);
  const conversationState = new ConversationState(new BotStateStorage(store.state));
  const requestActions = new RequestActions(requestAccess, logger, slow);
  const files = composeFiles(options, { inviteGuest, adminAlerts, guestLifecycle });
  const guestActions = new GuestActions({
    files: files.fileExport,
    lifecycle: guestLifecycle,
    review: guestReview,
    store,
    logger,
    slow,
    isAdmin: (actor) => adminAlerts.isAdmin(actor),
    reviewDefault: settings.guests.reviewDefault,
    reviewIntervalMs: settings.guests.reviewIntervalMs,
    reviewGraceMs: settings.guests.reviewGraceMs,
    clock,
    readCheck: readsChecked,
  });
  const { adminCommands, privacyActions } = composeAdminCommands(options, services, resumeOperations);
  const bulkFlow = new BulkFlow(services.bulkInvite, inviteGuest, slow, logger, reads);
  const mainDialog = new MainDialog(
    new InviteGuestDialog(inviteGuest, logger, slow, bulkFlow),
    new RequestAccessDialog(requestAccess, logger),
    requestAccess,
    requestActions,
    adminCommands,
    guestActions,
    files.fileIntake,
    reads,
  );
  const bot = new TeamsBot({
    conversationState,
    mainDialog,
    requestActions,
    adminCommands,
    guestActions,
    privacyActions,
    fileExport: files.fileExport,
    store,
    logger,
    clock,
    allowedTenantIds: settings.allowedTenantIds,
    directory,
    trustServiceUrl: options.trustServiceUrl,
    chats: delivery.chats,
    welcomes: delivery.teams,
  });
  return { bot, conversationState };
}

/** The domain services on the store and directory, with Teams delivery. */
function composeServices(options: ComposeOptions, instanceId: string): Services {
  const delivery = composeDelivery(options, instanceId);
  const admin = composeAdmin(options, delivery);
  const shared = composeShared(options, instanceId, admin.onBlocked);
  return {
    ...admin,
    delivery,
    ...composeInvitations(options, shared),
    requestAccess: composeRequests(options, shared, delivery),
    ...composeGuests(options, shared, delivery),
  };
}

export function composeBot(options: ComposeOptions): BotParts {
  const instanceId = randomUUID();
  const services = composeServices(options, instanceId);
  const slow = composeSlowWork(options, services.delivery);
  const resumeOperations = buildResumeOperations({
    ...services,
    store: options.store,
    operations: options.settings.operations,
    clock: options.clock,
    updateCard: slow.updateCard,
  });
  const { bot, conversationState } = composeDialogs(options, services, slow, resumeOperations);
  installTurnErrorHandler(options.adapter, options.logger, conversationState, services.onBlocked);
  return {
    bot,
    conversationState,
    outbox: services.delivery.teams.outbox,
    inviteGuest: services.inviteGuest,
    requestAccess: services.requestAccess,
    adminAlerts: services.adminAlerts,
    setupCheck: services.setupCheck,
    resumeOperations,
    background: slow.background,
    instanceId,
    guestLifecycle: services.guestLifecycle,
    guestReview: services.guestReview,
  };
}
