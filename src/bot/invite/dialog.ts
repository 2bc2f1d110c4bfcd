/** The invite-guest conversation: app → group (when several) → email and message → confirmation → outcome. */
import { randomUUID } from 'node:crypto';
import { MessageFactory, type Attachment } from 'botbuilder';
import {
  WaterfallDialog,
  type DialogTurnResult,
  type PromptValidatorContext,
  type WaterfallStepContext,
} from '../dialogSdk';
import type { Logger } from '../../logging';
import type { InviteGuestService } from '../../domain/invite/inviteGuest';
import type { InviteOutcome } from '../../domain/invite/model';
import { describeBlocker, type GroupBlocker } from '../../domain/shared/model';
import { CardPrompt, type CardSubmit } from '../cardPrompt';
import type { SlowWork } from '../background';
import { cardLocation } from '../cardReply';
import { renderCard, type CardData, type Fact } from '../cards';
import { actorFrom } from '../identity';
import type { Localizer } from '../../i18n';
import { loc } from '../locale';
import { CardFlowDialog, flow, isTurnResult, outcomeCard, text, type FlowState } from '../cardFlow';
import { BULK_PROMPT, BULK_VERBS, type BulkFlow, type ImportedList } from '../bulk/flow';

export const INVITE_GUEST_DIALOG = 'inviteGuest';
const DETAILS_PROMPT = 'inviteGuest.details';
const TITLE = 'invite:title';

interface InviteFlow extends FlowState {
  email?: string;
  message?: string | null;
}

type DetailsForm = Pick<CardData['invite-details'], 'flowId' | 'appName' | 'groupName' | 'intro' | 'bulk'>;

/** Options of the dialog: `bulk` starts with the list of several guests (`invite guests`). */
export interface InviteGuestOptions {
  bulk?: boolean;
  /** A list read from a file the owner sent: the list card comes filled in and reviewed. */
  imported?: ImportedList;
}

function shortBlocker(l: Localizer, blocker: GroupBlocker): string {
  return l.t(`invite:shortBlocker.${blocker}`);
}

export class InviteGuestDialog extends CardFlowDialog {
  constructor(
    private readonly service: InviteGuestService,
    logger: Logger,
    private readonly slow: SlowWork,
    private readonly bulk?: BulkFlow,
  ) {
    super(INVITE_GUEST_DIALOG, logger, { prefix: 'invite', title: TITLE });
    this.addDialog(new CardPrompt(DETAILS_PROMPT, (pc) => this.validateDetails(pc)));
    if (bulk) this.addDialog(new CardPrompt(BULK_PROMPT, (pc) => bulk.validate(pc)));
    this.addDialog(
      new WaterfallDialog(`${INVITE_GUEST_DIALOG}.flow`, [
        (step) => this.chooseApp(step),
        (step) => this.chooseGroup(step),
        (step) => this.askDetails(step),
        (step) => this.confirm(step),
        (step) => this.act(step),
      ]),
    );
    this.initialDialogId = `${INVITE_GUEST_DIALOG}.flow`;
  }

  private forgedChoice(step: WaterfallStepContext) {
    return async (detail: { appId?: string; groupId?: string }): Promise<void> => {
      const actor = actorFrom(step.context);
      if (actor) await this.service.recordForgedChoice(actor, { ...detail, activityId: step.context.activity.id });
    };
  }

  private async chooseApp(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const actor = actorFrom(step.context);
    const l = loc(step.context);
    if (!actor) {
      await step.context.sendActivity(l.t('invite:notSignedIn'));
      return step.endDialog();
    }
    await step.context.sendActivity({ type: 'typing' });
    const shareable = await this.service.findShareableApps(actor);
    const state = flow<InviteFlow>(step);
    state.flowId = randomUUID();
    state.offered = shareable.apps;
    if (shareable.apps.length === 0) {
      const lines = [l.t('invite:nothingToShare.intro')];
      for (const b of shareable.blocked)
        lines.push(
          l.t('invite:nothingToShare.blocked', { why: describeBlocker(b.blockers[0], b.groupName, b.appName) }),
        );
      lines.push(l.t('invite:nothingToShare.advice'));
      await step.context.sendActivity(
        MessageFactory.attachment(
          outcomeCard(l, { title: l.t('invite:nothingToShare.title'), color: 'Warning', text: lines.join('\n\n') }),
        ),
      );
      return step.endDialog();
    }
    const blocked = shareable.blocked.map((b) => ({
      appName: b.appName,
      groupName: b.groupName,
      reason: l.list(b.blockers.map((x) => shortBlocker(l, x))),
    }));
    return this.chooseAppCard(step, l.t('invite:chooseApp'), blocked);
  }

  private async chooseGroup(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const app = await this.takeApp(step, step.result as CardSubmit, this.forgedChoice(step));
    if (isTurnResult(app)) return app;
    if (app.groups.length === 1) return step.next(app.groups[0].id);
    return this.chooseGroupCard(step, app, loc(step.context).t('invite:chooseGroup', { app: app.displayName }));
  }

  private async askDetails(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const chosen = await this.takeGroup(step, this.forgedChoice(step));
    if (isTurnResult(chosen)) return chosen;
    const options = step.options as InviteGuestOptions | undefined;
    if (this.bulk && options?.bulk) return this.bulk.prompt(step, this.cancelVerb, options.imported);
    const l = loc(step.context);
    const intro = l.t('invite:detailsIntro', { group: chosen.group.displayName, app: chosen.app.displayName });
    const form: DetailsForm = {
      flowId: flow(step).flowId,
      appName: chosen.app.displayName,
      groupName: chosen.group.displayName,
      intro,
      bulk: this.bulk !== undefined,
    };
    const verbs = this.bulk ? ['invite.details', BULK_VERBS.start] : ['invite.details'];
    return this.prompt(
      step,
      DETAILS_PROMPT,
      verbs,
      renderCard('invite-details', { ...form, email: '', message: '', error: '' }, l),
      { form },
    );
  }

  /**
   * Checks the address and message on the server; on a problem the card comes back with the reason and the typed
   * values.
   */
  private async validateDetails(pc: PromptValidatorContext<CardSubmit>): Promise<boolean> {
    const submit = pc.recognized.value;
    if (!pc.recognized.succeeded || !submit) return false;
    if (submit.verb === this.cancelVerb || submit.verb === BULK_VERBS.start) return true;
    const rawEmail = text(submit.data.email, 1000);
    const rawMessage = text(submit.data.message, 5000);
    const l = loc(pc.context);
    const problems: string[] = [];
    const message = this.service.checkWelcomeMessage(rawMessage);
    if (!message.ok) problems.push(l.msg(message.message));
    let email = rawEmail.trim();
    try {
      const check = await this.service.checkGuestEmail(rawEmail);
      if (check.ok) email = check.address;
      else problems.push(l.msg(check.message));
    } catch (err) {
      // The confirmation re-checks the address against the directory; do not block the form on a lookup failure.
      this.logger.warn('invite.emailCheck.unavailable', { error: err });
    }
    if (problems.length > 0) {
      const { form } = pc.options.validations as { form: DetailsForm };
      const card = renderCard(
        'invite-details',
        { ...form, email: rawEmail.slice(0, 254), message: rawMessage.slice(0, 1000), error: problems.join(' ') },
        l,
      );
      pc.options.retryPrompt = MessageFactory.attachment(card);
      return false;
    }
    submit.data.email = email;
    submit.data.message = message.ok ? message.message : null;
    return true;
  }

  private async confirm(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    if (this.bulk && submit.verb === BULK_VERBS.start) {
      const l = loc(step.context);
      await this.replaceCard(
        step.context,
        submit.cardActivityId,
        outcomeCard(l, { title: l.t('bulk:title'), facts: this.facts(l, flow(step)).slice(0, 2) }),
      );
      return this.bulk.prompt(step, this.cancelVerb);
    }
    if (this.bulk && submit.verb === BULK_VERBS.send)
      return this.bulk.start(step, submit, (id, card, orSend) => this.replaceCard(step.context, id, card, orSend));
    const state = flow<InviteFlow>(step);
    state.email = String(submit.data.email);
    state.message = typeof submit.data.message === 'string' ? submit.data.message : null;
    const l = loc(step.context);
    await this.replaceCard(
      step.context,
      submit.cardActivityId,
      outcomeCard(l, { title: this.title(step), facts: this.facts(l, state).slice(0, 3) }),
    );
    return this.confirmCard(
      step,
      l.t('invite:confirm.title'),
      this.facts(l, state),
      l.t('invite:confirm.note'),
      l.t('invite:confirm.button'),
    );
  }

  private facts(l: Localizer, state: InviteFlow): Fact[] {
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    return [
      { label: l.t('common:fact.app'), value: app.displayName },
      { label: l.t('common:fact.group'), value: group.displayName },
      { label: l.t('invite:fact.email'), value: state.email ?? '' },
      { label: l.t('invite:fact.message'), value: state.message ?? l.t('invite:fact.noMessage') },
    ];
  }

  private async act(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    if (this.bulk && submit.verb === BULK_VERBS.send)
      return this.bulk.start(step, submit, (id, card, orSend) => this.replaceCard(step.context, id, card, orSend));
    const state = flow<InviteFlow>(step);
    const actor = actorFrom(step.context)!;
    const l = loc(step.context);
    await this.replaceCard(
      step.context,
      submit.cardActivityId,
      outcomeCard(l, { title: l.t('invite:sending'), facts: this.facts(l, state) }),
    );
    const replyTo = submit.cardActivityId ? cardLocation(step.context, submit.cardActivityId) : null;
    const work = this.service.invite({
      operationId: `invite:${state.flowId}`,
      actor,
      appId: state.appId!,
      groupId: state.groupId!,
      email: state.email!,
      message: state.message ?? null,
      language: l.locale,
      offered: state.offered.map((a) => ({ appId: a.id, groupIds: a.groups.map((g) => g.id) })),
      activityId: step.context.activity.id,
      replyTo,
    });
    // Without a card to update later, the turn waits for the outcome whatever it takes.
    const result = replyTo
      ? await this.slow.background.within('invite', work, this.slow.turnDeadlineMs, async (outcome) => {
          await this.slow.updateCard(replyTo, outcomeToCard(outcome, l));
        })
      : { done: true as const, value: await work };
    if (!result.done) {
      await this.replaceCard(
        step.context,
        submit.cardActivityId,
        outcomeCard(l, { title: l.t('invite:sending'), text: l.t('invite:slow'), facts: this.facts(l, state) }),
      );
      return step.endDialog('inProgress');
    }
    const outcome = result.value;
    await this.replaceCard(step.context, submit.cardActivityId, outcomeToCard(outcome, l), true);
    return step.endDialog(outcome.kind);
  }
}

function redemptionText(l: Localizer, state: string): string {
  return state === 'Accepted' || state === 'PendingAcceptance' || state === 'Member'
    ? l.t(`invite:redemption.${state}`)
    : state;
}

export function outcomeToCard(outcome: InviteOutcome, l: Localizer): Attachment {
  switch (outcome.kind) {
    case 'done': {
      const names = { email: outcome.guest.email, group: outcome.group.displayName, app: outcome.app.displayName };
      const facts: Fact[] = [
        { label: l.t('common:fact.app'), value: outcome.app.displayName },
        { label: l.t('common:fact.group'), value: outcome.group.displayName },
        { label: l.t('invite:fact.guest'), value: outcome.guest.email },
        { label: l.t('invite:fact.invitation'), value: redemptionText(l, outcome.guest.redemption) },
      ];
      if (!outcome.added) {
        return outcomeCard(l, {
          title: l.t('invite:outcome.alreadyMemberTitle'),
          color: 'Accent',
          text: l.t('invite:outcome.alreadyMember', names),
          facts,
        });
      }
      const summary = l.t(outcome.invited ? 'invite:outcome.invited' : 'invite:outcome.existingGuest', names);
      return outcomeCard(l, { title: l.t('invite:outcome.invitedTitle'), color: 'Good', text: summary, facts });
    }
    case 'refused':
      return outcomeCard(l, {
        title: l.t('invite:outcome.refusedTitle'),
        color: 'Attention',
        text: l.msg(outcome.message),
      });
    case 'failed':
      return outcomeCard(l, {
        title: l.t('invite:outcome.failedTitle'),
        color: 'Attention',
        text: l.msg(outcome.message),
        note: l.t('invite:outcome.failedNote', { reference: outcome.reference, operationId: outcome.operationId }),
      });
    case 'waiting':
      return outcomeCard(l, {
        title: l.t('invite:outcome.waitingTitle'),
        color: 'Accent',
        text: l.t('invite:outcome.waiting', {
          email: outcome.guest.email,
          group: outcome.group.displayName,
          app: outcome.app.displayName,
        }),
        facts: [
          { label: l.t('common:fact.app'), value: outcome.app.displayName },
          { label: l.t('common:fact.group'), value: outcome.group.displayName },
          { label: l.t('invite:fact.guest'), value: outcome.guest.email },
        ],
      });
    case 'inProgress':
      return outcomeCard(l, { title: l.t('invite:sending'), text: l.msg(outcome.message) });
  }
}
