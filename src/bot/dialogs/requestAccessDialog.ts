/** The request-access conversation: app (or matched by name) → group (when several) → reason → summary → request sent. */
import { randomUUID } from 'node:crypto';
import { MessageFactory, type Attachment } from 'botbuilder';
import { WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from './sdk';
import type { Logger } from '../../logging';
import { matchApps, type CreateOutcome, type RequestAccessService } from '../../domain/requestAccess';
import { CardPrompt, type CardSubmit } from '../cardPrompt';
import { renderCard, type CardData, type Fact } from '../cards';
import { actorFrom } from '../identity';
import { CardFlowDialog, flow, isTurnResult, outcomeCard, text, type FlowState } from './cardFlow';

export const REQUEST_ACCESS_DIALOG = 'requestAccess';
const DETAILS_PROMPT = 'requestAccess.details';
const TITLE = 'Request access';

export interface RequestAccessOptions {
  /** What followed "request access to", if anything. */
  appQuery?: string;
}

interface RequestFlow extends FlowState {
  justification?: string;
}

type DetailsForm = Pick<CardData['request-details'], 'flowId' | 'appName' | 'groupName'>;

export class RequestAccessDialog extends CardFlowDialog {
  constructor(
    private readonly service: RequestAccessService,
    logger: Logger,
  ) {
    super(REQUEST_ACCESS_DIALOG, logger, { prefix: 'request', title: TITLE });
    this.addDialog(new CardPrompt(DETAILS_PROMPT, (pc) => this.validateDetails(pc)));
    this.addDialog(
      new WaterfallDialog(`${REQUEST_ACCESS_DIALOG}.flow`, [
        (step) => this.chooseApp(step),
        (step) => this.chooseGroup(step),
        (step) => this.askReason(step),
        (step) => this.confirm(step),
        (step) => this.act(step),
      ]),
    );
    this.initialDialogId = `${REQUEST_ACCESS_DIALOG}.flow`;
  }

  private forgedChoice(step: WaterfallStepContext) {
    return async (detail: { appId?: string; groupId?: string }): Promise<void> => {
      const actor = actorFrom(step.context);
      if (actor) await this.service.recordForgedChoice(actor, { ...detail, verb: 'request.choice' });
    };
  }

  private async chooseApp(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const actor = actorFrom(step.context);
    if (!actor) {
      await step.context.sendActivity('I can only take requests from a signed-in Microsoft Entra user in Microsoft Teams.');
      return step.endDialog();
    }
    await step.context.sendActivity({ type: 'typing' });
    const apps = await this.service.findRequestableApps(actor);
    const state = flow<RequestFlow>(step);
    state.flowId = randomUUID();
    state.offered = apps;
    const query = ((step.options ?? {}) as RequestAccessOptions).appQuery?.trim();
    const matches = query ? matchApps(apps, query) : [];
    // Named an app that exists but cannot take requests: say why (the admins are told too).
    const unavailable = query && matches.length === 0 ? await this.service.explainUnrequestable(actor, query) : null;
    if (unavailable) await step.context.sendActivity(unavailable);
    if (apps.length === 0) {
      await step.context.sendActivity('There is no app you can request right now: you already have access to every app that takes requests, or none does yet.');
      return step.endDialog();
    }
    if (query) {
      if (matches.length === 1) {
        const preselected: CardSubmit = { verb: 'request.app', data: { appId: matches[0].id }, cardActivityId: null };
        return step.next(preselected);
      }
      if (matches.length > 1) state.offered = matches;
      else await step.context.sendActivity(unavailable ? 'These are the apps you can request:' : `I found no app called “${query.slice(0, 100)}” that you can request. These are the ones you can:`);
    }
    return this.chooseAppCard(step, 'Which app do you need? These apps let you ask their group owners for access.');
  }

  private async chooseGroup(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const app = await this.takeApp(step, step.result as CardSubmit, this.forgedChoice(step));
    if (isTurnResult(app)) return app;
    if (app.groups.length === 1) return step.next(app.groups[0].id);
    return this.chooseGroupCard(step, app, ' gives access through several groups. Which one do you want to join?');
  }

  private async askReason(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const chosen = await this.takeGroup(step, this.forgedChoice(step));
    if (isTurnResult(chosen)) return chosen;
    const form: DetailsForm = { flowId: flow(step).flowId, appName: chosen.app.displayName, groupName: chosen.group.displayName };
    return this.prompt(step, DETAILS_PROMPT, ['request.details'], renderCard('request-details', { ...form, justification: '', error: '' }), { form });
  }

  private async validateDetails(pc: PromptValidatorContext<CardSubmit>): Promise<boolean> {
    const submit = pc.recognized.value;
    if (!pc.recognized.succeeded || !submit) return false;
    if (submit.verb === this.cancelVerb) return true;
    const raw = text(submit.data.justification, 5000);
    const check = this.service.checkJustification(raw);
    if (!check.ok) {
      const { form } = pc.options.validations as { form: DetailsForm };
      pc.options.retryPrompt = MessageFactory.attachment(renderCard('request-details', { ...form, justification: raw.slice(0, 500), error: check.message }));
      return false;
    }
    submit.data.justification = check.text;
    return true;
  }

  private facts(state: RequestFlow): Fact[] {
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    return [
      { label: 'App', value: app.displayName },
      { label: 'Group', value: group.displayName },
      { label: 'Reason', value: state.justification ?? '' },
    ];
  }

  private async confirm(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    const state = flow<RequestFlow>(step);
    state.justification = String(submit.data.justification);
    await this.replaceCard(step.context, submit.cardActivityId, outcomeCard({ title: TITLE, facts: this.facts(state) }));
    return this.confirmCard(step, 'Send this request?', this.facts(state), 'The group’s owners get your request in Teams; the first to decide settles it.', 'Send request');
  }

  private async act(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    const state = flow<RequestFlow>(step);
    const outcome = await this.service.createRequest({
      actor: actorFrom(step.context)!,
      appId: state.appId!,
      groupId: state.groupId!,
      justification: state.justification ?? '',
      offered: state.offered.map((a) => ({ appId: a.id, groupIds: a.groups.map((g) => g.id) })),
    });
    await this.replaceCard(step.context, submit.cardActivityId, createdCard(outcome), true);
    return step.endDialog(outcome.kind);
  }
}

function list(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function createdCard(outcome: CreateOutcome): Attachment {
  if (outcome.kind === 'refused') return outcomeCard({ title: 'Request not sent', color: 'Attention', text: outcome.message });
  const { request, reached, unreachable } = outcome;
  const facts: Fact[] = [
    { label: 'App', value: request.appName },
    { label: 'Group', value: request.groupName },
    { label: 'Reason', value: request.justification },
  ];
  const who = reached.length > 0 ? `${list(reached)} ${reached.length === 1 ? 'decides' : 'decide'}: the first answer counts. I will tell you here.` : 'None of the group’s owners could be reached in Teams yet; the request waits until one of them opens Guest Invite.';
  const note = unreachable.length > 0 ? `Could not reach ${list(unreachable)} in Teams (they have not installed Guest Invite); the other owners can still decide.` : '';
  return outcomeCard({ title: 'Request sent', color: 'Good', text: who, facts, note });
}
