/**
 * Proactive delivery in Teams: approval cards to owners, their updates, alerts, review cards and notices. Every
 * message goes through the outbox (./delivery/outbox.ts): recorded first, rendered at send time in the recipient's
 * language, paced and retried there. A card that is still queued is located by `{ outboxId }` until it is sent.
 */
import type { Attachment, CloudAdapter, ConversationReference } from 'botbuilder';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging';
import type { ApprovalMessenger } from '../domain/requests/model';
import type { AlertMessenger, AlertNotice } from '../domain/admin/alerts';
import type { ReviewDecision, ReviewView } from '../domain/guests/review';
import type { Msg } from '../domain/shared/message';
import type { GroupOwner } from '../graph/directory';
import type { AccessRequestRecord, JsonObject, OutboxRecord, Store } from '../store/store';
import { alertCard } from './admin/cards';
import { approvalCard, statusLine } from './requests/cards';
import { outcomeCard } from './cardFlow';
import { reviewCard } from './guests/cards';
import type { Localizer } from '../i18n';
import { AdapterCalls, type ConnectorCalls, type Content } from './delivery/connector';
import { Outbox } from './delivery/outbox';
import { json, type OutboxMessage, type OutboxRenderer, type Sending } from './delivery/outboxMessage';
import type { Pacer } from './delivery/pacer';
import { StoredChats } from './delivery/storedChats';
import type { PersonalChats, UnreachableReason } from './delivery/personalChat';

/** Where a message went (or is queued), or why it could not go (`unreachable`: the person cannot be reached now). */
export type Delivery =
  { ok: true; location: JsonObject } | { ok: false; error: string; unreachable?: UnreachableReason };

/** What the outbox renders at send time (JSON, kept in the record). */
type Rendered =
  | { type: 'approval'; request: AccessRequestRecord; reminder?: boolean; refresh?: boolean }
  | { type: 'requesterNotice'; request: AccessRequestRecord; event: 'decided' | 'expired' }
  | { type: 'alert'; notice: AlertNotice }
  | { type: 'review'; view: ReviewView; defaultDecision: ReviewDecision; reminder?: boolean }
  | { type: 'msg'; msg: Msg }
  | { type: 'card'; card: Attachment };

function delivery(sending: Sending): Delivery {
  if (sending.state !== 'failed') return { ok: true, location: sending.location };
  return { ok: false, error: sending.error, ...(sending.reason ? { unreachable: sending.reason } : {}) };
}

export interface TeamsMessengerOptions {
  clock?: () => Date;
  /** This process among the instances sharing the store (owner of outbox leases). */
  instanceId?: string;
  /** The Bot Connector calls (default: through the adapter). */
  calls?: ConnectorCalls;
  /** Finding a person's chat (default: the stored reference, or a new conversation; see StoredChats). */
  chats?: PersonalChats;
  pacer?: Pacer;
  /** How long an outbox record is this instance's before another may send it. */
  leaseMs?: number;
  /** The outbox's first backoff when Teams gives no Retry-After. */
  retryBaseMs?: number;
}

export class TeamsMessenger implements ApprovalMessenger, AlertMessenger, OutboxRenderer {
  readonly outbox: Outbox;
  /**
   * The stored-reference chats, used only when no `chats` is given (PersonalChatService keeps the service URL itself).
   */
  private readonly stored: StoredChats | undefined;

  constructor(
    adapter: CloudAdapter,
    private readonly store: Store,
    appId: string,
    private readonly logger: Logger,
    options: TeamsMessengerOptions = {},
  ) {
    this.stored = options.chats
      ? undefined
      : new StoredChats(adapter, store.conversations, appId, options.clock, (tenantId, userId) =>
          this.outbox.paceFor(tenantId, userId),
        );
    this.outbox = new Outbox({
      store,
      chats: options.chats ?? this.stored!,
      calls: options.calls ?? new AdapterCalls(adapter, appId),
      renderer: this,
      instanceId: options.instanceId ?? randomUUID(),
      logger,
      clock: options.clock,
      pacer: options.pacer,
      leaseMs: options.leaseMs,
      retryBaseMs: options.retryBaseMs,
    });
  }

  async render(content: JsonObject, l: Localizer, reference: Partial<ConversationReference>): Promise<Content | null> {
    const what = content as unknown as Rendered;
    switch (what.type) {
      case 'approval': {
        // The request as it is now (a late update must not show an older state), else as it was when queued.
        const current = (await this.store.requests.get(what.request.id)) ?? what.request;
        const refreshUserIds = what.refresh && reference.user?.id ? [reference.user.id] : [];
        return approvalCard(
          l,
          current,
          what.refresh ? { reminder: what.reminder === true, refreshUserIds } : undefined,
        );
      }
      case 'requesterNotice':
        return this.requesterNotice(l, what.request, what.event);
      case 'alert':
        return alertCard(l, what.notice);
      case 'review':
      case 'msg':
        return renderUserChat(l, what);
      case 'card':
        return what.card;
      default:
        return null;
    }
  }

  /** Approval cards queued at first: their entry on the request gets the card's place, or says it was not delivered. */
  async settled(record: OutboxRecord): Promise<void> {
    const follow = (record.payload as { followUp?: { requestId?: string } }).followUp;
    if (!follow?.requestId) return;
    const request = await this.store.requests.get(follow.requestId);
    const index = request?.ownerCards.findIndex((c) => c.location?.outboxId === record.id) ?? -1;
    if (!request || index < 0) return;
    const cards = [...request.ownerCards];
    cards[index] =
      record.status === 'sent'
        ? { ...cards[index], location: record.result }
        : {
            ...cards[index],
            status: 'unreachable',
            location: null,
            error: (record.error ?? 'not delivered').slice(0, 300),
          };
    // One compare-and-set: a conflict leaves the `{ outboxId }` entry, which resolves through the outbox anyway.
    await this.store.requests
      .update(request.id, request.version, { ownerCards: cards }, new Date())
      .catch((err: unknown) => this.logger.info('request.card.location.later', { requestId: request.id, error: err }));
  }

  private send(message: OutboxMessage): Promise<Sending> {
    return this.outbox.send(message);
  }

  async sendApprovalCard(
    request: AccessRequestRecord,
    owner: GroupOwner,
    reason: 'new' | 'reminder' | 'resend',
  ): Promise<Delivery> {
    // A person with no chat yet is reached through the requester's service URL (PersonalChatService notes it when
    // anyone writes, so the read is only for the stored-reference chats).
    if (this.stored)
      this.stored.hint(request.tenantId, await this.store.conversations.get(request.tenantId, request.requesterId));
    const content: Rendered = { type: 'approval', request, reminder: reason === 'reminder', refresh: true };
    return delivery(
      await this.send({
        tenantId: request.tenantId,
        to: { user: owner.id },
        content: json(content),
        followUp: { requestId: request.id },
      }),
    );
  }

  async updateApprovalCards(request: AccessRequestRecord): Promise<void> {
    // A card listed twice (e.g. sent again to the same chat) is updated once. Activity ids are unique within a
    // conversation only (Teams message ids are times in ms): two owners' cards sent at once can share one.
    const seen = new Set<string>();
    const content = json({ type: 'approval', request } satisfies Rendered);
    for (const card of request.ownerCards) {
      const location = card.location as {
        reference?: Partial<ConversationReference>;
        activityId?: string;
        outboxId?: string;
      } | null;
      if (card.status !== 'sent' || !location || !(location.activityId || location.outboxId)) continue;
      const key = JSON.stringify([
        location.reference?.conversation?.id ?? '',
        location.activityId ?? location.outboxId,
      ]);
      if (seen.has(key)) continue;
      seen.add(key);
      const sending = await this.send({ tenantId: request.tenantId, to: { location: card.location! }, content });
      if (sending.state === 'failed')
        this.logger.warn('request.card.update.failed', {
          requestId: request.id,
          ownerId: card.ownerId,
          error: sending.error,
        });
    }
  }

  private requesterNotice(l: Localizer, request: AccessRequestRecord, event: 'decided' | 'expired'): Attachment {
    const approved = request.state === 'approved';
    const title = l.t(
      event === 'expired'
        ? 'requests:notice.expiredTitle'
        : approved
          ? 'requests:notice.approvedTitle'
          : 'requests:notice.deniedTitle',
    );
    const text =
      event === 'expired'
        ? l.t('requests:notice.expired', { app: request.appName, group: request.groupName })
        : statusLine(l, request);
    const facts = [
      { label: l.t('common:fact.app'), value: request.appName },
      { label: l.t('common:fact.group'), value: request.groupName },
      ...(request.comment ? [{ label: l.t('requests:fact.comment'), value: request.comment }] : []),
    ];
    return outcomeCard(l, { title, color: approved ? 'Good' : 'Attention', text, facts });
  }

  async notifyRequester(request: AccessRequestRecord, event: 'decided' | 'expired'): Promise<boolean> {
    if (!(await this.store.conversations.get(request.tenantId, request.requesterId))) {
      this.logger.warn('request.requester.unreachable', { requestId: request.id });
      return false;
    }
    const sending = await this.send({
      tenantId: request.tenantId,
      to: { user: request.requesterId },
      content: json({ type: 'requesterNotice', request, event } satisfies Rendered),
    });
    if (sending.state === 'failed')
      this.logger.warn('request.requester.notify.failed', { requestId: request.id, error: sending.error });
    return sending.state !== 'failed';
  }

  async sendToChannel(channel: JsonObject, notice: AlertNotice): Promise<JsonObject | null> {
    const tenantId = (channel as Partial<ConversationReference>).conversation?.tenantId ?? notice.alert.tenantId;
    const sending = await this.send({
      tenantId,
      to: { reference: channel },
      content: json({ type: 'alert', notice } satisfies Rendered),
    });
    if (sending.state === 'failed')
      this.logger.warn('alert.channel.failed', { alertKey: notice.alert.key, error: sending.error });
    return sending.state === 'failed' ? null : sending.location;
  }

  async sendToUser(tenantId: string, userId: string, notice: AlertNotice): Promise<JsonObject | null> {
    // An admin who never opened the bot is reached too: the chat is opened (installing the app where allowed).
    const sending = await this.send({
      tenantId,
      to: { user: userId },
      content: json({ type: 'alert', notice } satisfies Rendered),
    });
    if (sending.state === 'failed')
      this.logger.warn('alert.user.failed', { alertKey: notice.alert.key, userId, error: sending.error });
    return sending.state === 'failed' ? null : sending.location;
  }

  /** Updates alert cards in place (each an outbox record); returns how many were updated or queued. */
  async updateAlertCards(locations: readonly JsonObject[], notice: AlertNotice): Promise<number> {
    let updated = 0;
    for (const location of locations) {
      if (await this.update(location, json({ type: 'alert', notice } satisfies Rendered), notice.alert.tenantId))
        updated++;
    }
    return updated;
  }

  /**
   * Sends a review card or a notice, in the user's language, to their 1:1 chat; returns where it is, for later updates.
   */
  async sendToUserChat(tenantId: string, userId: string, content: UserChatContent): Promise<Delivery> {
    return delivery(await this.send({ tenantId, to: { user: userId }, content: json(content) }));
  }

  /**
   * Replaces a card wherever it is (a location from cardLocation, or a queued card's), e.g. when a resumed operation
   * finishes.
   */
  replaceCard(location: JsonObject, card: Attachment | UserChatContent): Promise<boolean> {
    const content = 'type' in card && (card.type === 'review' || card.type === 'msg') ? card : { type: 'card', card };
    return this.update(location, json(content), tenantOf(location));
  }

  private async update(location: JsonObject, content: JsonObject, tenantId: string): Promise<boolean> {
    if (!location.outboxId && (!location.reference || typeof location.activityId !== 'string')) return false;
    const sending = await this.send({ tenantId, to: { location }, content });
    if (sending.state === 'failed')
      this.logger.warn('card.update.failed', { cardActivityId: location.activityId, error: sending.error });
    return sending.state !== 'failed';
  }
}

/** Review cards and notices a person gets in their 1:1 chat, rendered at send time. */
export type UserChatContent =
  { type: 'review'; view: ReviewView; defaultDecision: ReviewDecision; reminder?: boolean } | { type: 'msg'; msg: Msg };

/** A review card or a notice in `l`'s language. */
export function renderUserChat(l: Localizer, content: UserChatContent): Attachment | string {
  return content.type === 'msg'
    ? l.msg(content.msg)
    : reviewCard(l, content.view, content.defaultDecision, content.reminder ? { reminder: true } : undefined);
}

function tenantOf(location: JsonObject): string {
  const reference = location.reference as Partial<ConversationReference> | undefined;
  return (
    reference?.conversation?.tenantId ??
    (reference as { channelData?: { tenant?: { id?: string } } } | undefined)?.channelData?.tenant?.id ??
    'unknown'
  );
}
