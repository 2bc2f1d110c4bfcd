/** Proactive delivery in Teams: approval cards to owners, their updates, and notices to requesters. */
import { MessageFactory, TurnContext, type Attachment, type CloudAdapter, type ConversationReference } from 'botbuilder';
import type { Logger } from '../logging';
import type { ApprovalMessenger } from '../domain/requestAccess';
import type { AlertMessenger, AlertNotice } from '../domain/adminAlerts';
import type { GroupOwner } from '../graph/directory';
import type { AccessRequestRecord, ConversationStore, JsonObject } from '../store/store';
import { alertCard } from './adminCards';
import { isRecord } from './cardPrompt';
import { approvalCard, statusLine } from './requestCards';
import { outcomeCard } from './dialogs/cardFlow';
import { locFor, referenceWithAudience } from './locale';
import type { Localizer } from '../i18n';
import { channelErrorCode, PersonalChatService } from './delivery/reachability';
import type { UnreachableReason } from './delivery/personalChat';

const RETRYABLE = new Set([429, 412, 502, 504]);

interface CardLocation {
  reference: Partial<ConversationReference>;
  activityId: string;
}

function locationJson(reference: Partial<ConversationReference>, activityId: string): JsonObject {
  const location: CardLocation = { reference, activityId };
  return JSON.parse(JSON.stringify(location)) as JsonObject;
}

/** Answers a card's Action.Submit: replaces the card it came from in place, or sends the answer when that fails. */
export async function replaceOrSend(context: TurnContext, card: Attachment, logger: Logger): Promise<void> {
  const replyToId = context.activity.replyToId;
  if (replyToId) {
    try {
      await context.updateActivity({ type: 'message', id: replyToId, attachments: [card] });
      return;
    } catch (err) {
      logger.warn('card.update.failed', { cardActivityId: replyToId, error: err });
    }
  }
  await context.sendActivity(MessageFactory.attachment(card));
}

/** Where a card is, so that a later turn or another process can update it (conversation reference and activity id). */
export function cardLocation(context: TurnContext, activityId: string): JsonObject {
  return locationJson(referenceWithAudience(context.activity) as Partial<ConversationReference>, activityId);
}

/** Where a message went, or why it could not go (`unreachable`: the person cannot be reached in Teams now). */
type Delivery = { ok: true; location: JsonObject } | { ok: false; error: string; unreachable?: UnreachableReason };

function statusOf(err: unknown): number | undefined {
  if (!isRecord(err)) return undefined;
  const status = err.statusCode ?? err.status;
  return typeof status === 'number' ? status : undefined;
}

export class TeamsMessenger implements ApprovalMessenger, AlertMessenger {
  /** Opens people's 1:1 chats (installing the app where allowed) and records who cannot be reached. */
  readonly chats: PersonalChatService;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly conversations: ConversationStore,
    private readonly appId: string,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    chats?: PersonalChatService,
  ) {
    this.chats = chats ?? new PersonalChatService({ adapter, appId, conversations, logger, clock: this.clock });
  }

  /** Teams' rate limits: 429/412/502/504 are retried with exponential backoff and jitter. */
  private async withRetry<T>(what: string, action: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (err) {
        const status = statusOf(err);
        if (status === undefined || !RETRYABLE.has(status) || attempt >= 4) throw err;
        const wait = 500 * 2 ** attempt + Math.floor(Math.random() * 250);
        this.logger.info('teams.retry', { what, status, attempt: attempt + 1, ms: wait });
        await this.sleep(wait);
      }
    }
  }

  /**
   * Runs `logic` in the stored conversation. The adapter hands an error thrown inside a proactive turn to its
   * turn error handler (which logs a turn error, apologises into that chat and drops its dialog state) and then
   * resolves; so the error is caught here and rethrown outside, where retries and 403/404 handling see it.
   */
  private async continue(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    await this.withRetry('continueConversation', async () => {
      let failure: { error: unknown } | undefined;
      await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
        try {
          await logic(context);
        } catch (error) {
          failure = { error };
        }
      });
      if (failure) throw failure.error;
    });
  }

  async sendApprovalCard(request: AccessRequestRecord, owner: GroupOwner, reason: 'new' | 'reminder' | 'resend'): Promise<Delivery> {
    return this.deliver(request.tenantId, owner.id, request.requesterId, (l, reference) =>
      approvalCard(l, request, { reminder: reason === 'reminder', refreshUserIds: reference.user?.id ? [reference.user.id] : [] }),
    );
  }

  /**
   * Sends what `render` makes, in the person's language, to their 1:1 chat: the stored one, or one opened now
   * (through `via`'s service URL, installing the app for them where allowed). A chat Teams refuses is forgotten and
   * opened once more (e.g. after an uninstall); a person who cannot be reached is reported with the reason.
   */
  private async deliver(tenantId: string, userId: string, via: string, render: (l: Localizer, reference: Partial<ConversationReference>) => Attachment | string): Promise<Delivery> {
    let first: string | null = null;
    try {
      if (via !== userId) {
        const known = (await this.conversations.get(tenantId, via)) as Partial<ConversationReference> | undefined;
        if (known) await this.chats.note(tenantId, known, via);
      }
      for (let attempt = 0; ; attempt++) {
        const opening = await this.chats.open(tenantId, userId);
        if (!opening.ok) return { ok: false, error: [first, `unreachable: ${opening.reason}`, opening.detail].filter(Boolean).join('; '), unreachable: opening.reason };
        const reference = opening.reference;
        try {
          return { ok: true, location: await this.post(reference, (l) => render(l, reference)) };
        } catch (err) {
          const status = statusOf(err);
          const described = `${status ?? ''} ${err instanceof Error ? err.message : String(err)}`.trim();
          if (status === undefined) return { ok: false, error: described };
          const reason = await this.chats.refused(tenantId, userId, status, channelErrorCode(err));
          if (reason) return { ok: false, error: `${described}; unreachable: ${reason}`, unreachable: reason };
          if ((status !== 403 && status !== 404) || attempt > 0) return { ok: false, error: described };
          first = described;
        }
      }
    } catch (err) {
      const status = statusOf(err);
      return { ok: false, error: [first, `${status ?? ''} ${err instanceof Error ? err.message : String(err)}`.trim()].filter(Boolean).join('; ') };
    }
  }

  /** Posts a card or a text into a conversation, in the language of whoever it leads to; returns where it is. */
  private async post(reference: Partial<ConversationReference>, render: (l: Localizer) => Attachment | string): Promise<JsonObject> {
    let activityId: string | undefined;
    await this.continue(reference, async (context) => {
      const content = render(locFor(reference));
      activityId = (await context.sendActivity(typeof content === 'string' ? content : MessageFactory.attachment(content)))?.id;
    });
    if (!activityId) throw new Error('the channel returned no activity id');
    return locationJson(reference, activityId);
  }

  async updateApprovalCards(request: AccessRequestRecord): Promise<void> {
    // A card listed twice (e.g. sent again to the same chat) is updated once. Activity ids are unique within a
    // conversation only (Teams message ids are times in ms): two owners' cards sent at once can share one.
    const seen = new Set<string>();
    for (const card of request.ownerCards) {
      const location = card.location as unknown as CardLocation | null;
      if (card.status !== 'sent' || !location?.activityId) continue;
      const key = JSON.stringify([location.reference.conversation?.id ?? '', location.activityId]);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        await this.continue(location.reference, async (context) => {
          await context.updateActivity({ type: 'message', id: location.activityId, attachments: [approvalCard(locFor(location), request)] });
        });
      } catch (err) {
        this.logger.warn('request.card.update.failed', { requestId: request.id, ownerId: card.ownerId, error: err });
      }
    }
  }

  async notifyRequester(request: AccessRequestRecord, event: 'decided' | 'expired'): Promise<boolean> {
    const stored = await this.conversations.get(request.tenantId, request.requesterId);
    if (!stored) {
      this.logger.warn('request.requester.unreachable', { requestId: request.id });
      return false;
    }
    const approved = request.state === 'approved';
    const l = locFor(stored);
    const title = l.t(event === 'expired' ? 'requests:notice.expiredTitle' : approved ? 'requests:notice.approvedTitle' : 'requests:notice.deniedTitle');
    const text = event === 'expired' ? l.t('requests:notice.expired', { app: request.appName, group: request.groupName }) : statusLine(l, request);
    const facts = [
      { label: l.t('common:fact.app'), value: request.appName },
      { label: l.t('common:fact.group'), value: request.groupName },
      ...(request.comment ? [{ label: l.t('requests:fact.comment'), value: request.comment }] : []),
    ];
    try {
      await this.continue(stored as Partial<ConversationReference>, async (context) => {
        await context.sendActivity(MessageFactory.attachment(outcomeCard(l, { title, color: approved ? 'Good' : 'Attention', text, facts })));
      });
      return true;
    } catch (err) {
      this.logger.warn('request.requester.notify.failed', { requestId: request.id, error: err });
      return false;
    }
  }

  async sendToChannel(channel: JsonObject, notice: AlertNotice): Promise<JsonObject | null> {
    try {
      return await this.post(channel as Partial<ConversationReference>, (l) => alertCard(l, notice));
    } catch (err) {
      this.logger.warn('alert.channel.failed', { alertKey: notice.alert.key, error: err });
      return null;
    }
  }

  async sendToUser(tenantId: string, userId: string, notice: AlertNotice): Promise<JsonObject | null> {
    const delivery = await this.deliver(tenantId, userId, userId, (l) => alertCard(l, notice));
    if (delivery.ok) return delivery.location;
    this.logger.warn('alert.user.failed', { alertKey: notice.alert.key, userId, error: delivery.error });
    return null;
  }

  /** Updates alert cards in place, one after the other (each through replaceCard, with its retries). */
  async updateAlertCards(locations: readonly JsonObject[], notice: AlertNotice): Promise<number> {
    let updated = 0;
    for (const location of locations) {
      if (await this.replaceCard(location, alertCard(locFor(location), notice))) updated++;
    }
    return updated;
  }

  /** Sends a card or a text, in the user's language, to their 1:1 chat with the bot; returns where it is, for later updates. */
  sendToUserChat(tenantId: string, userId: string, render: (l: Localizer) => Attachment | string): Promise<Delivery> {
    return this.deliver(tenantId, userId, userId, (l) => render(l));
  }

  /** Replaces a card wherever it is (a location from cardLocation), e.g. when a resumed operation finishes. */
  async replaceCard(location: JsonObject, card: Attachment): Promise<boolean> {
    const { reference, activityId } = location as unknown as CardLocation;
    if (!reference || typeof activityId !== 'string') return false;
    try {
      await this.continue(reference, async (context) => {
        await context.updateActivity({ type: 'message', id: activityId, attachments: [card] });
      });
      return true;
    } catch (err) {
      this.logger.warn('card.update.failed', { cardActivityId: activityId, error: err });
      return false;
    }
  }
}
