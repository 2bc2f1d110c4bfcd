/**
 * Drives the Microsoft 365 Agents Playground (0.2.28) through its own HTTP API, without a browser.
 * Shapes below were checked against the running Playground (and its bundled server code).
 *
 * - `GET /_internal/v1/config` → `{ config: { tenantId, bot: {id, name}, currentUser: {...}, users: [...],
 *   personalChat: {id, name}, groupChats: [{id, name, members: [userId]}], teams: [{id, name, aadGroupId,
 *   channels: [{id, name, channelType}], members}] }, internalConfig: { locale, localTimezone, channelId } }`.
 *   (It first waits up to 15 s for the bot's endpoint to answer.)
 * - `POST /_conversation/v1/conversations/:conversationId/messages` with
 *   `{ from: {id}, text, textFormat: 'plain'|'markdown'|'xml' }` (`textFormat` is required: without it
 *   400 `{"code":"BadArgument","message":"Invalid input"}`); `from.id` must be a member of that
 *   conversation (in practice the current user). → 200 `{ messageId, timestamp }`; the bot receives a
 *   `message` activity with a new GUID `id`, `from {id, name, aadObjectId}`, `conversation {conversationType,
 *   tenantId, id}`, `recipient` = the bot, `channelData.tenant.id`, `locale`, `entities: [clientInfo]`.
 * - `POST /_conversation/v1/submit` with `{ conversation: {id}, from: {id}, replyToId, value: {...} }`
 *   (`replyToId` must be the id of a message the Playground knows in that conversation, i.e. a bot message's
 *   `messageId`) → 200, empty body. The bot receives a `message` activity without `text`, with `value`,
 *   `replyToId` and `channelData.source.name` = 'message' — what Teams sends for Action.Submit.
 * - `POST /_internal/v1/customActivities` with any activity → 200, empty body; the activity is forwarded to
 *   the bot exactly as given (nothing is filled in). The bot can only answer into conversations the
 *   Playground knows (the current user's personal chat, the group chat, the team's channels): elsewhere
 *   its reply fails with 404 `ConversationNotFound`.
 *   `GET /_internal/v1/customActivities/template?conversationId=...[&type=install|userAdded|...]` returns a
 *   ready skeleton: `{ id, timestamp, channelId, serviceUrl, recipient, conversation, from, type }`.
 * - WebSocket `/_ws_conversation/v1/conversations/stream`: JSON text messages
 *   `{ action: 'createMessage'|'updateMessage', actionConversationId, message: { messageId, timestamp,
 *   from: {id}, text?, textFormat?, attachments: [{contentType, content}], attachmentLayout, mentions,
 *   directLineConversationId } }` and `{ action: 'typing', actionConversationId }`. It carries what the bot
 *   posts (a new message's `messageId` is the id the bot got back from sendActivity; `updateMessage` keeps it),
 *   not the user's own messages sent through this API. Every connected client gets every event; while no
 *   client is connected, events are buffered and all given to the next client that connects.
 */
import { openTextSocket, type TextSocket } from './websocket';

export interface PlaygroundUser {
  id: string;
  name: string;
  aadObjectId: string;
  userPrincipleName: string;
  givenName: string;
  surname: string;
  email: string;
}

export interface PlaygroundConfig {
  tenantId: string;
  bot: { id: string; name: string };
  currentUser: PlaygroundUser;
  users: PlaygroundUser[];
  personalChat: { id: string; name: string };
  groupChats: Array<{ id: string; name: string; members: string[] }>;
  teams: Array<{
    id: string;
    name: string;
    aadGroupId: string;
    channels: Array<{ id: string; name: string }>;
    members: string[];
  }>;
}

export interface StreamAttachment {
  contentType: string;
  content: unknown;
}

export interface StreamMessage {
  messageId: string;
  timestamp: number;
  from: { id: string };
  text?: string;
  textFormat?: string;
  attachments: StreamAttachment[];
  attachmentLayout?: string;
  mentions?: unknown[];
}

export type StreamEvent =
  | { action: 'createMessage' | 'updateMessage'; actionConversationId: string; message: StreamMessage }
  | { action: 'typing'; actionConversationId: string };

export type MessageEvent = Extract<StreamEvent, { message: StreamMessage }>;

export interface AdaptiveCardAction {
  type: string;
  title?: string;
  data?: Record<string, unknown>;
}

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  body?: unknown[];
  actions?: AdaptiveCardAction[];
}

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/** The first Adaptive Card of a message, if any. */
export function cardOf(message: StreamMessage): AdaptiveCard | undefined {
  return message.attachments.find((a) => a.contentType === ADAPTIVE_CARD)?.content as AdaptiveCard | undefined;
}

/** The text of the first TextBlock at the top of a message's card (what the bot's cards use as title), if any. */
export function cardTitle(message: StreamMessage): string | undefined {
  const block = cardOf(message)?.body?.find((b): b is { type: 'TextBlock'; text: string } => {
    const node = b as { type?: unknown; text?: unknown };
    return node.type === 'TextBlock' && typeof node.text === 'string';
  });
  return block?.text;
}

/** Every string in a message (its text and everything inside its attachments), for loose text checks. */
export function messageStrings(message: StreamMessage): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(message.text);
  walk(message.attachments);
  return out;
}

export function messageContains(message: StreamMessage, text: string | RegExp): boolean {
  return messageStrings(message).some((s) => (typeof text === 'string' ? s.includes(text) : text.test(s)));
}

/**
 * Whether clicking this action in the Playground's chat UI (0.2.28) reaches the bot. Its card renderer throws
 * ("Cannot assign to read only property 'key'", resp. "Cannot add property msTeams") and sends nothing for an
 * Action.Submit whose data has a top-level property `key` or an `msteams` object; Teams has no such limit.
 * Run those through the HTTP API instead (submitCard sends what a click sends).
 */
export function playgroundUiCanSubmit(action: AdaptiveCardAction): boolean {
  if (action.type !== 'Action.Submit' || !action.data) return true;
  return !('key' in action.data) && !('msteams' in action.data) && !('msTeams' in action.data);
}

/** Every action of a card, including those inside action sets in its body. */
export function cardActions(card: AdaptiveCard): AdaptiveCardAction[] {
  const found: AdaptiveCardAction[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const node = value as { type?: unknown; title?: unknown };
      if (typeof node.type === 'string' && node.type.startsWith('Action.')) found.push(value as AdaptiveCardAction);
      Object.values(value).forEach(walk);
    }
  };
  walk(card.body);
  walk(card.actions);
  return found;
}

export class PlaygroundApi {
  private readonly events: StreamEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private socket: TextSocket | undefined;

  private constructor(
    readonly baseUrl: string,
    readonly config: PlaygroundConfig,
  ) {}

  /** Reads the Playground's config and opens its conversation stream. */
  static async connect(baseUrl: string): Promise<PlaygroundApi> {
    const base = baseUrl.replace(/\/+$/, '');
    const res = await fetch(`${base}/_internal/v1/config`);
    if (!res.ok) throw new Error(`GET ${base}/_internal/v1/config: HTTP ${res.status}`);
    const { config } = (await res.json()) as { config: PlaygroundConfig };
    const api = new PlaygroundApi(base, config);
    api.socket = openTextSocket(`${base.replace(/^http/, 'ws')}/_ws_conversation/v1/conversations/stream`, (text) =>
      api.receive(text),
    );
    await api.socket.opened;
    return api;
  }

  close(): void {
    this.socket?.close();
  }

  private receive(text: string): void {
    try {
      this.events.push(JSON.parse(text) as StreamEvent);
    } catch {
      return;
    }
    this.waiters.forEach((wake) => wake());
  }

  /** Everything streamed so far, oldest first. */
  streamed(): StreamEvent[] {
    return [...this.events];
  }

  /** A position in the stream: pass it as `since` to look only at what comes after. */
  mark(): number {
    return this.events.length;
  }

  /**
   * Waits for a createMessage/updateMessage event (after position `since`, in `conversationId` when given)
   * that matches `predicate`.
   */
  async waitForMessage(
    predicate: (event: MessageEvent) => boolean,
    options: { since?: number; conversationId?: string; timeoutMs?: number } = {},
  ): Promise<MessageEvent> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const find = () =>
      this.events
        .slice(options.since ?? 0)
        .find(
          (e): e is MessageEvent =>
            'message' in e &&
            (!options.conversationId || e.actionConversationId === options.conversationId) &&
            predicate(e),
        );
    const found = find();
    if (found) return found;
    return new Promise<MessageEvent>((resolve, reject) => {
      const wake = () => {
        const hit = find();
        if (!hit) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.events.slice(options.since ?? 0).map((e) => JSON.stringify(e).slice(0, 300));
        reject(
          new Error(`no matching message within ${timeoutMs} ms; streamed since:\n${seen.join('\n') || '(nothing)'}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  /**
   * The createMessage/updateMessage events (after position `since`, in `conversationId` when given) that
   * match `predicate`, oldest first.
   */
  messagesSince(
    predicate: (event: MessageEvent) => boolean = () => true,
    options: { since?: number; conversationId?: string } = {},
  ): MessageEvent[] {
    return this.events
      .slice(options.since ?? 0)
      .filter(
        (e): e is MessageEvent =>
          'message' in e &&
          (!options.conversationId || e.actionConversationId === options.conversationId) &&
          predicate(e),
      );
  }

  /**
   * Waits until at least `count` createMessage/updateMessage events matching `predicate` have streamed
   * (after `since`, in `conversationId` when given); returns all that matched by then.
   */
  async waitForMessages(
    predicate: (event: MessageEvent) => boolean,
    count: number,
    options: { since?: number; conversationId?: string; timeoutMs?: number } = {},
  ): Promise<MessageEvent[]> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const found = () => this.messagesSince(predicate, options);
    if (found().length >= count) return found();
    return new Promise<MessageEvent[]>((resolve, reject) => {
      const wake = () => {
        const hits = found();
        if (hits.length < count) return;
        cleanup();
        resolve(hits);
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.events.slice(options.since ?? 0).map((e) => JSON.stringify(e).slice(0, 300));
        reject(
          new Error(
            `${found().length} of ${count} matching messages within ${timeoutMs} ms; streamed since:\n${seen.join('\n') || '(nothing)'}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  /** Waits for the next bot message (created or updated) whose text or card contains `text`. */
  waitForText(
    text: string | RegExp,
    options: { since?: number; conversationId?: string; timeoutMs?: number } = {},
  ): Promise<MessageEvent> {
    return this.waitForMessage(
      (e) => e.message.from.id !== this.config.currentUser.id && messageContains(e.message, text),
      options,
    );
  }

  private async post(path: string, body: unknown): Promise<string> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
    return text;
  }

  /** Sends `text` as the current user (the only user this endpoint accepts) into the personal chat by default. */
  async sendMessage(
    text: string,
    conversationId = this.config.personalChat.id,
  ): Promise<{ messageId: string; timestamp: number }> {
    const body = { from: { id: this.config.currentUser.id }, text, textFormat: 'plain' };
    return JSON.parse(
      await this.post(`/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`, body),
    ) as {
      messageId: string;
      timestamp: number;
    };
  }

  /** Submits card values, as clicking an Action.Submit on the bot message `replyToId` does. */
  async submit(
    replyToId: string,
    value: Record<string, unknown>,
    conversationId = this.config.personalChat.id,
  ): Promise<void> {
    await this.post('/_conversation/v1/submit', {
      conversation: { id: conversationId },
      from: { id: this.config.currentUser.id },
      replyToId,
      value,
    });
  }

  /**
   * Clicks the Action.Submit titled `actionTitle` of the card in `message`, with these input values: the
   * value sent is the action's `data` with the inputs added, as the Adaptive Cards renderer builds it.
   */
  async submitCard(
    message: StreamMessage,
    actionTitle: string,
    inputs: Record<string, string> = {},
    conversationId = this.config.personalChat.id,
  ): Promise<void> {
    const card = cardOf(message);
    if (!card) throw new Error(`message ${message.messageId} has no Adaptive Card`);
    const action = cardActions(card).find((a) => a.type === 'Action.Submit' && a.title === actionTitle);
    if (!action)
      throw new Error(`the card of message ${message.messageId} has no Action.Submit titled '${actionTitle}'`);
    await this.submit(message.messageId, { ...(action.data ?? {}), ...inputs }, conversationId);
  }

  /**
   * Clicks the Action.Execute titled `actionTitle` of the card in `message`, as the chat UI does: the Playground
   * sends the bot an `adaptiveCard/action` invoke (value `{ action: { type, title, verb, data } }`, data with the
   * inputs added), replaces the card with the answer, and returns the answer (`{ type, value }`).
   */
  async executeCard(
    message: StreamMessage,
    actionTitle: string,
    inputs: Record<string, string> = {},
    conversationId = this.config.personalChat.id,
  ): Promise<{ type: string; value: unknown }> {
    const card = cardOf(message);
    if (!card) throw new Error(`message ${message.messageId} has no Adaptive Card`);
    const action = cardActions(card).find((a) => a.type === 'Action.Execute' && a.title === actionTitle) as
      (AdaptiveCardAction & { verb?: string }) | undefined;
    if (!action)
      throw new Error(`the card of message ${message.messageId} has no Action.Execute titled '${actionTitle}'`);
    const body = {
      name: 'adaptiveCard/action',
      value: {
        action: {
          type: action.type,
          title: action.title,
          verb: action.verb,
          data: { ...(action.data ?? {}), ...inputs },
        },
      },
      from: { id: this.config.currentUser.id },
      conversation: { id: conversationId },
      replyToId: message.messageId,
    };
    return JSON.parse(await this.post('/_conversation/v1/invoke', body)) as { type: string; value: unknown };
  }

  /** Sends `activity` to the bot exactly as given (any `from`, any type). */
  async sendCustomActivity(activity: Record<string, unknown>): Promise<void> {
    await this.post('/_internal/v1/customActivities', activity);
  }

  /**
   * A Teams-like message activity from `user` (any user of the config) in `conversationId` (the group chat
   * by default), built on the Playground's own template, with `extra` fields on top; pass it to sendCustomActivity().
   */
  async messageFrom(
    user: PlaygroundUser,
    text: string,
    conversationId = this.config.groupChats[0]!.id,
    extra: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const res = await fetch(
      `${this.baseUrl}/_internal/v1/customActivities/template?conversationId=${encodeURIComponent(conversationId)}`,
    );
    if (!res.ok) throw new Error(`GET customActivities/template: HTTP ${res.status}`);
    const template = (await res.json()) as Record<string, unknown>;
    return {
      ...template,
      type: 'message',
      text,
      textFormat: 'plain',
      locale: 'en-US',
      from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
      channelData: { tenant: { id: this.config.tenantId } },
      // e.g. another client language: the Playground itself always sends locale en-US (0.2.28)
      ...extra,
    };
  }
}
