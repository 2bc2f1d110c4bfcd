/** Teams activity handling: remembers conversation references, de-duplicates re-sent activities, runs the dialogs. */
import {
  MessageFactory,
  TeamsActivityHandler,
  TurnContext,
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  type ConversationState,
  type FileConsentCardResponse,
  type StatePropertyAccessor,
} from 'botbuilder';
import type { DialogState } from './dialogSdk';
import type { Logger } from '../logging';
import { ConflictError, type JsonObject, type Store } from '../store/store';
import { helpCard, isPersonal, messageMeText, type MainDialog } from './mainDialog';
import { actorFrom } from './identity';
import type { RequestActions } from './requests/actions';
import type { AdminCommands } from './admin/commands';
import { isGuestVerb, type GuestActions } from './guests/actions';
import { checkCardPayload } from './cardPayload';
import type { FileExport } from './files/export';
import { outcomeCard } from './cardFlow';
import { isPrivacyVerb, type PrivacyActions } from './privacy/actions';
import { loc, referenceWithAudience } from './locale';
import { setAttributes } from '../telemetry/telemetry';
import { ActivityGate } from './gate';
import type { Directory } from '../graph/directory';
import type { PersonalChatService } from './delivery/reachability';
import type { TeamsMessenger } from './messenger';
import { msg } from '../domain/shared/message';

/** De-duplication markers of handled activities: `activity/{conversation id}/{activity id}`. */
const ACTIVITY_MARKERS = 'activity/';
/** Teams re-sends an activity within minutes; a marker older than this can go. */
export const ACTIVITY_MARKER_TTL_MS = 24 * 3600_000;

/** Deletes markers older than ACTIVITY_MARKER_TTL_MS, a thousand at a time, so the store does not grow per turn. */
export async function pruneActivityMarkers(store: Store, now: Date): Promise<number> {
  const before = new Date(now.getTime() - ACTIVITY_MARKER_TTL_MS);
  let pruned = 0;
  for (
    let batch = await store.state.deleteStale(ACTIVITY_MARKERS, before, 1000);
    batch > 0;
    batch = await store.state.deleteStale(ACTIVITY_MARKERS, before, 1000)
  ) {
    pruned += batch;
  }
  return pruned;
}

const answerable = new WeakMap<object, boolean>();

/**
 * A card with an action the user can submit: the user's answer may come at once. Cards sent again (help) are looked at
 * once.
 */
function canBeAnswered(activity: Partial<Activity>): boolean {
  return (activity.attachments ?? []).some((a) => {
    const content: unknown = a.content;
    if (typeof content !== 'object' || content === null) return false;
    let found = answerable.get(content);
    if (found === undefined) {
      found = /"Action\.(Submit|Execute)"/.test(JSON.stringify(content));
      answerable.set(content, found);
    }
    return found;
  });
}

export interface TeamsBotOptions {
  conversationState: ConversationState;
  mainDialog: MainDialog;
  requestActions: RequestActions;
  adminCommands: AdminCommands;
  guestActions?: GuestActions;
  privacyActions?: PrivacyActions;
  /** The guest list as a file: answers to the file consent card. */
  fileExport?: FileExport;
  store: Store;
  logger: Logger;
  clock?: () => Date;
  /** When non-empty, only these tenants may use the bot. */
  allowedTenantIds?: readonly string[];
  /** Looks up the sender of each message and invoke: unknown users are refused, guests get fewer commands. */
  directory?: Pick<Directory, 'getUser'>;
  /**
   * Whether a conversation reference may be kept with this serviceUrl (default: any). With bot credentials the
   * Bot Framework token's `serviceurl` claim must match the activity's, so the URL is the channel's own.
   */
  trustServiceUrl?: (serviceUrl: string) => boolean;
  /** Who can be reached: anyone who writes is reachable again; an uninstall forgets the chat. */
  chats?: Pick<PersonalChatService, 'seen' | 'forget' | 'installedByBot'>;
  /** Where the welcome goes when the bot installed the app for the person itself (the outbox). */
  welcomes?: Pick<TeamsMessenger, 'sendToUserChat'>;
}

export class TeamsBot extends TeamsActivityHandler {
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly clock: () => Date;
  private readonly gate: ActivityGate;

  constructor(private readonly options: TeamsBotOptions) {
    super();
    this.clock = options.clock ?? (() => new Date());
    this.gate = new ActivityGate({
      store: options.store,
      logger: options.logger,
      directory: options.directory,
      allowedTenantIds: options.allowedTenantIds ?? [],
      clock: this.clock,
    });
    this.dialogState = options.conversationState.createProperty<DialogState>('dialogState');

    this.onMessage(async (context, next) => {
      if (await this.isRepeat(context)) return;
      await this.remember(context);
      if (context.activity.value !== undefined) {
        const check = checkCardPayload(context.activity.value);
        if (!check.ok) {
          options.logger.warn('card.rejected', { reason: check.reason, actorId: context.activity.from?.aadObjectId });
          await context.sendActivity(loc(context).t('common:invalidCard'));
          return;
        }
      }
      if (context.activity.recipient) TurnContext.removeRecipientMention(context.activity);
      await options.mainDialog.run(context, this.dialogState);
      await next();
    });

    this.onInstallationUpdateAdd(async (context, next) => {
      await this.remember(context);
      // The setup report names apps, groups and people: it goes only to a 1:1 chat, never into a team or group chat.
      if (!isPersonal(context)) {
        await context.sendActivity(messageMeText(context, 'security:welcomeShared'));
        return next();
      }
      // Installed by the bot itself (to reach the person, docs/outbox.md): many at once, so a short welcome through
      // the outbox (paced, retried) instead of a reply. Someone who installed it themselves gets the help card now.
      const actor = actorFrom(context);
      if (actor && options.welcomes && (await options.chats?.installedByBot(actor.tenantId, actor.userId))) {
        await options.welcomes.sendToUserChat(actor.tenantId, actor.userId, {
          type: 'msg',
          msg: msg('reach:welcomeInstalledForYou'),
        });
        return next();
      }
      await context.sendActivity(MessageFactory.attachment(helpCard(loc(context))));
      await options.adminCommands.welcome(context);
      await next();
    });

    // Uninstalled in personal scope (subscribe-to-conversation-events: installationUpdate "remove", no membersRemoved):
    // the chat is forgotten; the next message opens it again, installing the app where allowed.
    this.onInstallationUpdateRemove(async (context, next) => {
      const actor = actorFrom(context);
      if (actor && context.activity.conversation?.conversationType === 'personal')
        await options.chats?.forget(actor.tenantId, actor.userId);
      await next();
    });

    // Teams sends installationUpdate and conversationUpdate on install: the welcome goes with the first only.
    this.onMembersAdded(async (context, next) => {
      await this.remember(context);
      await next();
    });
  }

  /** Universal Actions (Action.Execute) on approval cards; answered with the card to show. */
  protected override async onAdaptiveCardInvoke(
    context: TurnContext,
    invokeValue: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    await this.remember(context);
    const verb: unknown = invokeValue?.action?.verb;
    setAttributes({
      'guestinvite.verb': typeof verb === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(verb) ? verb : 'invalid',
    });
    const check = checkCardPayload(invokeValue?.action?.data ?? {}, verb);
    if (!check.ok) {
      this.options.logger.warn('card.rejected', { reason: check.reason, actorId: context.activity.from?.aadObjectId });
      const l = loc(context);
      const card = outcomeCard(l, {
        title: l.t('common:notDone'),
        color: 'Attention',
        text: l.t('common:invalidCard'),
      });
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.card.adaptive',
        value: card.content as Record<string, unknown>,
      };
    }
    // Every card with Action.Execute (approvals, guests, reviews) lives in a 1:1 chat: a click from a shared chat
    // would put personal data where everyone reads it.
    if (!isPersonal(context)) {
      const l = loc(context);
      const card = outcomeCard(l, {
        title: l.t('common:notDone'),
        color: 'Attention',
        text: messageMeText(context, 'security:personalOnly'),
      });
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.card.adaptive',
        value: card.content as Record<string, unknown>,
      };
    }
    const privacy = this.options.privacyActions;
    if (isPrivacyVerb(verb) && privacy) return privacy.invoke(context, verb, invokeValue?.action?.data);
    if (isGuestVerb(verb) && this.options.guestActions)
      return this.options.guestActions.invoke(context, verb, invokeValue?.action?.data);
    return this.options.requestActions.invoke(context, verb, invokeValue?.action?.data);
  }

  /** `fileConsent/invoke`, "accept": the export is made again for whoever accepted, uploaded, then shown. */
  protected override async handleTeamsFileConsentAccept(
    context: TurnContext,
    response: FileConsentCardResponse,
  ): Promise<void> {
    if (this.options.fileExport) await this.options.fileExport.accept(context, response);
  }

  /** `fileConsent/invoke`, "decline": nothing is uploaded. */
  protected override async handleTeamsFileConsentDecline(context: TurnContext): Promise<void> {
    if (this.options.fileExport) await this.options.fileExport.decline(context);
  }

  override async run(context: TurnContext): Promise<void> {
    const refused = await this.gate.check(context);
    if (refused) {
      const key = { channel: null, tenant: 'common:tenantRefused', unknownUser: 'security:unknownUser' }[refused];
      if (key && context.activity.type === 'message') await context.sendActivity(loc(context).t(key));
      if (context.activity.type === 'invoke')
        await context.sendActivity({ type: 'invokeResponse', value: { status: 403 } });
      return;
    }
    // With several instances the user's answer to a card can reach another instance before this turn ends: the
    // dialog state is saved before a card the user can act on goes out (and again at the end if it changed since).
    context.onSendActivities(async (_context, activities, next) => {
      if (activities.some(canBeAnswered)) await this.options.conversationState.saveChanges(context, false);
      return next();
    });
    await super.run(context);
    await this.options.conversationState.saveChanges(context, false);
  }

  /** Teams re-sends an activity when a turn is slow: handle each activity id once. */
  private async isRepeat(context: TurnContext): Promise<boolean> {
    const id = context.activity.id;
    if (!id) return false;
    const key = `${ACTIVITY_MARKERS}${context.activity.conversation?.id ?? ''}/${id}`;
    try {
      await this.options.store.state.write(key, { at: this.clock().toISOString() }, null);
      return false;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      this.options.logger.info('activity.duplicate', { activityId: id });
      return true;
    }
  }

  /**
   * Keeps the latest conversation reference per user, for proactive messages. Without the activity id it stays
   * the same from one activity to the next, so the store has nothing to write on most turns.
   */
  private async remember(context: TurnContext): Promise<void> {
    const actor = actorFrom(context);
    if (!actor) return;
    const personal = context.activity.conversation?.conversationType === 'personal';
    const serviceUrl = context.activity.serviceUrl;
    if (typeof serviceUrl !== 'string' || !(this.options.trustServiceUrl?.(serviceUrl) ?? true)) {
      this.options.logger.warn('conversation.serviceUrl.refused', { actorId: actor.userId });
      return;
    }
    const reference = referenceWithAudience(context.activity) as JsonObject;
    if (personal) await this.options.store.conversations.upsert(actor.tenantId, actor.userId, reference, this.clock());
    // Anyone who writes to the bot (in any chat) is reachable again; a personal chat also shows the app is installed.
    await this.options.chats?.seen(actor.tenantId, actor.userId, reference as Partial<ConversationReference>, personal);
  }
}
