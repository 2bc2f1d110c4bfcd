/**
 * Card actions on membership requests that live outside a dialog: approve/deny (Action.Execute invokes, or the
 * Action.Submit fallback), refresh, and withdraw. Every id in the card data is checked again on the server.
 */
import { CardFactory, type AdaptiveCardInvokeResponse, type Attachment, type TurnContext } from 'botbuilder';
import type { Logger } from '../../logging';
import type { RequestAccessService } from '../../domain/requests/requestAccess';
import type { DecideOutcome } from '../../domain/requests/model';
import { isRecord } from '../cardPrompt';
import { actorFrom } from '../identity';
import { approvalCard, requestListCard } from './cards';
import { outcomeCard } from '../cardFlow';
import type { SlowWork } from '../background';
import { cardLocation, replaceOrSend } from '../cardReply';
import { loc } from '../locale';
import type { Actor } from '../../domain/shared/model';
import type { Localizer } from '../../i18n';

const VERBS = ['request.approve', 'request.deny', 'request.refresh', 'request.withdraw'] as const;
type Verb = (typeof VERBS)[number];

export interface RequestAction {
  verb: Verb;
  requestId: string;
  comment: string | null;
}

/** Validates a card payload: a known verb, a request id of sane shape, an optional comment; nothing else is read. */
export function parseRequestAction(verb: unknown, data: unknown): RequestAction | null {
  if (typeof verb !== 'string' || !(VERBS as readonly string[]).includes(verb) || !isRecord(data)) return null;
  const { requestId, comment } = data;
  if (typeof requestId !== 'string' || !/^[0-9a-zA-Z-]{1,64}$/.test(requestId)) return null;
  if (comment !== undefined && comment !== null && typeof comment !== 'string') return null;
  return { verb: verb as Verb, requestId, comment: typeof comment === 'string' ? comment.slice(0, 2000) : null };
}

function cardResponse(card: Attachment): AdaptiveCardInvokeResponse {
  return {
    statusCode: 200,
    type: CardFactory.contentTypes.adaptiveCard,
    value: card.content as Record<string, unknown>,
  };
}

export class RequestActions {
  constructor(
    private readonly service: RequestAccessService,
    private readonly logger: Logger,
    private readonly slow: SlowWork,
  ) {}

  /** The card to show after an action (for the invoke response, or to update the submitted card). */
  private async perform(context: TurnContext, action: RequestAction): Promise<Attachment> {
    const actor = actorFrom(context);
    const l = loc(context);
    const notDone = (text: string): Attachment =>
      outcomeCard(l, { title: l.t('common:notDone'), color: 'Attention', text });
    if (!actor) return notDone(l.t('requests:action.notSignedIn'));
    if (action.verb === 'request.withdraw') {
      const result = await this.service.withdraw(actor, action.requestId);
      if (result.kind === 'refused') return notDone(l.msg(result.message));
      return requestListCard(l, await this.service.listMine(actor), true);
    }
    if (action.verb === 'request.refresh') {
      const current = await this.service.viewForOwner(actor, action.requestId);
      return current
        ? approvalCard(l, current)
        : outcomeCard(l, { title: l.t('requests:approval.title'), text: l.t('requests:action.ownersOnly') });
    }
    const outcome: DecideOutcome = await this.service.decide(
      actor,
      action.requestId,
      action.verb === 'request.approve',
      action.comment,
    );
    if (outcome.kind === 'refused') {
      const current = await this.service.viewForOwner(actor, action.requestId);
      if (current && (outcome.reason === 'groupBlocked' || outcome.reason === 'comment'))
        return approvalCard(l, current, { notice: l.msg(outcome.message) });
      return notDone(l.msg(outcome.message));
    }
    return approvalCard(l, outcome.request);
  }

  /**
   * The card for a late update, from the request as it is now: another owner's decision may have ended (and updated
   * every card) since this turn read it, and an older view ("Adding…") must not overwrite that. A refusal keeps its
   * card.
   */
  private async latest(
    actor: Actor | null,
    l: Localizer,
    action: RequestAction,
    card: Attachment,
  ): Promise<Attachment> {
    const current = actor ? await this.service.viewForOwner(actor, action.requestId) : undefined;
    return current && current.state !== 'pending' ? approvalCard(l, current) : card;
  }

  /** Universal Actions (adaptiveCard/action invoke): the response replaces the card for the person who clicked. */
  async invoke(context: TurnContext, verb: unknown, data: unknown): Promise<AdaptiveCardInvokeResponse> {
    const action = parseRequestAction(verb, data);
    if (!action) {
      this.logger.warn('card.action.rejected', { verb: typeof verb === 'string' ? verb.slice(0, 50) : typeof verb });
      const l = loc(context);
      return cardResponse(
        outcomeCard(l, { title: l.t('common:notDone'), color: 'Attention', text: l.t('requests:action.unknown') }),
      );
    }
    const replyToId = context.activity.replyToId;
    if ((action.verb === 'request.approve' || action.verb === 'request.deny') && replyToId) {
      // A decision may take several Graph round trips: answer within the invoke deadline, update the card when it ends.
      const location = cardLocation(context, replyToId);
      // The turn's context is revoked once it ends: who clicked and their language are read now.
      const actor = actorFrom(context);
      const l = loc(context);
      const result = await this.slow.background.within(
        action.verb,
        this.perform(context, action),
        this.slow.invokeDeadlineMs,
        async (card) => {
          await this.slow.updateCard(location, await this.latest(actor, l, action, card));
        },
      );
      if (!result.done)
        return cardResponse(
          outcomeCard(l, { title: l.t('requests:action.workingTitle'), text: l.t('requests:action.working') }),
        );
      return cardResponse(result.value);
    }
    return cardResponse(await this.perform(context, action));
  }

  /** Action.Submit fallback: returns false when the activity is not a request action. */
  async submit(context: TurnContext): Promise<boolean> {
    const value: unknown = context.activity.value;
    if (!isRecord(value) || typeof value.verb !== 'string' || !value.verb.startsWith('request.') || 'flowId' in value)
      return false;
    const action = parseRequestAction(value.verb, value);
    if (!action) {
      await context.sendActivity(loc(context).t('requests:action.unknown'));
      return true;
    }
    const card = await this.perform(context, action);
    await replaceOrSend(context, card, this.logger);
    return true;
  }
}
