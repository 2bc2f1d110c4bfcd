/**
 * The bulk part of the invite dialog: the address list with its review (the review is the confirmation), then
 * the job, its progress card updated in place, and its outcome per address.
 */
import { MessageFactory, type Attachment } from 'botbuilder';
import type { DialogTurnResult, PromptValidatorContext, WaterfallStepContext } from '../dialogs/sdk';
import type { Logger } from '../../logging';
import type { BulkInviteService, BulkSummary } from '../../domain/bulk/bulkInvite';
import type { InviteGuestService } from '../../domain/inviteGuest';
import { loc, locFor } from '../locale';
import type { CardSubmit, CardPromptValidations } from '../cardPrompt';
import type { SlowWork } from '../background';
import { cardLocation } from '../messenger';
import { actorFrom } from '../identity';
import { flow, outcomeCard, text, type FlowState } from '../dialogs/cardFlow';
import { listCard, progressCard } from './bulkCards';
import { CardProgress } from './progress';
import type { ReadLimit } from '../readLimit';

export const BULK_PROMPT = 'inviteGuest.bulkList';
export const BULK_VERBS = { start: 'invite.bulk', check: 'invite.bulkCheck', send: 'invite.bulkSend' } as const;

interface Reviewed {
  addresses: string[];
  /** How many of them are new invitations: counted against the owner's hourly allowance when sent. */
  newInvitations: number;
  message: string | null;
}

type ListValidations = CardPromptValidations & { form: { appName: string; groupName: string }; groupId: string; reviewed?: Reviewed };

export class BulkFlow {
  constructor(
    private readonly service: BulkInviteService,
    private readonly invite: InviteGuestService,
    private readonly slow: SlowWork,
    private readonly logger: Logger,
    private readonly readLimit?: ReadLimit,
  ) {}

  /** Sends the list card (empty) and waits for its check, send or cancel. */
  prompt(step: WaterfallStepContext, cancelVerb: string): Promise<DialogTurnResult> {
    const state = flow<FlowState>(step);
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    const form = { appName: app.displayName, groupName: group.displayName };
    const card = listCard(loc(step.context), { flowId: state.flowId, ...form, addresses: '', message: '' });
    const validations: ListValidations = { flowId: state.flowId, verbs: [BULK_VERBS.check, BULK_VERBS.send, cancelVerb], form, groupId: group.id };
    return step.prompt(BULK_PROMPT, { prompt: MessageFactory.attachment(card), validations });
  }

  /** `check` re-renders the card with its review; `send` passes once a review with something to send exists. */
  async validate(pc: PromptValidatorContext<CardSubmit>): Promise<boolean> {
    const submit = pc.recognized.value;
    if (!pc.recognized.succeeded || !submit) return false;
    const validations = pc.options.validations as ListValidations;
    if (submit.verb === BULK_VERBS.send && validations.reviewed && validations.reviewed.addresses.length > 0) {
      submit.data = { ...submit.data, reviewed: validations.reviewed };
      return true;
    }
    if (submit.verb !== BULK_VERBS.check) return submit.verb !== BULK_VERBS.send;
    const rawList = text(submit.data.addresses, 30000);
    const rawMessage = text(submit.data.message, 5000);
    const base = { flowId: validations.flowId, ...validations.form, addresses: rawList, message: rawMessage };
    const l = loc(pc.context);
    const actor = actorFrom(pc.context) ?? undefined;
    const message = this.invite.checkWelcomeMessage(rawMessage);
    let card: Attachment;
    if (!message.ok) {
      card = listCard(l, { ...base, error: l.msg(message.message) });
    } else if (this.readLimit && !(await this.readLimit(pc.context))) {
      return false;
    } else {
      const review = await this.service.review(validations.groupId, rawList, actor);
      const sendable = [...review.toInvite, ...review.existing];
      validations.reviewed = sendable.length > 0 ? { addresses: sendable, newInvitations: review.toInvite.length, message: message.message } : undefined;
      const error = review.valid.length + review.invalid.length === 0 ? l.t('bulk:emptyList') : sendable.length === 0 && review.members.length === 0 && review.overAllowance.length === 0 ? l.t('bulk:noneValid') : '';
      card = listCard(l, { ...base, review, error });
    }
    // The card is replaced in place when the channel can; otherwise the retry prompt sends it again.
    pc.options.retryPrompt = MessageFactory.attachment(card);
    return false;
  }

  /** Starts the job from the send submit: the list card becomes the progress card, updated in place. */
  async start(step: WaterfallStepContext, submit: CardSubmit, replaceCard: (id: string | null, card: Attachment, orSend?: boolean) => Promise<void>): Promise<DialogTurnResult> {
    const state = flow<FlowState>(step);
    const actor = actorFrom(step.context)!;
    const reviewed = submit.data.reviewed as Reviewed;
    const l = loc(step.context);
    const refused = await this.service.reserve(actor, reviewed.newInvitations);
    if (refused) {
      await replaceCard(submit.cardActivityId, outcomeCard(l, { title: l.t('bulk:title'), color: 'Attention', text: l.msg(refused) }), true);
      return step.endDialog('refused');
    }
    const operationId = `bulk:${state.flowId}`;
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    const initial: BulkSummary = {
      kind: 'bulk',
      operationId,
      status: 'running',
      app: { id: app.id, displayName: app.displayName },
      group: { id: group.id, displayName: group.displayName },
      message: reviewed.message,
      entries: reviewed.addresses.map((address) => ({ address, state: 'pending' })),
    };
    await replaceCard(submit.cardActivityId, progressCard(l, initial));
    const replyTo = submit.cardActivityId ? cardLocation(step.context, submit.cardActivityId) : null;
    // Updates made after this turn (in the background, or by a resumed job) are in the owner's stored locale.
    const updates = new CardProgress<BulkSummary>(async (summary) => {
      if (replyTo) await this.slow.updateCard(replyTo, progressCard(locFor(replyTo), summary));
    });
    const work = this.service.run({
      operationId,
      actor,
      appId: app.id,
      groupId: group.id,
      addresses: reviewed.addresses,
      message: reviewed.message,
      language: l.locale,
      replyTo,
      onProgress: (summary) => updates.progress(summary),
    });
    const result = replyTo
      ? await this.slow.background.within('bulkInvite', work, this.slow.turnDeadlineMs, async (outcome) => {
          if (outcome.kind === 'bulk') await updates.final(outcome);
        })
      : { done: true as const, value: await work };
    if (!result.done) return step.endDialog('inProgress');
    const outcome = result.value;
    if (outcome.kind === 'bulk') {
      await updates.final(outcome);
      if (!replyTo) await replaceCard(null, progressCard(l, outcome), true);
    } else {
      await replaceCard(submit.cardActivityId, outcomeCard(l, { title: l.t('bulk:progress.running'), text: l.msg(outcome.message) }), true);
    }
    this.logger.info('bulk.turn.finished', { operationId, status: outcome.kind === 'bulk' ? outcome.status : outcome.kind });
    return step.endDialog(outcome.kind === 'bulk' ? outcome.status : outcome.kind);
  }
}
