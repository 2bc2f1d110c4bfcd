/** The invite-guest conversation: app → group (when several) → email and message → confirmation → outcome. */
import { randomUUID } from 'node:crypto';
import { MessageFactory, type Attachment } from 'botbuilder';
import { WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from './sdk';
import type { Logger } from '../../logging';
import type { InviteGuestService, InviteOutcome } from '../../domain/inviteGuest';
import { describeBlocker } from '../../domain/model';
import { CardPrompt, type CardSubmit } from '../cardPrompt';
import type { SlowWork } from '../background';
import { cardLocation } from '../messenger';
import { renderCard, type CardData, type Fact } from '../cards';
import { actorFrom } from '../identity';
import { CardFlowDialog, flow, isTurnResult, outcomeCard, text, type FlowState } from './cardFlow';
import { BULK_PROMPT, BULK_VERBS, type BulkFlow } from '../bulk/bulkFlow';
import { bulkText } from '../../domain/bulk/messages';

export const INVITE_GUEST_DIALOG = 'inviteGuest';
const DETAILS_PROMPT = 'inviteGuest.details';
const TITLE = 'Invite a guest';

interface InviteFlow extends FlowState {
  email?: string;
  message?: string | null;
}

type DetailsForm = Pick<CardData['invite-details'], 'flowId' | 'appName' | 'groupName' | 'bulk' | 'bulkTitle'>;

/** Options of the dialog: `bulk` starts with the list of several guests (`invite guests`). */
export interface InviteGuestOptions {
  bulk?: boolean;
}

function shortBlocker(blocker: string): string {
  return blocker === 'dynamic' ? 'dynamic membership' : blocker === 'synced' ? 'synced from on-premises AD' : 'mail-enabled';
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
    if (!actor) {
      await step.context.sendActivity('I can only invite guests for a signed-in Microsoft Entra user in Microsoft Teams.');
      return step.endDialog();
    }
    await step.context.sendActivity({ type: 'typing' });
    const shareable = await this.service.findShareableApps(actor);
    const state = flow<InviteFlow>(step);
    state.flowId = randomUUID();
    state.offered = shareable.apps;
    if (shareable.apps.length === 0) {
      const lines = ['You do not own a group that gives guests access to an app, so there is nothing you can share yet.'];
      for (const b of shareable.blocked) lines.push(`• ${describeBlocker(b.blockers[0], b.groupName, b.appName)}`);
      lines.push('To get access for a guest, ask an owner of the app’s access group, or an admin to make you an owner of one.');
      await step.context.sendActivity(MessageFactory.attachment(outcomeCard({ title: 'Nothing to share yet', color: 'Warning', text: lines.join('\n\n') })));
      return step.endDialog();
    }
    const blocked = shareable.blocked.map((b) => ({ appName: b.appName, groupName: b.groupName, reason: b.blockers.map(shortBlocker).join(', ') }));
    return this.chooseAppCard(step, 'Which app do you want to share with an outside guest? These are the apps whose access groups you own.', blocked);
  }

  private async chooseGroup(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const app = await this.takeApp(step, step.result as CardSubmit, this.forgedChoice(step));
    if (isTurnResult(app)) return app;
    if (app.groups.length === 1) return step.next(app.groups[0].id);
    return this.chooseGroupCard(step, app, ' gives access through several groups you own. Which one should the guest join?');
  }

  private async askDetails(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const chosen = await this.takeGroup(step, this.forgedChoice(step));
    if (isTurnResult(chosen)) return chosen;
    if (this.bulk && (step.options as InviteGuestOptions | undefined)?.bulk) return this.bulk.prompt(step, this.cancelVerb);
    const form: DetailsForm = { flowId: flow(step).flowId, appName: chosen.app.displayName, groupName: chosen.group.displayName, bulk: this.bulk !== undefined, bulkTitle: bulkText.severalButton };
    const verbs = this.bulk ? ['invite.details', BULK_VERBS.start] : ['invite.details'];
    return this.prompt(step, DETAILS_PROMPT, verbs, renderCard('invite-details', { ...form, email: '', message: '', error: '' }), { form });
  }

  /** Checks the address and message on the server; on a problem the card comes back with the reason and the typed values. */
  private async validateDetails(pc: PromptValidatorContext<CardSubmit>): Promise<boolean> {
    const submit = pc.recognized.value;
    if (!pc.recognized.succeeded || !submit) return false;
    if (submit.verb === this.cancelVerb || submit.verb === BULK_VERBS.start) return true;
    const rawEmail = text(submit.data.email, 1000);
    const rawMessage = text(submit.data.message, 5000);
    const problems: string[] = [];
    const message = this.service.checkWelcomeMessage(rawMessage);
    if (!message.ok) problems.push(message.message);
    let email = rawEmail.trim();
    try {
      const check = await this.service.checkGuestEmail(rawEmail);
      if (check.ok) email = check.address;
      else problems.push(check.message);
    } catch (err) {
      // The confirmation re-checks the address against the directory; do not block the form on a lookup failure.
      this.logger.warn('invite.emailCheck.unavailable', { error: err });
    }
    if (problems.length > 0) {
      const { form } = pc.options.validations as { form: DetailsForm };
      const card = renderCard('invite-details', { ...form, email: rawEmail.slice(0, 254), message: rawMessage.slice(0, 1000), error: problems.join(' ') });
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
      await this.replaceCard(step.context, submit.cardActivityId, outcomeCard({ title: TITLE, facts: this.facts(flow(step)).slice(0, 2) }));
      return this.bulk.prompt(step, this.cancelVerb);
    }
    if (this.bulk && submit.verb === BULK_VERBS.send) return this.bulk.start(step, submit, (id, card, orSend) => this.replaceCard(step.context, id, card, orSend));
    const state = flow<InviteFlow>(step);
    state.email = String(submit.data.email);
    state.message = typeof submit.data.message === 'string' ? submit.data.message : null;
    await this.replaceCard(step.context, submit.cardActivityId, outcomeCard({ title: TITLE, facts: this.facts(state).slice(0, 3) }));
    return this.confirmCard(step, 'Send this invitation?', this.facts(state), 'The guest gets an invitation email from Microsoft and is added to the group at once.', 'Send invitation');
  }

  private facts(state: InviteFlow): Fact[] {
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    return [
      { label: 'App', value: app.displayName },
      { label: 'Group', value: group.displayName },
      { label: 'Guest email', value: state.email ?? '' },
      { label: 'Welcome message', value: state.message ?? '(none)' },
    ];
  }

  private async act(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    if (this.bulk && submit.verb === BULK_VERBS.send) return this.bulk.start(step, submit, (id, card, orSend) => this.replaceCard(step.context, id, card, orSend));
    const state = flow<InviteFlow>(step);
    const actor = actorFrom(step.context)!;
    await this.replaceCard(step.context, submit.cardActivityId, outcomeCard({ title: 'Sending the invitation…', facts: this.facts(state) }));
    const replyTo = submit.cardActivityId ? cardLocation(step.context, submit.cardActivityId) : null;
    const work = this.service.invite({
      operationId: `invite:${state.flowId}`,
      actor,
      appId: state.appId!,
      groupId: state.groupId!,
      email: state.email!,
      message: state.message ?? null,
      offered: state.offered.map((a) => ({ appId: a.id, groupIds: a.groups.map((g) => g.id) })),
      activityId: step.context.activity.id,
      replyTo,
    });
    // Without a card to update later, the turn waits for the outcome whatever it takes.
    const result = replyTo
      ? await this.slow.background.within('invite', work, this.slow.turnDeadlineMs, async (outcome) => {
          await this.slow.updateCard(replyTo, outcomeToCard(outcome));
        })
      : { done: true as const, value: await work };
    if (!result.done) {
      const note = 'Microsoft Entra ID is slow to answer right now. The invitation goes on, and this card shows the outcome when it is done.';
      await this.replaceCard(step.context, submit.cardActivityId, outcomeCard({ title: 'Sending the invitation…', text: note, facts: this.facts(state) }));
      return step.endDialog('inProgress');
    }
    const outcome = result.value;
    await this.replaceCard(step.context, submit.cardActivityId, outcomeToCard(outcome), true);
    return step.endDialog(outcome.kind);
  }
}

function redemptionText(state: string): string {
  if (state === 'Accepted') return 'accepted (the guest has signed in before)';
  if (state === 'PendingAcceptance') return 'pending: the guest has not accepted the invitation yet';
  if (state === 'Member') return 'a member of your organization';
  return state;
}

export function outcomeToCard(outcome: InviteOutcome): Attachment {
  switch (outcome.kind) {
    case 'done': {
      const facts: Fact[] = [
        { label: 'App', value: outcome.app.displayName },
        { label: 'Group', value: outcome.group.displayName },
        { label: 'Guest', value: outcome.guest.email },
        { label: 'Invitation', value: redemptionText(outcome.guest.redemption) },
      ];
      if (!outcome.added) {
        return outcomeCard({ title: 'Already a member', color: 'Accent', text: `${outcome.guest.email} is already a member of ${outcome.group.displayName}, so nothing needed to change.`, facts });
      }
      const summary = outcome.invited
        ? `${outcome.guest.email} was invited and added to ${outcome.group.displayName}. Microsoft sends them an invitation email; once they accept it they can open ${outcome.app.displayName}.`
        : `${outcome.guest.email} was already a guest of your organization, so no new invitation was needed: they were added to ${outcome.group.displayName} and can open ${outcome.app.displayName}.`;
      return outcomeCard({ title: 'Guest invited', color: 'Good', text: summary, facts });
    }
    case 'refused':
      return outcomeCard({ title: 'Not invited', color: 'Attention', text: outcome.message });
    case 'failed':
      return outcomeCard({ title: 'Invitation not finished', color: 'Attention', text: outcome.message, note: `Reference: ${outcome.reference}. An admin can finish it with “retry operation ${outcome.operationId}”.` });
    case 'waiting':
      return outcomeCard({
        title: 'Invited, adding shortly',
        color: 'Accent',
        text:
          `${outcome.guest.email} was invited to ${outcome.app.displayName}. Microsoft Entra ID is still setting up their guest account, ` +
          `so they will be added to ${outcome.group.displayName} in a few minutes. This card will show when it is done; you need not do anything.`,
        facts: [
          { label: 'App', value: outcome.app.displayName },
          { label: 'Group', value: outcome.group.displayName },
          { label: 'Guest', value: outcome.guest.email },
        ],
      });
    case 'inProgress':
      return outcomeCard({ title: 'Sending the invitation…', text: outcome.message });
  }
}
