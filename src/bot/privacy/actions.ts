/**
 * `erase person <address or object id>` (`persoon wissen …`): admins only, in their 1:1 chat, after a confirmation
 * card. The card's button is re-checked on the server (admin, personal chat, the target's form) before anything
 * is erased, and the answer replaces the card, so the address leaves the card once the person is erased.
 */
import { CardFactory, MessageFactory } from 'botbuilder';
import type { AdaptiveCardInvokeResponse, Attachment, TurnContext } from 'botbuilder';
import type { Actor } from '../../domain/shared/model';
import { parseErasureTarget, type PersonErasure } from '../../domain/privacy/personErasure';
import type { Localizer } from '../../i18n';
import type { Logger } from '../../logging';
import { isRecord } from '../cardPrompt';
import { displayText, type GuestListCard } from '../cards';
import { action, guestListCard } from '../guests/cards';
import { actorFrom } from '../identity';
import { loc } from '../locale';
import { replaceOrSend } from '../cardReply';

export const PRIVACY_VERBS = ['privacy.erase', 'privacy.eraseCancel'] as const;
type Verb = (typeof PRIVACY_VERBS)[number];

export function isPrivacyVerb(verb: unknown): verb is Verb {
  return typeof verb === 'string' && (PRIVACY_VERBS as readonly string[]).includes(verb);
}

export interface PrivacyActionsOptions {
  erasure: PersonErasure;
  isAdmin: (actor: Actor) => Promise<boolean>;
  logger: Logger;
}

export function confirmEraseCard(l: Localizer, target: string): Attachment {
  return guestListCard(l, {
    title: l.t('privacy:erase.confirmTitle'),
    notice: l.t('privacy:erase.confirm', { target: displayText(target, 320) }),
    noticeStyle: 'warning',
    subtitle: l.t('privacy:erase.confirmNote'),
    footer: [
      action(l.t('privacy:erase.confirmButton'), 'privacy.erase', { target }, 'destructive'),
      action(l.t('privacy:erase.cancel'), 'privacy.eraseCancel', {}),
    ],
  });
}

const isPersonal = (context: TurnContext): boolean => context.activity.conversation?.conversationType === 'personal';

export class PrivacyActions {
  constructor(private readonly options: PrivacyActionsOptions) {}

  /** The typed command (the caller has checked that the actor is an admin): the confirmation card, or why not. */
  async command(context: TurnContext, target: string): Promise<void> {
    const l = loc(context);
    if (!isPersonal(context)) {
      await context.sendActivity(l.t('privacy:erase.personalOnly'));
      return;
    }
    const parsed = parseErasureTarget(target);
    if (!parsed.ok) {
      await context.sendActivity(l.t('privacy:erase.badTarget'));
      return;
    }
    await context.sendActivity(MessageFactory.attachment(confirmEraseCard(l, parsed.value)));
  }

  /** The card's buttons: checked again here, whoever sent them. */
  async perform(context: TurnContext, verb: Verb, data: Record<string, unknown>): Promise<Attachment> {
    const l = loc(context);
    const notice = (text: string, style: GuestListCard['noticeStyle']): Attachment =>
      guestListCard(l, { title: l.t('privacy:erase.title'), notice: text, noticeStyle: style });
    if (verb === 'privacy.eraseCancel') return notice(l.t('privacy:erase.cancelled'), 'default');
    const actor = actorFrom(context);
    if (!actor || !(await this.options.isAdmin(actor))) {
      if (actor) this.options.logger.warn('admin.refused', { actorId: actor.userId, command: verb });
      return notice(l.t('privacy:erase.forAdmins'), 'attention');
    }
    if (!isPersonal(context)) return notice(l.t('privacy:erase.personalOnly'), 'attention');
    const target = parseErasureTarget(typeof data.target === 'string' ? data.target : '');
    if (!target.ok) return notice(l.t('privacy:erase.badTarget'), 'attention');
    const counts = await this.options.erasure.erase(actor, target);
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    return notice(l.t(rows > 0 ? 'privacy:erase.done' : 'privacy:erase.nothing', { rows }), 'good');
  }

  /** Universal Actions: the answer replaces the card for the admin who clicked. */
  async invoke(context: TurnContext, verb: Verb, data: unknown): Promise<AdaptiveCardInvokeResponse> {
    const result = await this.perform(context, verb, isRecord(data) ? data : {});
    const value = result.content as Record<string, unknown>;
    return { statusCode: 200, type: CardFactory.contentTypes.adaptiveCard, value };
  }

  /** Action.Submit fallback: false when the activity is not one of these buttons. */
  async submit(context: TurnContext): Promise<boolean> {
    const value: unknown = context.activity.value;
    if (!isRecord(value) || !isPrivacyVerb(value.verb)) return false;
    await replaceOrSend(context, await this.perform(context, value.verb, value), this.options.logger);
    return true;
  }
}
