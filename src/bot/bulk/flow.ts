/**
 * The bulk part of the invite dialog: the address list with its review (the review is the confirmation), then
 * the job, its progress card updated in place, and its outcome per address.
 */
import { MessageFactory, type Attachment } from 'botbuilder';
import type { DialogTurnResult, PromptValidatorContext, WaterfallStepContext } from '../dialogSdk';
import type { Logger } from '../../logging';
import type { BulkInviteService } from '../../domain/bulk/bulkJob';
import type { BulkOutcome, BulkSummary, PersonalInvitation } from '../../domain/bulk/model';
import type { InviteGuestService } from '../../domain/invite/inviteGuest';
import { loc, locFor } from '../locale';
import type { Localizer } from '../../i18n';
import type { Actor } from '../../domain/shared/model';
import type { CardSubmit, CardPromptValidations } from '../cardPrompt';
import type { SlowWork, Within } from '../background';
import type { JsonObject } from '../../store/store';
import { cardLocation } from '../cardReply';
import { actorFrom } from '../identity';
import { flow, outcomeCard, text, type FlowState } from '../cardFlow';
import { listCard, progressCard } from './cards';
import { CardProgress } from './progress';
import type { ReadLimit } from '../readLimit';

export const BULK_PROMPT = 'inviteGuest.bulkList';
export const BULK_VERBS = { start: 'invite.bulk', check: 'invite.bulkCheck', send: 'invite.bulkSend' } as const;

interface Reviewed {
  addresses: string[];
  /** How many of them are new invitations: counted against the owner's hourly allowance when sent. */
  newInvitations: number;
  message: string | null;
  /** From a file: each address's own welcome message and whether its invitation email is sent (lower-case keys). */
  personal?: Record<string, PersonalInvitation>;
}

/** A guest list read from a file (../files/fileIntake.ts): the list card's text and each address's own settings. */
export interface ImportedList {
  name: string;
  list: string;
  personal: Record<string, PersonalInvitation>;
}

/**
 * Updates a card in place; when the channel cannot (or there is no id) and `orSend` is set, sends it as a new message.
 */
type ReplaceCard = (id: string | null, card: Attachment, orSend?: boolean) => Promise<void>;

type ListValidations = CardPromptValidations & {
  form: { appName: string; groupName: string };
  groupId: string;
  reviewed?: Reviewed;
  personal?: Record<string, PersonalInvitation>;
};

export class BulkFlow {
  constructor(
    private readonly service: BulkInviteService,
    private readonly invite: InviteGuestService,
    private readonly slow: SlowWork,
    private readonly logger: Logger,
    private readonly readLimit?: ReadLimit,
  ) {}

  /**
   * Sends the list card and waits for its check, send or cancel: empty, or for a list read from a file, filled in
   * and reviewed already (the same review as a pasted list that was checked).
   */
  async prompt(step: WaterfallStepContext, cancelVerb: string, imported?: ImportedList): Promise<DialogTurnResult> {
    const state = flow<FlowState>(step);
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    const form = { appName: app.displayName, groupName: group.displayName };
    const validations: ListValidations = {
      flowId: state.flowId,
      verbs: [BULK_VERBS.check, BULK_VERBS.send, cancelVerb],
      form,
      groupId: group.id,
      personal: imported?.personal,
    };
    const l = loc(step.context);
    const card = imported
      ? await this.reviewCard(l, validations, imported.list, '', actorFrom(step.context) ?? undefined)
      : listCard(l, { flowId: state.flowId, ...form, addresses: '', message: '' });
    return step.prompt(BULK_PROMPT, { prompt: MessageFactory.attachment(card), validations });
  }

  /** The list card with its review; `validations.reviewed` holds what the send button sends. */
  private async reviewCard(
    l: Localizer,
    validations: ListValidations,
    rawList: string,
    rawMessage: string,
    actor: Actor | undefined,
  ): Promise<Attachment> {
    const base = { flowId: validations.flowId, ...validations.form, addresses: rawList, message: rawMessage };
    const message = this.invite.checkWelcomeMessage(rawMessage);
    if (!message.ok) return listCard(l, { ...base, error: l.msg(message.message) });
    const review = await this.service.review(validations.groupId, rawList, actor);
    const sendable = [...review.toInvite, ...review.existing];
    // Each sendable address's own settings from the file (the list may have been edited and checked again).
    const own = validations.personal;
    const pick = (a: string): Array<[string, PersonalInvitation]> =>
      own?.[a.toLowerCase()] ? [[a.toLowerCase(), own[a.toLowerCase()]]] : [];
    const personal: Record<string, PersonalInvitation> | undefined = own
      ? Object.fromEntries(sendable.flatMap(pick))
      : undefined;
    validations.reviewed =
      sendable.length > 0
        ? { addresses: sendable, newInvitations: review.toInvite.length, message: message.message, personal }
        : undefined;
    const error =
      review.valid.length + review.invalid.length === 0
        ? l.t('bulk:emptyList')
        : sendable.length === 0 && review.members.length === 0 && review.overAllowance.length === 0
          ? l.t('bulk:noneValid')
          : '';
    const counted = personal
      ? {
          own: Object.values(personal).filter((p) => p.message).length,
          silent: Object.values(personal).filter((p) => !p.send).length,
        }
      : null;
    return listCard(l, { ...base, review, error, personal: counted });
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
    if (this.readLimit && !(await this.readLimit(pc.context))) return false;
    const card = await this.reviewCard(
      loc(pc.context),
      validations,
      rawList,
      rawMessage,
      actorFrom(pc.context) ?? undefined,
    );
    // The card is replaced in place when the channel can; otherwise the retry prompt sends it again.
    pc.options.retryPrompt = MessageFactory.attachment(card);
    return false;
  }

  /** Starts the job from the send submit: the list card becomes the progress card, updated in place. */
  async start(step: WaterfallStepContext, submit: CardSubmit, replaceCard: ReplaceCard): Promise<DialogTurnResult> {
    const actor = actorFrom(step.context)!;
    const reviewed = submit.data.reviewed as Reviewed;
    const l = loc(step.context);
    const refused = await this.service.reserve(actor, reviewed.newInvitations);
    if (refused) {
      await replaceCard(
        submit.cardActivityId,
        outcomeCard(l, { title: l.t('bulk:title'), color: 'Attention', text: l.msg(refused) }),
        true,
      );
      return step.endDialog('refused');
    }
    const initial = initialSummary(flow<FlowState>(step), reviewed);
    await replaceCard(submit.cardActivityId, progressCard(l, initial));
    const replyTo = submit.cardActivityId ? cardLocation(step.context, submit.cardActivityId) : null;
    const updates = this.cardUpdates(replyTo);
    const work = this.service.run({
      operationId: initial.operationId,
      actor,
      appId: initial.app.id,
      groupId: initial.group.id,
      addresses: reviewed.addresses,
      message: reviewed.message,
      personal: reviewed.personal ? reviewed.addresses.map((a) => reviewed.personal?.[a.toLowerCase()] ?? null) : null,
      language: l.locale,
      replyTo,
      onProgress: (summary) => updates.progress(summary),
    });
    const result = await this.withinTurn(work, replyTo, updates);
    if (!result.done) return step.endDialog('inProgress');
    const outcome = result.value;
    await this.showOutcome(l, outcome, { submit, replyTo, updates, replaceCard });
    const status = outcome.kind === 'bulk' ? outcome.status : outcome.kind;
    this.logger.info('bulk.turn.finished', { operationId: initial.operationId, status });
    return step.endDialog(status);
  }

  /**
   * The progress card's updates after this turn (in the background, or by a resumed job), in the owner's stored locale.
   */
  private cardUpdates(replyTo: JsonObject | null): CardProgress<BulkSummary> {
    return new CardProgress<BulkSummary>(async (summary) => {
      if (replyTo) await this.slow.updateCard(replyTo, progressCard(locFor(replyTo), summary));
    });
  }

  /** Waits for the job until the turn's deadline when its card can be updated later; otherwise to its end. */
  private async withinTurn(
    work: Promise<BulkOutcome>,
    replyTo: JsonObject | null,
    updates: CardProgress<BulkSummary>,
  ): Promise<Within<BulkOutcome>> {
    if (!replyTo) return { done: true as const, value: await work };
    return this.slow.background.within('bulkInvite', work, this.slow.turnDeadlineMs, async (outcome) => {
      if (outcome.kind === 'bulk') await updates.final(outcome);
    });
  }

  /** The job's outcome on its card: the final progress card, or "still running" when another turn runs it. */
  private async showOutcome(
    l: Localizer,
    outcome: BulkOutcome,
    shown: {
      submit: CardSubmit;
      replyTo: JsonObject | null;
      updates: CardProgress<BulkSummary>;
      replaceCard: ReplaceCard;
    },
  ): Promise<void> {
    if (outcome.kind === 'bulk') {
      await shown.updates.final(outcome);
      if (!shown.replyTo) await shown.replaceCard(null, progressCard(l, outcome), true);
      return;
    }
    await shown.replaceCard(
      shown.submit.cardActivityId,
      outcomeCard(l, { title: l.t('bulk:progress.running'), text: l.msg(outcome.message) }),
      true,
    );
  }
}

/** The progress card's first state: every reviewed address pending. */
function initialSummary(state: FlowState, reviewed: Reviewed): BulkSummary {
  const app = state.offered.find((a) => a.id === state.appId)!;
  const group = app.groups.find((g) => g.id === state.groupId)!;
  return {
    kind: 'bulk',
    operationId: `bulk:${state.flowId}`,
    status: 'running',
    app: { id: app.id, displayName: app.displayName },
    group: { id: group.id, displayName: group.displayName },
    message: reviewed.message,
    entries: reviewed.addresses.map((address) => ({ address, state: 'pending' })),
  };
}
