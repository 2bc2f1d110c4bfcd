/**
 * What the card-driven dialogs (invite guest, request access) share: prompting, card replacement, cancel, forged
 * submits.
 */
import { MessageFactory, type Attachment, type TurnContext } from 'botbuilder';
import { ComponentDialog, type DialogTurnResult, type WaterfallStepContext } from './dialogSdk';
import type { Logger } from '../logging';
import type { AppChoice } from '../domain/shared/model';
import { CardPrompt, type CardPromptValidations, type CardSubmit } from './cardPrompt';
import { renderCard, type CardData, type Fact } from './cards';
import type { Localizer } from '../i18n';
import { loc } from './locale';

export const CHOICE_PROMPT = 'cardFlow.choice';

/** Dialog state of one flow: its id (carried by every card) and what the server offered. */
export interface FlowState {
  flowId: string;
  offered: AppChoice[];
  appId?: string;
  groupId?: string;
}

export function flow<T extends FlowState>(step: WaterfallStepContext): T {
  return step.values as T;
}

export function text(value: unknown, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

export function outcomeCard(l: Localizer, data: Partial<CardData['outcome']> & { title: string }): Attachment {
  return renderCard('outcome', { color: 'Default', text: '', facts: [], note: '', ...data }, l);
}

export abstract class CardFlowDialog extends ComponentDialog {
  protected constructor(
    id: string,
    protected readonly logger: Logger,
    /** `title` is a catalog key. */
    protected readonly verbs: { prefix: string; title: string },
  ) {
    super(id);
    this.addDialog(new CardPrompt(CHOICE_PROMPT));
  }

  protected get cancelVerb(): string {
    return `${this.verbs.prefix}.cancel`;
  }

  protected prompt(
    step: WaterfallStepContext,
    id: string,
    verbs: string[],
    card: Attachment,
    extra: object = {},
  ): Promise<DialogTurnResult> {
    const validations: CardPromptValidations = {
      ...extra,
      flowId: flow(step).flowId,
      verbs: [...verbs, this.cancelVerb],
    };
    return step.prompt(id, { prompt: MessageFactory.attachment(card), validations });
  }

  protected title(step: WaterfallStepContext): string {
    return loc(step.context).t(this.verbs.title);
  }

  protected chooseAppCard(
    step: WaterfallStepContext,
    prompt: string,
    blocked: CardData['choose-app']['blocked'] = [],
  ): Promise<DialogTurnResult> {
    const state = flow(step);
    const card = renderCard(
      'choose-app',
      {
        flowId: state.flowId,
        title: this.title(step),
        prompt,
        nextVerb: `${this.verbs.prefix}.app`,
        cancelVerb: this.cancelVerb,
        apps: state.offered.map((a) => ({ id: a.id, displayName: a.displayName })),
        blocked: shownBlocked(loc(step.context), blocked),
      },
      loc(step.context),
    );
    return this.prompt(step, CHOICE_PROMPT, [`${this.verbs.prefix}.app`], card);
  }

  /** After the app card: the chosen app (checked against what was offered), or the end of the dialog. */
  protected async takeApp(
    step: WaterfallStepContext,
    submit: CardSubmit,
    onForged: (detail: { appId: string }) => Promise<void>,
  ): Promise<AppChoice | DialogTurnResult> {
    if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
    const state = flow(step);
    const app = state.offered.find((a) => a.id === submit.data.appId);
    if (!app) return this.forged(step, () => onForged({ appId: text(submit.data.appId, 100) }));
    state.appId = app.id;
    const l = loc(step.context);
    await this.replaceCard(
      step.context,
      submit.cardActivityId,
      outcomeCard(l, { title: this.title(step), facts: [{ label: l.t('common:fact.app'), value: app.displayName }] }),
    );
    return app;
  }

  protected chooseGroupCard(step: WaterfallStepContext, app: AppChoice, prompt: string): Promise<DialogTurnResult> {
    const card = renderCard(
      'choose-group',
      {
        flowId: flow(step).flowId,
        title: this.title(step),
        prompt,
        nextVerb: `${this.verbs.prefix}.group`,
        cancelVerb: this.cancelVerb,
        appName: app.displayName,
        groups: app.groups,
      },
      loc(step.context),
    );
    return this.prompt(step, CHOICE_PROMPT, [`${this.verbs.prefix}.group`], card);
  }

  /** After the group card (or the only group, passed as a string): the chosen group, or the end of the dialog. */
  protected async takeGroup(
    step: WaterfallStepContext,
    onForged: (detail: { appId: string; groupId: string }) => Promise<void>,
  ): Promise<{ app: AppChoice; group: AppChoice['groups'][number] } | DialogTurnResult> {
    const state = flow(step);
    const app = state.offered.find((a) => a.id === state.appId)!;
    let groupId: unknown = step.result;
    if (typeof step.result !== 'string') {
      const submit = step.result as CardSubmit;
      if (submit.verb === this.cancelVerb) return this.cancelled(step, submit);
      groupId = submit.data.groupId;
      const chosen = app.groups.find((g) => g.id === groupId);
      if (chosen) {
        const l = loc(step.context);
        const facts = [
          { label: l.t('common:fact.app'), value: app.displayName },
          { label: l.t('common:fact.group'), value: chosen.displayName },
        ];
        await this.replaceCard(step.context, submit.cardActivityId, outcomeCard(l, { title: this.title(step), facts }));
      }
    }
    const group = app.groups.find((g) => g.id === groupId);
    if (!group) return this.forged(step, () => onForged({ appId: app.id, groupId: text(groupId, 100) }));
    state.groupId = group.id;
    return { app, group };
  }

  protected confirmCard(
    step: WaterfallStepContext,
    title: string,
    facts: Fact[],
    note: string,
    confirmTitle: string,
  ): Promise<DialogTurnResult> {
    const confirmVerb = `${this.verbs.prefix}.confirm`;
    const card = renderCard(
      'confirm',
      { flowId: flow(step).flowId, title, facts, note, confirmTitle, confirmVerb, cancelVerb: this.cancelVerb },
      loc(step.context),
    );
    return this.prompt(step, CHOICE_PROMPT, [confirmVerb], card);
  }

  protected async cancelled(step: WaterfallStepContext, submit: CardSubmit): Promise<DialogTurnResult> {
    const l = loc(step.context);
    await this.replaceCard(
      step.context,
      submit.cardActivityId,
      outcomeCard(l, {
        title: l.t('common:cancelledTitle', { title: this.title(step) }),
        text: l.t('common:cancelled'),
      }),
      true,
    );
    return step.endDialog('cancelled');
  }

  protected async forged(step: WaterfallStepContext, record: () => Promise<void>): Promise<DialogTurnResult> {
    await record();
    await step.context.sendActivity(loc(step.context).t('common:forged'));
    return step.endDialog('refused');
  }

  /**
   * Updates a card in place; when the channel cannot (or there is no id) and `orSend` is set, sends it as a new
   * message.
   */
  protected async replaceCard(
    context: TurnContext,
    activityId: string | null,
    card: Attachment,
    orSend = false,
  ): Promise<void> {
    if (activityId) {
      try {
        await context.updateActivity({ type: 'message', id: activityId, attachments: [card] });
        return;
      } catch (err) {
        this.logger.warn('card.update.failed', { cardActivityId: activityId, error: err });
      }
    }
    if (orSend) await context.sendActivity(MessageFactory.attachment(card));
  }
}

export function isTurnResult(value: unknown): value is DialogTurnResult {
  return typeof value === 'object' && value !== null && 'status' in value;
}

/** The most blocked apps the app card lists (Teams' message size); the rest are counted in one line. */
export const BLOCKED_SHOWN = 20;

export function shownBlocked(
  l: Localizer,
  blocked: CardData['choose-app']['blocked'],
): CardData['choose-app']['blocked'] {
  if (blocked.length <= BLOCKED_SHOWN) return blocked;
  return [
    ...blocked.slice(0, BLOCKED_SHOWN),
    { appName: '', groupName: '', reason: l.t('limits:moreBlocked', { count: blocked.length - BLOCKED_SHOWN }) },
  ];
}
