/**
 * Finds a person's 1:1 chat with the bot, installing the app for them where allowed (./appInstall.ts), and records
 * who cannot be reached and why (docs/teams-app.md, "Who the bot can reach"). Behaviour of Teams and Graph as
 * documented in
 * Microsoft Learn (sources in ../../../docs/permissions.md):
 * - createConversation for someone without a personal install answers 403 ForbiddenOperationException ("Bot isn't
 *   installed in user's personal scope"; also seen with code BadArgument) — bots/build-conversational-capability.
 * - the bot installs itself with Graph (POST /users/{id}/teamwork/installedApps, 409 when installed) and then reads
 *   the chat (GET …/installedApps/{id}/chat) — graph-api/proactive-bots-and-messages/graph-proactive-bots-and-messages.
 * - a blocked bot answers 403 ConversationBlockedByUser, a disabled one 403 BotDisabledByAdmin; such a person is not
 *   tried again until they write to the bot (`seen`).
 */
import type { CloudAdapter, ConversationReference } from 'botbuilder';
import type { Logger } from '../../logging';
import type { TeamsAppInstaller } from '../../graph/teamsApps';
import type { ConversationStore, JsonObject, StateStore } from '../../store/store';
import { unreachableReasonOf, type ChatOpening, type PersonalChats, type UnreachableReason } from './personalChat';
import { AppInstalls, installedByBot } from './appInstall';
import {
  TenantChannels,
  channelErrorCode,
  createPersonalConversation,
  isNotInstalled,
  referenceTo,
  type Pace,
  type TenantChannel,
} from './tenantChannels';

/** Reasons that stay until the person writes to the bot again. */
const STICKY: ReadonlySet<string> = new Set<UnreachableReason>(['blockedByUser', 'disabledByAdmin']);
/** Reasons an admin can fix (an alert names the fix). */
export const ADMIN_FIXABLE: readonly UnreachableReason[] = ['permissionMissing', 'appNotInCatalog', 'blockedByPolicy'];

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
  pace?: Pace;
  clock?: () => Date;
}

export class PersonalChatService implements PersonalChats {
  private readonly clock: () => Date;
  private readonly channels: TenantChannels;
  /** Installing the app through Graph; null without an installer. */
  private readonly installs: AppInstalls | null;
  /** Reports under way (tenant and reason): delivering the alert may try to reach an admin the same way. */
  private readonly reporting = new Set<string>();

  constructor(private readonly options: PersonalChatOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.channels = new TenantChannels(options.state);
    this.installs = options.installer
      ? new AppInstalls({
          installer: options.installer,
          catalogId: options.catalogId,
          manifestId: options.manifestId,
          state: options.state,
          logger: options.logger,
          clock: this.clock,
          channels: this.channels,
          chats: this,
        })
      : null;
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
  note(tenantId: string, reference: Partial<ConversationReference>, userId: string | null): Promise<void> {
    return this.channels.note(tenantId, reference, userId);
  }

  async open(tenantId: string, userId: string): Promise<ChatOpening> {
    const mark = await this.options.conversations.unreachable(tenantId, userId);
    if (mark && STICKY.has(mark.reason))
      return { ok: false, reason: mark.reason as UnreachableReason, detail: mark.detail ?? undefined };
    const stored = await this.options.conversations.get(tenantId, userId);
    if (stored) return { ok: true, reference: stored as Partial<ConversationReference> };
    const channel = await this.channels.get(tenantId);
    if (!channel) return this.unreachable(tenantId, userId, 'notInstalled', 'no service URL known for this tenant yet');
    // With an installer, Graph first (graph-proactive-bots-and-messages: install, GET …/installedApps/{id}/chat, send
    // to
    // that chat): no createConversation refused with 403 for someone who never installed the app. Graph calls do not
    // count against Teams' limits.
    const throughGraph = this.installs ? await this.installs.openThroughGraph(tenantId, userId, channel) : null;
    if (throughGraph) return throughGraph;
    try {
      return await this.opened(tenantId, userId, await this.createConversation(tenantId, userId, channel));
    } catch (err) {
      if (!isNotInstalled(err)) throw err;
      const detail = `createConversation answered 403 ${channelErrorCode(err) ?? ''}`.trim();
      if (!this.installs) return this.unreachable(tenantId, userId, 'notInstalled', detail);
    }
    return this.installs!.install(tenantId, userId, channel);
  }

  /**
   * installationUpdate add: whether the bot installed the app for the person itself, lately (the mark is taken once,
   * compare-and-set, so only one instance answers it).
   */
  installedByBot(tenantId: string, userId: string): Promise<boolean> {
    return installedByBot(this.options.state, tenantId, userId, this.clock());
  }

  /** Whether the bot can install itself now: the catalog id is known and Graph lets it read installations. */
  async canInstall(
    tenantId: string,
  ): Promise<{ ok: true } | { ok: false; reason: UnreachableReason; detail: string } | null> {
    if (!this.installs) return { ok: false, reason: 'notInstalled', detail: 'no Graph installer' };
    return this.installs.canInstall(tenantId);
  }

  async createConversation(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
  ): Promise<Partial<ConversationReference>> {
    const { adapter, appId, pace } = this.options;
    const at = { serviceUrl: channel.serviceUrl, bot: channel.bot ?? undefined };
    const conversation = await createPersonalConversation({ adapter, appId, pace }, at, tenantId, userId);
    if (!conversation?.id) throw new Error('the new conversation has no id');
    return referenceTo(channel, userId, conversation);
  }

  async opened(tenantId: string, userId: string, reference: Partial<ConversationReference>): Promise<ChatOpening> {
    await this.options.conversations.upsert(
      tenantId,
      userId,
      JSON.parse(JSON.stringify(reference)) as JsonObject,
      this.clock(),
    );
    await this.options.conversations.clearUnreachable(tenantId, userId);
    return { ok: true, reference };
  }

  /** Marks the person unreachable; an admin is told once per tenant and fixable reason at a time. */
  async unreachable(tenantId: string, userId: string, reason: UnreachableReason, detail: string): Promise<ChatOpening> {
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
      const reason = unreachableReasonOf(code);
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
