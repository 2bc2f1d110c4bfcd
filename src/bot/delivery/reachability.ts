/**
 * Finds a person's 1:1 chat with the bot, installing the app for them where allowed, and records who cannot be
 * reached and why (docs/teams-app.md, "Who the bot can reach"). Behaviour of Teams and Graph as documented in
 * Microsoft Learn (sources in ../../../docs/permissions.md):
 * - createConversation for someone without a personal install answers 403 ForbiddenOperationException ("Bot isn't
 *   installed in user's personal scope"; also seen with code BadArgument) — bots/build-conversational-capability.
 * - the bot installs itself with Graph (POST /users/{id}/teamwork/installedApps, 409 when installed) and then reads
 *   the chat (GET …/installedApps/{id}/chat) — graph-api/proactive-bots-and-messages/graph-proactive-bots-and-messages.
 * - a blocked bot answers 403 ConversationBlockedByUser, a disabled one 403 BotDisabledByAdmin; such a person is not
 *   tried again until they write to the bot (`seen`).
 */
import type { CloudAdapter, ConversationParameters, ConversationReference } from 'botbuilder';
import type { Logger } from '../../logging';
import { DirectoryError } from '../../graph/directory';
import type { TeamsAppInstaller } from '../../graph/teamsApps';
import { ConflictError, type ConversationStore, type JsonObject, type StateStore } from '../../store/store';
import type { ChatOpening, PersonalChats, UnreachableReason } from './personalChat';

/** Reasons that stay until the person writes to the bot again. */
const STICKY: ReadonlySet<string> = new Set<UnreachableReason>(['blockedByUser', 'disabledByAdmin']);
/** Reasons an admin can fix (an alert names the fix). */
export const ADMIN_FIXABLE: readonly UnreachableReason[] = ['permissionMissing', 'appNotInCatalog', 'blockedByPolicy'];

/** What the bot knows of a tenant to open chats there: its service URL, the bot's account, someone who installed it. */
interface TenantChannel {
  serviceUrl: string;
  bot: { id: string; name?: string } | null;
  knownUserId: string | null;
  catalogId: string | null;
}

const tenantKey = (tenantId: string): string => `teams-app/${tenantId}`;
/** An install the bot made for someone: `self-install/{tenant}/{user}` (see installedByBot). */
const selfInstallKey = (tenantId: string, userId: string): string => `self-install/${tenantId}/${userId}`;
/** Teams posts installationUpdate within seconds of an install; an older mark is not that install's. */
const SELF_INSTALL_TTL_MS = 10 * 60_000;

export interface PersonalChatOptions {
  adapter: CloudAdapter;
  appId: string;
  conversations: ConversationStore;
  /** Where the tenant's service URL and the app's catalog id are kept (memory only without it). */
  state?: StateStore;
  logger: Logger;
  /** Graph installation calls; null: the bot does not install itself (people must install it). */
  installer?: TeamsAppInstaller | null;
  /** TEAMS_APP_CATALOG_ID: the app's id in the org catalog, when an admin set it. */
  catalogId?: string | null;
  /** TEAMS_APP_ID: the manifest's id, to find the catalog id from an existing installation. */
  manifestId?: string | null;
  /** Told once per failure that an admin can fix (admin alerts). Never rejects. */
  onUnreachable?: (tenantId: string, userId: string, reason: UnreachableReason, detail: string) => Promise<void>;
  /**
   * Waits for a slot in Teams' pace before createConversation (it counts as a request like a send) and returns what
   * to call when Teams answered: the outbox's pacer (Outbox.paceFor).
   */
  pace?: (tenantId: string, userId: string) => Promise<() => void>;
  clock?: () => Date;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { statusCode?: unknown; status?: unknown };
  const status = record.statusCode ?? record.status;
  return typeof status === 'number' ? status : undefined;
}

const KNOWN_CODES = [
  'ConversationBlockedByUser',
  'BotDisabledByAdmin',
  'MessageWritesBlocked',
  'BotNotInConversationRoster',
  'ForbiddenOperationException',
  'BadArgument',
  'ConversationNotFound',
];

/** The Bot Framework error code of a channel error: its `code`, else a known code named in its message or body. */
export function channelErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; message?: unknown; body?: unknown; response?: { bodyAsText?: unknown } };
  // MessageWritesBlocked comes as a subCode inside the message of a 403 ({"errorCode":209,…}): send-proactive-messages.
  const text = [record.message, record.body, record.response?.bodyAsText]
    .map((v) => (typeof v === 'string' ? v : v ? JSON.stringify(v) : ''))
    .join(' ');
  const named = KNOWN_CODES.find((c) => text.includes(c));
  if (typeof record.code === 'string' && record.code && record.code !== 'RestError')
    return named === 'MessageWritesBlocked' ? named : record.code;
  return named;
}

/** createConversation refused because the app is not installed for the person (either documented code). */
function isNotInstalled(err: unknown): boolean {
  const code = channelErrorCode(err);
  return (
    statusOf(err) === 403 && (code === 'ForbiddenOperationException' || code === 'BadArgument' || code === undefined)
  );
}

/** Why Graph refused to install the app (userteamwork-post-installedapps.md; refusals as reported, docs/permissions.md). */
function installRefusal(err: DirectoryError): { reason: UnreachableReason; detail: string } | null {
  const detail = `${err.status} ${err.code}: ${err.message}`.slice(0, 300);
  if (err.status === 403 && /permission policy/i.test(err.message)) return { reason: 'blockedByPolicy', detail };
  if (err.status === 401 || err.status === 403) return { reason: 'permissionMissing', detail };
  if (err.status === 404) return { reason: 'appNotInCatalog', detail };
  return null;
}

export class PersonalChatService implements PersonalChats {
  private readonly clock: () => Date;
  private readonly channels = new Map<string, TenantChannel>();
  /** Reports under way (tenant and reason): delivering the alert may try to reach an admin the same way. */
  private readonly reporting = new Set<string>();

  constructor(private readonly options: PersonalChatOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Someone wrote to the bot (any activity): they are reachable again, and the tenant's service URL is known. */
  async seen(
    tenantId: string,
    userId: string,
    reference: Partial<ConversationReference>,
    personal = true,
  ): Promise<void> {
    // A read on most turns; the delete only when there is a mark.
    if (
      (await this.options.conversations.unreachable(tenantId, userId)) &&
      (await this.options.conversations.clearUnreachable(tenantId, userId))
    ) {
      this.options.logger.info('reach.cleared', { userId });
    }
    await this.note(tenantId, reference, personal ? userId : null);
  }

  /** installationUpdate remove: the chat is forgotten; the next message opens (and installs) again where allowed. */
  async forget(tenantId: string, userId: string): Promise<void> {
    await this.options.conversations.delete(tenantId, userId);
    this.options.logger.info('reach.uninstalled', { userId });
  }

  /** Keeps the tenant's service URL and bot account (and someone who has the app), written only when they change. */
  async note(tenantId: string, reference: Partial<ConversationReference>, userId: string | null): Promise<void> {
    if (!reference.serviceUrl) return;
    const current = await this.channel(tenantId);
    const bot = reference.bot ? { id: reference.bot.id, name: reference.bot.name } : (current?.bot ?? null);
    // Someone who has the app is needed only until the catalog id is known: then the one kept stays (no write per person).
    const knownUserId =
      current?.knownUserId && (current.catalogId || !userId)
        ? current.knownUserId
        : (userId ?? current?.knownUserId ?? null);
    const next: TenantChannel = {
      serviceUrl: reference.serviceUrl,
      bot,
      knownUserId,
      catalogId: current?.catalogId ?? null,
    };
    if (current && JSON.stringify(current) === JSON.stringify(next)) return;
    await this.saveChannel(tenantId, next);
  }

  private async channel(tenantId: string): Promise<TenantChannel | null> {
    const cached = this.channels.get(tenantId);
    if (cached) return cached;
    if (!this.options.state) return null;
    const item = (await this.options.state.read([tenantKey(tenantId)])).get(tenantKey(tenantId));
    if (!item) return null;
    const value = item.value as unknown as TenantChannel;
    this.channels.set(tenantId, value);
    return value;
  }

  private async saveChannel(tenantId: string, channel: TenantChannel): Promise<void> {
    this.channels.set(tenantId, channel);
    await this.options.state?.write(tenantKey(tenantId), JSON.parse(JSON.stringify(channel)) as JsonObject);
  }

  async open(tenantId: string, userId: string): Promise<ChatOpening> {
    const mark = await this.options.conversations.unreachable(tenantId, userId);
    if (mark && STICKY.has(mark.reason))
      return { ok: false, reason: mark.reason as UnreachableReason, detail: mark.detail ?? undefined };
    const stored = await this.options.conversations.get(tenantId, userId);
    if (stored) return { ok: true, reference: stored as Partial<ConversationReference> };
    const channel = await this.channel(tenantId);
    if (!channel) return this.unreachable(tenantId, userId, 'notInstalled', 'no service URL known for this tenant yet');
    // With an installer, Graph first (graph-proactive-bots-and-messages: install, GET …/installedApps/{id}/chat, send to
    // that chat): no createConversation refused with 403 for someone who never installed the app. Graph calls do not
    // count against Teams' limits.
    const throughGraph = this.options.installer ? await this.openThroughGraph(tenantId, userId, channel) : null;
    if (throughGraph) return throughGraph;
    try {
      return await this.opened(tenantId, userId, await this.createConversation(tenantId, userId, channel));
    } catch (err) {
      if (!isNotInstalled(err)) throw err;
      const detail = `createConversation answered 403 ${channelErrorCode(err) ?? ''}`.trim();
      if (!this.options.installer) return this.unreachable(tenantId, userId, 'notInstalled', detail);
    }
    return this.install(tenantId, userId, channel);
  }

  /**
   * The person's installation of the app (installed now when missing) and its 1:1 chat, all through Graph. Null when
   * Graph cannot tell (catalog id unknown, installations not readable, installation not listed yet): createConversation
   * then still reaches someone who installed the app themselves, and a refusal is reported as before.
   */
  private async openThroughGraph(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
  ): Promise<ChatOpening | null> {
    const installer = this.options.installer!;
    let catalogId: string | null = null;
    try {
      catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId) return null;
      let installation = await installer.findInstallation(userId, { catalogId });
      if (!installation) {
        await this.markSelfInstall(tenantId, userId);
        const result = await installer.install(userId, catalogId);
        this.options.logger.info('reach.installed', { userId, result });
        if (result === 'alreadyInstalled') await this.clearSelfInstall(tenantId, userId);
        installation = await installer.findInstallation(userId, { catalogId });
        if (!installation) return null;
      }
      const chatId = await installer.chatId(userId, installation.installationId);
      const conversation = { id: chatId, conversationType: 'personal', tenantId, isGroup: false, name: '' };
      return await this.opened(tenantId, userId, this.referenceTo(channel, userId, conversation));
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      const refusal = installRefusal(err);
      if (!refusal) throw err;
      await this.clearSelfInstall(tenantId, userId);
      if (refusal.reason === 'permissionMissing') return null;
      return this.refusedInstall(tenantId, userId, channel, catalogId, refusal);
    }
  }

  private async refusedInstall(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
    catalogId: string | null,
    refusal: { reason: UnreachableReason; detail: string },
  ): Promise<ChatOpening> {
    // A re-uploaded app has a new catalog id: the one kept is forgotten.
    if (refusal.reason === 'appNotInCatalog' && catalogId && channel.catalogId === catalogId) {
      await this.saveChannel(tenantId, { ...channel, catalogId: null });
    }
    return this.unreachable(tenantId, userId, refusal.reason, refusal.detail);
  }

  /**
   * Marks an install the bot is about to make for the person (kept in the state store, so whichever instance gets
   * Teams' installationUpdate knows), for `installedByBot`.
   */
  private async markSelfInstall(tenantId: string, userId: string): Promise<void> {
    await this.options.state?.write(selfInstallKey(tenantId, userId), { at: this.clock().toISOString() });
  }

  private async clearSelfInstall(tenantId: string, userId: string): Promise<void> {
    await this.options.state?.delete([selfInstallKey(tenantId, userId)]);
  }

  /**
   * installationUpdate add: whether the bot installed the app for the person itself, lately (the mark is taken once,
   * compare-and-set, so only one instance answers it).
   */
  async installedByBot(tenantId: string, userId: string): Promise<boolean> {
    const state = this.options.state;
    if (!state) return false;
    const key = selfInstallKey(tenantId, userId);
    const item = (await state.read([key])).get(key);
    if (!item || typeof item.value.at !== 'string' || item.value.taken) return false;
    try {
      await state.write(key, { ...item.value, taken: true }, item.version);
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
    await state.delete([key]);
    return this.clock().getTime() - Date.parse(item.value.at) <= SELF_INSTALL_TTL_MS;
  }

  /** Installs the app for the person through Graph, then opens the 1:1 chat (or uses the installation's chat). */
  private async install(tenantId: string, userId: string, channel: TenantChannel): Promise<ChatOpening> {
    const installer = this.options.installer!;
    let catalogId: string | null = null;
    try {
      catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId)
        return this.unreachable(
          tenantId,
          userId,
          'appNotInCatalog',
          "the app's catalog id is unknown (set TEAMS_APP_CATALOG_ID)",
        );
      await this.markSelfInstall(tenantId, userId);
      const result = await installer.install(userId, catalogId);
      this.options.logger.info('reach.installed', { userId, result });
      if (result === 'alreadyInstalled') await this.clearSelfInstall(tenantId, userId);
      const installation = await installer.findInstallation(userId, { catalogId });
      try {
        return await this.opened(tenantId, userId, await this.createConversation(tenantId, userId, channel));
      } catch (err) {
        if (!installation || !isNotInstalled(err)) throw err;
        // Teams may take a moment to see the install: the installation's own chat (Graph) is used meanwhile.
        const chatId = await installer.chatId(userId, installation.installationId);
        const conversation = { id: chatId, conversationType: 'personal', tenantId, isGroup: false, name: '' };
        return this.opened(tenantId, userId, this.referenceTo(channel, userId, conversation));
      }
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      const refusal = installRefusal(err);
      if (!refusal) throw err;
      await this.clearSelfInstall(tenantId, userId);
      return this.refusedInstall(tenantId, userId, channel, catalogId, refusal);
    }
  }

  /** The app's catalog id: set by an admin, kept from before, or read from someone's installation (no AppCatalog.Read.All). */
  private async catalogId(tenantId: string, channel: TenantChannel): Promise<string | null> {
    if (this.options.catalogId) return this.options.catalogId;
    if (channel.catalogId) return channel.catalogId;
    if (!channel.knownUserId || !this.options.manifestId) return null;
    const installation = await this.options.installer!.findInstallation(channel.knownUserId, {
      externalId: this.options.manifestId,
    });
    if (!installation) return null;
    await this.saveChannel(tenantId, { ...channel, catalogId: installation.catalogId });
    return installation.catalogId;
  }

  /** Whether the bot can install itself now: the catalog id is known and Graph lets it read installations. */
  async canInstall(
    tenantId: string,
  ): Promise<{ ok: true } | { ok: false; reason: UnreachableReason; detail: string } | null> {
    if (!this.options.installer) return { ok: false, reason: 'notInstalled', detail: 'no Graph installer' };
    const channel = await this.channel(tenantId);
    if (!channel?.knownUserId) return null;
    try {
      const catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId) return { ok: false, reason: 'appNotInCatalog', detail: 'catalog id unknown' };
      await this.options.installer.findInstallation(channel.knownUserId, { catalogId });
      return { ok: true };
    } catch (err) {
      const refusal = err instanceof DirectoryError ? installRefusal(err) : null;
      if (!refusal) throw err;
      return { ok: false, ...refusal };
    }
  }

  private async createConversation(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
  ): Promise<Partial<ConversationReference>> {
    const parameters = {
      isGroup: false,
      bot: channel.bot ?? undefined,
      members: [{ id: userId, name: '' }],
      tenantId,
      channelData: { tenant: { id: tenantId } },
    } as ConversationParameters;
    let created: Partial<ConversationReference> | undefined;
    const answered = this.options.pace ? await this.options.pace(tenantId, userId) : () => undefined;
    try {
      await this.options.adapter.createConversationAsync(
        this.options.appId,
        'msteams',
        channel.serviceUrl,
        '',
        parameters,
        async (context) => {
          const conversation = context.activity?.conversation;
          created = conversation ? this.referenceTo(channel, userId, conversation) : undefined;
        },
      );
    } finally {
      answered();
    }
    if (!created?.conversation?.id) throw new Error('the new conversation has no id');
    return created;
  }

  private referenceTo(channel: TenantChannel, userId: string, conversation: object): Partial<ConversationReference> {
    const reference = {
      serviceUrl: channel.serviceUrl,
      channelId: 'msteams',
      bot: channel.bot ?? undefined,
      conversation,
      user: { id: userId, name: '' },
    };
    return reference as Partial<ConversationReference>;
  }

  private async opened(
    tenantId: string,
    userId: string,
    reference: Partial<ConversationReference>,
  ): Promise<ChatOpening> {
    await this.options.conversations.upsert(
      tenantId,
      userId,
      JSON.parse(JSON.stringify(reference)) as JsonObject,
      this.clock(),
    );
    await this.options.conversations.clearUnreachable(tenantId, userId);
    return { ok: true, reference };
  }

  private async unreachable(
    tenantId: string,
    userId: string,
    reason: UnreachableReason,
    detail: string,
  ): Promise<ChatOpening> {
    await this.options.conversations.markUnreachable(tenantId, userId, reason, detail, this.clock());
    this.options.logger.warn('reach.unreachable', { userId, reason, detail });
    const key = `${tenantId}/${reason}`;
    if (ADMIN_FIXABLE.includes(reason) && this.options.onUnreachable && !this.reporting.has(key)) {
      this.reporting.add(key);
      try {
        await this.options.onUnreachable(tenantId, userId, reason, detail);
      } finally {
        this.reporting.delete(key);
      }
    }
    return { ok: false, reason, detail };
  }

  async refused(
    tenantId: string,
    userId: string,
    status: number,
    code: string | undefined,
  ): Promise<UnreachableReason | undefined> {
    if (status === 403 && (code === 'ConversationBlockedByUser' || code === 'BotDisabledByAdmin')) {
      const reason: UnreachableReason = code === 'ConversationBlockedByUser' ? 'blockedByUser' : 'disabledByAdmin';
      await this.options.conversations.delete(tenantId, userId);
      await this.options.conversations.markUnreachable(tenantId, userId, reason, `${status} ${code}`, this.clock());
      this.options.logger.warn('reach.unreachable', { userId, reason });
      return reason;
    }
    // Not in the roster, uninstalled (MessageWritesBlocked), not installed, or a conversation Teams no longer knows:
    // the stored chat goes; opening it again (installing where allowed) may work.
    if (status === 403 || status === 404) await this.options.conversations.delete(tenantId, userId);
    return undefined;
  }
}
