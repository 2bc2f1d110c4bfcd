/**
 * Runs the real bot (dialogs, domain, Graph client, SQLite store) against an in-process tenant simulator,
 * with botbuilder's TestAdapter standing in for the Bot Framework channel.
 */
import { randomUUID } from 'node:crypto';
import { TestAdapter, type Activity, type ResourceResponse, type TurnContext } from 'botbuilder';
import { createLogger, type Logger } from '../../src/logging';
import { openSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import type { InviteGuestService } from '../../src/domain/invite/inviteGuest';
import type { RequestAccessService } from '../../src/domain/requests/requestAccess';
import type { ApprovalMessenger } from '../../src/domain/requests/model';
import type { GroupOwner } from '../../src/graph/directory';
import type { AccessRequestRecord, ConversationStore, JsonObject } from '../../src/store/store';
import type { AlertEvent, AlertMessenger, AlertNotice, AdminAlertService } from '../../src/domain/admin/alerts';
import type { SetupCheckService } from '../../src/domain/admin/setupCheck';
import { alertCard } from '../../src/bot/admin/cards';
import { composeBot } from '../../src/bot/compose';
import { approvalCard } from '../../src/bot/requests/cards';
import { locFor } from '../../src/bot/locale';
import type { Localizer } from '../../src/i18n';
import type { TeamsBot } from '../../src/bot/teamsBot';
import type { FileSettings } from '../../src/config/invitations';
import type { GuestSettings } from '../../src/config/lifecycle';
import type { FileFetch } from '../../src/domain/files/download';
import { TEST_SETTINGS } from './settings';
import type { GuestLifecycleService } from '../../src/domain/guests/lifecycle';
import type { GuestReviewService, ReviewMessenger } from '../../src/domain/guests/review';
import type { BackgroundWork } from '../../src/bot/background';
import { loadDemoSeed, startSimulator, type RunningSimulator, type TenantSeed } from '../../src/simulator';
import { simulatorDirectory } from './simDirectory';

export const TENANT_ID = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
export const users = {
  megan: { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01', name: 'Megan Bowen' },
  adele: { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f02', name: 'Adele Vance' },
  alex: { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f03', name: 'Alex Wilber' },
  lee: { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f04', name: 'Lee Gu' },
  patti: { aadObjectId: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f05', name: 'Patti Fernandez' },
};
export const groups = {
  expenses: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01',
  wikiEditors: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c02',
  wikiReaders: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c03',
  dynamic: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04',
  synced: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c05',
  noOwners: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c06',
  mailEnabled: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c07',
  sales: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c08',
  unassigned: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c09',
};
export const apps = {
  expenses: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01',
  wiki: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f02',
  partnerPortal: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f03',
  legacyHr: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f04',
  newsletter: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f06',
  sales: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f07',
};

/** TestAdapter that also records in-place card updates. */
export class RecordingAdapter extends TestAdapter {
  readonly updates: Array<Partial<Activity>> = [];
  override async updateActivity(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse | void> {
    this.updates.push(activity);
    return super.updateActivity(context, activity);
  }
}

/**
 * Stands in for Teams delivery: keeps every owner's copy of the approval card, as the owner would see it, and the
 * alerts.
 */
export class RecordingMessenger implements ApprovalMessenger, AlertMessenger {
  /** Alerts delivered: to a channel, or to a user who has a conversation with the bot. */
  readonly alerts: Array<{
    to: string;
    activityId: string;
    key: string;
    event: AlertEvent;
    count: number;
    blocks: number;
    text: string;
  }> = [];
  /** In-place updates of alert cards, in order. */
  readonly alertUpdates: Array<{ activityId: string; key: string; event: AlertEvent; blocks: number; text: string }> =
    [];
  /** Every alert card as it reads now, by activity id. */
  readonly alertCards = new Map<string, { to: string; key: string; text: string; l: Localizer }>();
  constructor(private readonly conversations: ConversationStore) {}

  private postAlert(to: string, notice: AlertNotice, l: Localizer): JsonObject {
    const activityId = `alert-${++this.next}`;
    const text = cardText(alertCard(l, notice).content);
    this.alerts.push({
      to,
      activityId,
      key: notice.alert.key,
      event: notice.event,
      count: notice.alert.count,
      blocks: notice.blocks,
      text,
    });
    this.alertCards.set(activityId, { to, key: notice.alert.key, text, l });
    return { activityId, to };
  }

  async sendToChannel(channel: JsonObject, notice: AlertNotice): Promise<JsonObject | null> {
    const conversation = channel.conversation as { id?: string } | undefined;
    return this.postAlert(`channel:${conversation?.id ?? ''}`, notice, locFor(channel));
  }

  async sendToUser(tenantId: string, userId: string, notice: AlertNotice): Promise<JsonObject | null> {
    const stored = await this.conversations.get(tenantId, userId);
    if (!stored) return null;
    return this.postAlert(userId, notice, locFor(stored));
  }

  async updateAlertCards(locations: readonly JsonObject[], notice: AlertNotice): Promise<number> {
    let updated = 0;
    for (const location of locations) {
      const activityId = String(location.activityId);
      const card = this.alertCards.get(activityId);
      if (!card) continue;
      const text = cardText(alertCard(card.l, notice).content);
      this.alertCards.set(activityId, { ...card, text });
      this.alertUpdates.push({ activityId, key: notice.alert.key, event: notice.event, blocks: notice.blocks, text });
      updated++;
    }
    return updated;
  }

  /** Copies of approval cards by activity id. */
  readonly cards = new Map<string, { ownerId: string; requestId: string; card: Record<string, unknown> }>();
  readonly notices: Array<{ requestId: string; requesterId: string; event: string; state: string }> = [];
  readonly unreachable = new Set<string>();
  updates = 0;
  private next = 0;

  async sendApprovalCard(
    request: AccessRequestRecord,
    owner: GroupOwner,
    reason: 'new' | 'reminder' | 'resend',
  ): Promise<{ ok: true; location: JsonObject } | { ok: false; error: string }> {
    if (this.unreachable.has(owner.id))
      return { ok: false, error: '403 Forbidden: the app is not installed for this user' };
    const activityId = `approval-${++this.next}`;
    const l = locFor(await this.conversations.get(request.tenantId, owner.id));
    this.cards.set(activityId, {
      ownerId: owner.id,
      requestId: request.id,
      card: approvalCard(l, request, { reminder: reason === 'reminder' }).content as Record<string, unknown>,
    });
    return { ok: true, location: { activityId, ownerId: owner.id, locale: l.locale } };
  }

  async updateApprovalCards(request: AccessRequestRecord): Promise<void> {
    for (const card of request.ownerCards) {
      const activityId = card.location?.activityId;
      if (card.status === 'sent' && typeof activityId === 'string') {
        this.cards.set(activityId, {
          ownerId: card.ownerId,
          requestId: request.id,
          card: approvalCard(locFor(card.location), request).content as Record<string, unknown>,
        });
        this.updates++;
      }
    }
  }

  async notifyRequester(request: AccessRequestRecord, event: 'decided' | 'expired'): Promise<boolean> {
    this.notices.push({ requestId: request.id, requesterId: request.requesterId, event, state: request.state });
    return true;
  }

  cardsFor(ownerId: string): Array<Record<string, unknown>> {
    return [...this.cards.values()].filter((c) => c.ownerId === ownerId).map((c) => c.card);
  }
}

export interface Harness {
  sim: RunningSimulator;
  store: Store;
  service: InviteGuestService;
  requests: RequestAccessService;
  alerts: AdminAlertService;
  setup: SetupCheckService;
  messenger: RecordingMessenger;
  bot: TeamsBot;
  adapter: RecordingAdapter;
  /** Cards replaced after their turn ended (late outcomes, resumed operations), in order. */
  cardUpdates: Array<{ activityId: string; card: Record<string, unknown> }>;
  background: BackgroundWork;
  resumeOperations(): Promise<number>;
  guestLifecycle: GuestLifecycleService;
  guestReview: GuestReviewService;
  logs: string[];
  chat(user: { aadObjectId: string; name: string }): UserChat;
  graph<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  seed?: TenantSeed;
  storePath?: string;
  logger?: Logger;
  clock?: () => Date;
  adminUserIds?: string[];
  actionsPerUserPerHour?: number;
  readsPerUserPerHour?: number;
  allowedTenantIds?: string[];
  trustServiceUrl?: (serviceUrl: string) => boolean;
  invokeDeadlineMs?: number;
  turnDeadlineMs?: number;
  operationRetryAfterMs?: number;
  operationRetryMax?: number;
  guests?: GuestSettings;
  reviewMessenger?: ReviewMessenger;
  /** Wraps the store once before the bot gets it (e.g. src/telemetry/store.ts's instrumentStore). */
  wrapStore?: (store: Store) => Store;
  /** Files in the chat: settings and the fetch that reaches the test file server (test/support/fileServer.ts). */
  files?: Partial<FileSettings> & { fetch?: FileFetch };
  bulkMax?: number;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { fetch: _fetch, ...fileSettings } = options.files ?? {};
  const logs: string[] = [];
  const logger = options.logger ?? createLogger({ level: 'debug', write: (line) => logs.push(line) });
  const sim = await startSimulator({ seed: options.seed ?? loadDemoSeed(), port: 0, recordBodies: true });
  const opened = openSqliteStore(options.storePath ?? ':memory:', { clock: options.clock });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const directory = simulatorDirectory(sim, logger, 'test-token');
  const messenger = new RecordingMessenger(store.conversations);
  const adapter = new RecordingAdapter();
  const cardUpdates: Harness['cardUpdates'] = [];
  const {
    bot,
    inviteGuest,
    requestAccess,
    adminAlerts,
    setupCheck,
    background,
    resumeOperations,
    guestLifecycle,
    guestReview,
  } = composeBot({
    store,
    directory,
    logger,
    adapter,
    appId: '',
    settings: {
      ...TEST_SETTINGS,
      alerts: { ...TEST_SETTINGS.alerts, adminUserIds: options.adminUserIds ?? [] },
      actionsPerUserPerHour: options.actionsPerUserPerHour ?? 1000,
      readsPerUserPerHour: options.readsPerUserPerHour ?? 10_000,
      allowedTenantIds: options.allowedTenantIds ?? [],
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      operations: {
        ...TEST_SETTINGS.operations,
        retryAfterMs: options.operationRetryAfterMs ?? TEST_SETTINGS.operations.retryAfterMs,
        retryMax: options.operationRetryMax ?? TEST_SETTINGS.operations.retryMax,
      },
      guests: options.guests ?? TEST_SETTINGS.guests,
      files: { ...TEST_SETTINGS.files, ...fileSettings },
      bulk: options.bulkMax ? { ...TEST_SETTINGS.bulk, maxAddresses: options.bulkMax } : TEST_SETTINGS.bulk,
    },
    messenger,
    alertMessenger: messenger,
    trustServiceUrl: options.trustServiceUrl,
    replicationBackoffMs: [10, 20, 40],
    clock: options.clock,
    sleep: async () => undefined,
    invokeDeadlineMs: options.invokeDeadlineMs,
    turnDeadlineMs: options.turnDeadlineMs,
    reviewMessenger: options.reviewMessenger,
    fetchFile: options.files?.fetch,
    cardUpdater: async (location, card) => {
      cardUpdates.push({ activityId: String(location.activityId), card: card.content as Record<string, unknown> });
      return true;
    },
  });
  const harness: Harness = {
    sim,
    store,
    service: inviteGuest,
    requests: requestAccess,
    alerts: adminAlerts,
    setup: setupCheck,
    messenger,
    bot,
    adapter,
    cardUpdates,
    background,
    resumeOperations,
    guestLifecycle,
    guestReview,
    logs,
    chat: (user) => new UserChat(harness, user),
    async graph<T>(path: string, init: { method?: string; body?: unknown } = {}) {
      const response = await fetch(`${sim.graphBaseUrl}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          Authorization: 'Bearer test-token',
          'Content-Type': 'application/json',
          ConsistencyLevel: 'eventual',
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async close() {
      adminAlerts.stop();
      await sim.close();
      await store.close();
    },
  };
  return harness;
}

export interface Turn {
  replies: Array<Partial<Activity>>;
  updates: Array<Partial<Activity>>;
}

/** One user's 1:1 chat with the bot. */
export class UserChat {
  readonly conversationId: string;
  /** The Teams client language this user's activities carry (e.g. nl-NL), and their time zone. */
  locale = 'en-US';
  localTimezone: string | undefined;
  constructor(
    private readonly harness: Harness,
    readonly user: { aadObjectId: string; name: string },
  ) {
    this.conversationId = `a:1personal-${user.aadObjectId}`;
  }

  activity(partial: Partial<Activity>): Partial<Activity> {
    return {
      type: 'message',
      channelId: 'msteams',
      id: randomUUID(),
      serviceUrl: 'https://smba.test/amer/',
      locale: this.locale,
      ...(this.localTimezone ? { localTimezone: this.localTimezone } : {}),
      from: { id: `29:${this.user.aadObjectId}`, name: this.user.name, aadObjectId: this.user.aadObjectId },
      recipient: { id: '28:guest-invite-bot', name: 'Guest Invite' },
      conversation: {
        id: this.conversationId,
        conversationType: 'personal',
        tenantId: TENANT_ID,
        isGroup: false,
        name: '',
      },
      channelData: { tenant: { id: TENANT_ID } },
      ...partial,
    };
  }

  async deliver(activity: Partial<Activity>): Promise<Turn> {
    const adapter = this.harness.adapter;
    const updatesBefore = adapter.updates.length;
    await adapter.processActivity(activity, async (context) => this.harness.bot.run(context));
    const replies = adapter.activeQueue.splice(0, adapter.activeQueue.length).filter((a) => a.type !== 'typing');
    return { replies, updates: adapter.updates.slice(updatesBefore) };
  }

  send(text: string): Promise<Turn> {
    return this.deliver(this.activity({ text }));
  }

  /** An Action.Execute click (Universal Actions invoke); returns the card the bot answers with. */
  async invoke(
    verb: string,
    data: Record<string, unknown>,
    replyToId?: string,
  ): Promise<Record<string, unknown> | undefined> {
    const turn = await this.deliver(
      this.activity({
        type: 'invoke',
        name: 'adaptiveCard/action',
        text: undefined,
        replyToId,
        value: { action: { type: 'Action.Execute', verb, data } },
      }),
    );
    const response = turn.replies.find((a) => a.type === 'invokeResponse');
    const body = (response?.value as { body?: { value?: Record<string, unknown> } } | undefined)?.body;
    return body?.value;
  }

  /** A file sent in the chat, as Teams delivers it (bots-filesv4): a file.download.info attachment. */
  sendFile(name: string, downloadUrl: string, text?: string, conversationType = 'personal'): Promise<Turn> {
    const attachment = {
      contentType: 'application/vnd.microsoft.teams.file.download.info',
      contentUrl: `https://contoso-my.sharepoint.com/personal/megan_contoso_onmicrosoft_com/Documents/Microsoft Teams Chat Files/${encodeURIComponent(name)}`,
      name,
      content: { downloadUrl, uniqueId: randomUUID(), fileType: name.split('.').pop() ?? '', etag: randomUUID() },
    };
    const base = this.activity({ text, attachments: [attachment] });
    return this.deliver(
      conversationType === 'personal'
        ? base
        : {
            ...base,
            conversation: {
              ...base.conversation!,
              conversationType,
              isGroup: true,
              id: `19:group-${this.user.aadObjectId}@thread.v2`,
            },
          },
    );
  }

  /** The answer to a file consent card (`fileConsent/invoke`), accept with the upload session or decline. */
  fileConsent(
    action: 'accept' | 'decline',
    context: unknown,
    uploadInfo?: Record<string, unknown>,
    replyToId?: string,
  ): Promise<Turn> {
    return this.deliver(
      this.activity({
        type: 'invoke',
        name: 'fileConsent/invoke',
        text: undefined,
        replyToId,
        value: { type: 'fileUpload', action, context, ...(uploadInfo ? { uploadInfo } : {}) },
      }),
    );
  }

  /** Submits a card (Action.Submit): `value` is the card's data merged with its inputs, as Teams sends it. */
  submit(value: Record<string, unknown>, replyToId?: string): Promise<Turn> {
    return this.deliver(this.activity({ text: undefined, value, replyToId }));
  }
}

/** The Adaptive Card JSON of an activity, if it carries one. */
export function cardOf(activity: Partial<Activity> | undefined): Record<string, unknown> | undefined {
  const attachment = activity?.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return attachment?.content as Record<string, unknown> | undefined;
}

/** Text as a person reads it: markdown escapes (names and typed text are escaped, src/i18n/markdown.ts) not shown. */
export function readable(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** All text a person would read on a card (TextBlocks, TextRuns, facts, choice titles, action titles). */
export function cardText(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const key of ['text', 'title', 'value', 'label'])
      if (typeof n[key] === 'string') parts.push(readable(n[key] as string));
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return parts.join(' | ');
}

/** The data of the card's action with this title (what the client would submit, before inputs are merged). */
export function actionData(card: Record<string, unknown> | undefined, title: string): Record<string, unknown> {
  const actions = (card?.actions ?? []) as Array<{ title?: string; data?: Record<string, unknown> }>;
  const action = actions.find((a) => a.title === title);
  if (!action?.data) throw new Error(`No action '${title}' on card: ${cardText(card)}`);
  return { ...action.data };
}

export function choices(
  card: Record<string, unknown> | undefined,
  inputId: string,
): Array<{ title: string; value: string }> {
  const found: Array<{ title: string; value: string }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'Input.ChoiceSet' && n.id === inputId)
      found.push(...(n.choices as Array<{ title: string; value: string }>));
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return found;
}

export function textOf(turn: Turn): string {
  return [...turn.replies, ...turn.updates]
    .map((a) => [readable(a.text ?? ''), cardText(cardOf(a))].join(' '))
    .join('\n');
}

/** The last card the bot sent in a turn. */
export function lastCard(turn: Turn): Record<string, unknown> {
  const card = cardOf([...turn.replies].reverse().find((a) => cardOf(a)));
  if (!card) throw new Error(`expected a card, got: ${textOf(turn)}`);
  return card;
}

/** The activity id of the last card the bot sent in a turn (what a click on it carries as replyToId). */
export function cardId(turn: Turn): string {
  const id = [...turn.replies].reverse().find((a) => cardOf(a))?.id;
  if (!id) throw new Error(`expected a card with an id, got: ${textOf(turn)}`);
  return id;
}

/** Walks the invite dialog up to the confirmation card. */
export async function toConfirmation(
  chat: UserChat,
  appName: string,
  groupName: string | null,
  email: string,
  message = '',
): Promise<Turn> {
  const appCard = await chat.send('invite guest');
  const card = lastCard(appCard);
  const app = choices(card, 'appId').find((c) => c.title === appName);
  if (!app) throw new Error(`${appName} not offered: ${cardText(card)}`);
  let turn = await chat.submit({ ...actionData(card, 'Next'), appId: app.value }, cardId(appCard));
  if (groupName) {
    const groupCard = lastCard(turn);
    const group = choices(groupCard, 'groupId').find((c) => c.title === groupName);
    if (!group) throw new Error(`${groupName} not offered: ${cardText(groupCard)}`);
    turn = await chat.submit({ ...actionData(groupCard, 'Next'), groupId: group.value }, cardId(turn));
  }
  const details = lastCard(turn);
  if (!/Guest email/.test(cardText(details))) throw new Error(`expected the details card, got: ${cardText(details)}`);
  return chat.submit({ ...actionData(details, 'Review'), email, message }, cardId(turn));
}

/** Adele asks for Contoso Expenses (one group: Expenses External Reviewers, owned by Megan and Alex). */
export async function requestExpenses(chat: UserChat, reason = 'Quarterly audit of partner expenses'): Promise<Turn> {
  const first = await chat.send('request access');
  const appCard = lastCard(first);
  const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses');
  if (!expenses) throw new Error(`Contoso Expenses not offered: ${cardText(appCard)}`);
  const details = await chat.submit({ ...actionData(appCard, 'Next'), appId: expenses.value }, cardId(first));
  if (!/Why do you need access\?/.test(cardText(lastCard(details))))
    throw new Error(`expected the reason card: ${textOf(details)}`);
  const confirm = await chat.submit(
    { ...actionData(lastCard(details), 'Review'), justification: reason },
    cardId(details),
  );
  if (!/Send this request\?/.test(cardText(lastCard(confirm))))
    throw new Error(`expected the summary card: ${textOf(confirm)}`);
  return chat.submit(actionData(lastCard(confirm), 'Send request'), cardId(confirm));
}
