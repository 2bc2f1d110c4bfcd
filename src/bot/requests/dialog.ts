/**
 * The request-access conversation: app (or matched by name) → group (when several) → reason → summary → request sent.
 */
import { randomUUID } from 'node:crypto';
import { MessageFactory, type Attachment } from 'botbuilder';
import {
  WaterfallDialog,
  type DialogTurnResult,
  type PromptValidatorContext,
  type WaterfallStepContext,
} from '../dialogSdk';
import type { Logger } from '../../logging';
import type { RequestAccessService } from '../../domain/requests/requestAccess';
import { matchApps } from '../../domain/requests/matching';
import type { CreateOutcome, UnreachableOwner } from '../../domain/requests/model';
import { ADMIN_FIXABLE } from '../delivery/reachability';
import { CardPrompt, type CardSubmit } from '../cardPrompt';
import { renderCard, type CardData, type Fact } from '../cards';
import { actorFrom } from '../identity';
import type { Localizer } from '../../i18n';
import { loc } from '../locale';
import { CardFlowDialog, flow, isTurnResult, outcomeCard, text, type FlowState } from '../cardFlow';

export const REQUEST_ACCESS_DIALOG = 'requestAccess';
const DETAILS_PROMPT = 'requestAccess.details';
const TITLE = 'requests:title';

export interface RequestAccessOptions {
  /** What followed "request access to", if anything. */
  appQuery?: string;
}

interface RequestFlow extends FlowState {
  justification?: string;
}

type DetailsForm = Pick<CardData['request-details'], 'flowId' | 'appName' | 'groupName' | 'intro'>;

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
    const l = loc(step.context);
    if (!actor) {
      await step.context.sendActivity(l.t('requests:notSignedIn'));
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
    if (unavailable) await step.context.sendActivity(l.msg(unavailable));
    if (apps.length === 0) {
      await step.context.sendActivity(l.t('requests:noApps'));
      return step.endDialog();
    }
    if (query) {
      if (matches.length === 1) {
        const preselected: CardSubmit = { verb: 'request.app', data: { appId: matches[0].id }, cardActivityId: null };
        return step.next(preselected);
      }
      if (matches.length > 1) state.offered = matches;
      else
        await step.context.sendActivity(
          unavailable ? l.t('requests:theseApps') : l.t('requests:noMatch', { query: query.slice(0, 100) }),
        );
    }
    return this.chooseAppCard(step, l.t('requests:chooseApp'));
  }

  private async chooseGroup(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const app = await this.takeApp(step, step.result as CardSubmit, this.forgedChoice(step));
    if (isTurnResult(app)) return app;
    if (app.groups.length === 1) return step.next(app.groups[0].id);
    return this.chooseGroupCard(step, app, loc(step.context).t('requests:chooseGroup', { app: app.displayName }));
  }

  private async askReason(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const chosen = await this.takeGroup(step, this.forgedChoice(step));
    if (isTurnResult(chosen)) return chosen;
    const l = loc(step.context);
    const intro = l.t('requests:detailsIntro', { group: chosen.group.displayName, app: chosen.app.displayName });
    const form: DetailsForm = {
      flowId: flow(step).flowId,
      appName: chosen.app.displayName,
      groupName: chosen.group.displayName,
      intro,
    };
    return this.prompt(
      step,
      DETAILS_PROMPT,
      ['request.details'],
      renderCard('request-details', { ...form, justification: '', error: '' }, l),
      { form },
    );
  }

  private async validateDetails(pc: PromptValidatorContext<CardSubmit>): Promise<boolean> {
    const submit = pc.recognized.value;
    if (!pc.recognized.succeeded || !submit) return false;
    if (submit.verb === this.cancelVerb) return true;
    const raw = text(submit.data.justification, 5000);
    const check = this.service.checkJustification(raw);
    if (!check.ok) {
      const { form } = pc.options.validations as { form: DetailsForm };
      const l = loc(pc.context);
      pc.options.retryPrompt = MessageFactory.attachment(
        renderCard('request-details', { ...form, justification: raw.slice(0, 500), error: l.msg(check.message) }, l),
      );
      return false;
    }
    submit.data.justification = check.text;
    return true;
  }

  private facts(l: Localizer, state: RequestFlow): Fact[] {
    const app = state.offered.find((a) => a.id === state.appId)!;
    const group = app.groups.find((g) => g.id === state.groupId)!;
    return [
      { label: l.t('common:fact.app'), value: app.displayName },
      { label: l.t('common:fact.group'), value: group.displayName },
      { label: l.t('requests:fact.reason'), value: state.justification ?? '' },
    ];
  }

  private async confirm(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const submit = step.result as CardSubmit;
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    const state = flow<RequestFlow>(step);
    state.justification = String(submit.data.justification);
    const l = loc(step.context);
    await this.replaceCard(
      step.context,
      submit.cardActivityId,
      outcomeCard(l, { title: this.title(step), facts: this.facts(l, state) }),
    );
    return this.confirmCard(
      step,
      l.t('requests:confirm.title'),
      this.facts(l, state),
      l.t('requests:confirm.note'),
      l.t('requests:confirm.button'),
    );
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
    await this.replaceCard(step.context, submit.cardActivityId, createdCard(loc(step.context), outcome), true);
    return step.endDialog(outcome.kind);
  }
}

export function createdCard(l: Localizer, outcome: CreateOutcome): Attachment {
  if (outcome.kind === 'refused')
    return outcomeCard(l, {
      title: l.t('requests:created.refusedTitle'),
      color: 'Attention',
      text: l.msg(outcome.message),
    });
  const { request, reached, unreachableOwners } = outcome;
  const facts: Fact[] = [
    { label: l.t('common:fact.app'), value: request.appName },
    { label: l.t('common:fact.group'), value: request.groupName },
    { label: l.t('requests:fact.reason'), value: request.justification },
  ];
  const who =
    reached.length > 0
      ? l.t('requests:created.decide', { owners: l.list(reached), count: reached.length })
      : l.t('requests:created.noneReached');
  const note = unreachableNote(l, unreachableOwners, reached.length > 0);
  return outcomeCard(l, { title: l.t('requests:created.title'), color: 'Good', text: who, facts, note });
}

/**
 * Who could not be reached, in plain words, grouped by why (reach:why.*); whether the admins were told what to
 * fix; and that the other owners can still decide. Owners missed for another reason keep the general sentence.
 */
export function unreachableNote(l: Localizer, owners: readonly UnreachableOwner[], othersReached: boolean): string {
  if (owners.length === 0) return '';
  const byReason = new Map<string, string[]>();
  for (const owner of owners)
    byReason.set(owner.reason ?? '', [...(byReason.get(owner.reason ?? '') ?? []), owner.name]);
  const lines: string[] = [];
  for (const [reason, names] of byReason) {
    if (!reason) lines.push(l.t('requests:created.unreachable', { owners: l.list(names) }));
    else lines.push(l.t('reach:created', { owners: l.list(names), why: l.t(`reach:why.${reason}`) }));
  }
  if (owners.some((o) => o.reason !== null && (ADMIN_FIXABLE as readonly string[]).includes(o.reason)))
    lines.push(l.t('reach:adminsTold'));
  if (othersReached && !byReason.has('')) lines.push(l.t('reach:othersDecide'));
  return lines.join(' ');
}
