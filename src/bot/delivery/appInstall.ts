/**
 * Installing the app for a person through Graph so the bot can reach them (docs/teams-app.md, "Who the bot can
 * reach"): the app's catalog id (set, kept, or read from someone's installation), the person's installation (made
 * when missing) and its 1:1 chat, the bot's own installs marked for the welcome, and why Graph refused.
 * Sources: graph-api/proactive-bots-and-messages/graph-proactive-bots-and-messages, userteamwork-post-installedapps.
 */
import type { ConversationReference } from 'botbuilder';
import type { Logger } from '../../logging';
import { DirectoryError } from '../../graph/directory';
import type { TeamsAppInstaller } from '../../graph/teamsApps';
import { ConflictError, type StateStore } from '../../store/store';
import type { ChatOpening, UnreachableReason } from './personalChat';
import { isNotInstalled, referenceTo, type TenantChannel, type TenantChannels } from './tenantChannels';

/** An install the bot made for someone: `self-install/{tenant}/{user}` (see installedByBot). */
const selfInstallKey = (tenantId: string, userId: string): string => `self-install/${tenantId}/${userId}`;
/** Teams posts installationUpdate within seconds of an install; an older mark is not that install's. */
const SELF_INSTALL_TTL_MS = 10 * 60_000;

type Refusal = { reason: UnreachableReason; detail: string };

/**
 * Why Graph refused to install the app (userteamwork-post-installedapps.md; refusals as reported, docs/permissions.md).
 */
function installRefusal(err: DirectoryError): Refusal | null {
  const detail = `${err.status} ${err.code}: ${err.message}`.slice(0, 300);
  if (err.status === 403 && /permission policy/i.test(err.message)) return { reason: 'blockedByPolicy', detail };
  if (err.status === 401 || err.status === 403) return { reason: 'permissionMissing', detail };
  if (err.status === 404) return { reason: 'appNotInCatalog', detail };
  return null;
}

/** What the installs hand back to the chat service: a chat opened, a person unreachable, a new conversation. */
export interface ChatOpener {
  opened(tenantId: string, userId: string, reference: Partial<ConversationReference>): Promise<ChatOpening>;
  unreachable(tenantId: string, userId: string, reason: UnreachableReason, detail: string): Promise<ChatOpening>;
  createConversation(tenantId: string, userId: string, channel: TenantChannel): Promise<Partial<ConversationReference>>;
}

export interface AppInstallOptions {
  installer: TeamsAppInstaller;
  /** TEAMS_APP_CATALOG_ID: the app's id in the org catalog, when an admin set it. */
  catalogId?: string | null;
  /** TEAMS_APP_ID: the manifest's id, to find the catalog id from an existing installation. */
  manifestId?: string | null;
  state?: StateStore;
  logger: Logger;
  clock: () => Date;
  channels: TenantChannels;
  chats: ChatOpener;
}

export class AppInstalls {
  private readonly installer: TeamsAppInstaller;

  constructor(private readonly options: AppInstallOptions) {
    this.installer = options.installer;
  }

  /**
   * The person's installation of the app (installed now when missing) and its 1:1 chat, all through Graph. Null when
   * Graph cannot tell (catalog id unknown, installations not readable, installation not listed yet): createConversation
   * then still reaches someone who installed the app themselves, and a refusal is reported as before.
   */
  async openThroughGraph(tenantId: string, userId: string, channel: TenantChannel): Promise<ChatOpening | null> {
    let catalogId: string | null = null;
    try {
      catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId) return null;
      let installation = await this.installer.findInstallation(userId, { catalogId });
      if (!installation) {
        installation = await this.installFor(tenantId, userId, catalogId);
        if (!installation) return null;
      }
      return await this.installationChat(tenantId, userId, channel, installation.installationId);
    } catch (err) {
      const refusal = await this.refusalOf(err, tenantId, userId);
      if (refusal.reason === 'permissionMissing') return null;
      return this.refusedInstall(tenantId, userId, channel, catalogId, refusal);
    }
  }

  /** Installs the app for the person through Graph, then opens the 1:1 chat (or uses the installation's chat). */
  async install(tenantId: string, userId: string, channel: TenantChannel): Promise<ChatOpening> {
    const { chats } = this.options;
    let catalogId: string | null = null;
    try {
      catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId)
        return chats.unreachable(
          tenantId,
          userId,
          'appNotInCatalog',
          "the app's catalog id is unknown (set TEAMS_APP_CATALOG_ID)",
        );
      const installation = await this.installFor(tenantId, userId, catalogId);
      try {
        return await chats.opened(tenantId, userId, await chats.createConversation(tenantId, userId, channel));
      } catch (err) {
        if (!installation || !isNotInstalled(err)) throw err;
        // Teams may take a moment to see the install: the installation's own chat (Graph) is used meanwhile.
        return await this.installationChat(tenantId, userId, channel, installation.installationId);
      }
    } catch (err) {
      const refusal = await this.refusalOf(err, tenantId, userId);
      return this.refusedInstall(tenantId, userId, channel, catalogId, refusal);
    }
  }

  /** Installs (marking the install as the bot's own first), then reads the installation back. */
  private async installFor(
    tenantId: string,
    userId: string,
    catalogId: string,
  ): ReturnType<TeamsAppInstaller['findInstallation']> {
    await this.markSelfInstall(tenantId, userId);
    const result = await this.installer.install(userId, catalogId);
    this.options.logger.info('reach.installed', { userId, result });
    if (result === 'alreadyInstalled') await this.clearSelfInstall(tenantId, userId);
    return this.installer.findInstallation(userId, { catalogId });
  }

  /** The installation's own 1:1 chat (Graph), opened as the person's chat. */
  private async installationChat(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
    installationId: string,
  ): Promise<ChatOpening> {
    const chatId = await this.installer.chatId(userId, installationId);
    const conversation = { id: chatId, conversationType: 'personal', tenantId, isGroup: false, name: '' };
    return this.options.chats.opened(tenantId, userId, referenceTo(channel, userId, conversation));
  }

  /** Graph's refusal of an install (the bot's mark dropped); any other error is thrown again. */
  private async refusalOf(err: unknown, tenantId: string, userId: string): Promise<Refusal> {
    if (!(err instanceof DirectoryError)) throw err;
    const refusal = installRefusal(err);
    if (!refusal) throw err;
    await this.clearSelfInstall(tenantId, userId);
    return refusal;
  }

  private async refusedInstall(
    tenantId: string,
    userId: string,
    channel: TenantChannel,
    catalogId: string | null,
    refusal: Refusal,
  ): Promise<ChatOpening> {
    // A re-uploaded app has a new catalog id: the one kept is forgotten.
    if (refusal.reason === 'appNotInCatalog' && catalogId && channel.catalogId === catalogId) {
      await this.options.channels.save(tenantId, { ...channel, catalogId: null });
    }
    return this.options.chats.unreachable(tenantId, userId, refusal.reason, refusal.detail);
  }

  /**
   * Marks an install the bot is about to make for the person (kept in the state store, so whichever instance gets
   * Teams' installationUpdate knows), for `installedByBot`.
   */
  private async markSelfInstall(tenantId: string, userId: string): Promise<void> {
    await this.options.state?.write(selfInstallKey(tenantId, userId), { at: this.options.clock().toISOString() });
  }

  private async clearSelfInstall(tenantId: string, userId: string): Promise<void> {
    await this.options.state?.delete([selfInstallKey(tenantId, userId)]);
  }

  /**
   * The app's catalog id: set by an admin, kept from before, or read from someone's installation (no
   * AppCatalog.Read.All).
   */
  private async catalogId(tenantId: string, channel: TenantChannel): Promise<string | null> {
    if (this.options.catalogId) return this.options.catalogId;
    if (channel.catalogId) return channel.catalogId;
    if (!channel.knownUserId || !this.options.manifestId) return null;
    const installation = await this.installer.findInstallation(channel.knownUserId, {
      externalId: this.options.manifestId,
    });
    if (!installation) return null;
    await this.options.channels.save(tenantId, { ...channel, catalogId: installation.catalogId });
    return installation.catalogId;
  }

  /** Whether the bot can install itself now: the catalog id is known and Graph lets it read installations. */
  async canInstall(tenantId: string): Promise<{ ok: true } | ({ ok: false } & Refusal) | null> {
    const channel = await this.options.channels.get(tenantId);
    if (!channel?.knownUserId) return null;
    try {
      const catalogId = await this.catalogId(tenantId, channel);
      if (!catalogId) return { ok: false, reason: 'appNotInCatalog', detail: 'catalog id unknown' };
      await this.installer.findInstallation(channel.knownUserId, { catalogId });
      return { ok: true };
    } catch (err) {
      const refusal = err instanceof DirectoryError ? installRefusal(err) : null;
      if (!refusal) throw err;
      return { ok: false, ...refusal };
    }
  }
}

/**
 * installationUpdate add: whether the bot installed the app for the person itself, lately (the mark is taken once,
 * compare-and-set, so only one instance answers it).
 */
export async function installedByBot(
  state: StateStore | undefined,
  tenantId: string,
  userId: string,
  now: Date,
): Promise<boolean> {
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
  return now.getTime() - Date.parse(item.value.at) <= SELF_INSTALL_TTL_MS;
}
