/**
 * What the bot knows of a tenant to open 1:1 chats there (its service URL, the bot's account, someone who has the
 * app, the app's catalog id), kept in the state store, and opening a new 1:1 conversation through it
 * (createConversation, paced like a send), and what its refusals say.
 */
import type { CloudAdapter, ConversationAccount, ConversationParameters, ConversationReference } from 'botbuilder';
import type { JsonObject, StateStore } from '../../store/store';

export interface TenantChannel {
  serviceUrl: string;
  bot: { id: string; name?: string } | null;
  knownUserId: string | null;
  catalogId: string | null;
}

const tenantKey = (tenantId: string): string => `teams-app/${tenantId}`;

/** Waits for a slot in Teams' pace before a request and returns what to call when Teams answered. */
export type Pace = (tenantId: string, userId: string) => Promise<() => void>;

/** The tenants' channels, cached in memory and kept in the state store (memory only without one). */
export class TenantChannels {
  private readonly channels = new Map<string, TenantChannel>();

  constructor(private readonly state: StateStore | undefined) {}

  async get(tenantId: string): Promise<TenantChannel | null> {
    const cached = this.channels.get(tenantId);
    if (cached) return cached;
    if (!this.state) return null;
    const item = (await this.state.read([tenantKey(tenantId)])).get(tenantKey(tenantId));
    if (!item) return null;
    const value = item.value as unknown as TenantChannel;
    this.channels.set(tenantId, value);
    return value;
  }

  async save(tenantId: string, channel: TenantChannel): Promise<void> {
    this.channels.set(tenantId, channel);
    await this.state?.write(tenantKey(tenantId), JSON.parse(JSON.stringify(channel)) as JsonObject);
  }

  /** Keeps the tenant's service URL and bot account (and someone who has the app), written only when they change. */
  async note(tenantId: string, reference: Partial<ConversationReference>, userId: string | null): Promise<void> {
    if (!reference.serviceUrl) return;
    const current = await this.get(tenantId);
    const bot = reference.bot ? { id: reference.bot.id, name: reference.bot.name } : (current?.bot ?? null);
    // Someone who has the app is needed only until the catalog id is known: then the one kept stays (no write per
    // person).
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
    await this.save(tenantId, next);
  }
}

/**
 * A new 1:1 conversation with the person through the tenant's service URL (createConversation, paced); returns the
 * new conversation (undefined when Teams gave no activity). Errors are Teams' answer, thrown as they came.
 */
export async function createPersonalConversation(
  bot: { adapter: CloudAdapter; appId: string; pace?: Pace },
  at: { serviceUrl: string; bot?: { id: string; name?: string } },
  tenantId: string,
  userId: string,
): Promise<ConversationAccount | undefined> {
  const parameters = {
    isGroup: false,
    bot: at.bot,
    members: [{ id: userId, name: '' }],
    tenantId,
    channelData: { tenant: { id: tenantId } },
  } as ConversationParameters;
  let created: ConversationAccount | undefined;
  const answered = bot.pace ? await bot.pace(tenantId, userId) : () => undefined;
  try {
    await bot.adapter.createConversationAsync(bot.appId, 'msteams', at.serviceUrl, '', parameters, async (context) => {
      created = context.activity?.conversation;
    });
  } finally {
    answered();
  }
  return created;
}

/** A reference to the person's 1:1 conversation through the tenant's channel. */
export function referenceTo(
  channel: TenantChannel,
  userId: string,
  conversation: object,
): Partial<ConversationReference> {
  const reference = {
    serviceUrl: channel.serviceUrl,
    channelId: 'msteams',
    bot: channel.bot ?? undefined,
    conversation,
    user: { id: userId, name: '' },
  };
  return reference as Partial<ConversationReference>;
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
export function isNotInstalled(err: unknown): boolean {
  const code = channelErrorCode(err);
  return (
    statusOf(err) === 403 && (code === 'ForbiddenOperationException' || code === 'BadArgument' || code === undefined)
  );
}
