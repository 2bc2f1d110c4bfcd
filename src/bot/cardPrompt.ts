/** A prompt that sends an Adaptive Card and waits for that card's submit (verb + flow id checked). */
import type { TurnContext } from 'botbuilder';
import { loc } from './locale';
import { Prompt, type PromptOptions, type PromptRecognizerResult, type PromptValidator } from './dialogSdk';

export interface CardSubmit {
  verb: string;
  /** The submitted inputs and data, as the client sent them: untrusted. */
  data: Record<string, unknown>;
  /** The activity id of the card that was submitted (to update it in place). */
  cardActivityId: string | null;
}

export interface CardPromptValidations {
  flowId: string;
  verbs: string[];
}

interface CardPromptState {
  cardActivityId?: string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class CardPrompt extends Prompt<CardSubmit> {
  constructor(dialogId: string, validator?: PromptValidator<CardSubmit>) {
    super(dialogId, validator);
  }

  protected async onPrompt(
    context: TurnContext,
    state: object,
    options: PromptOptions,
    isRetry: boolean,
  ): Promise<void> {
    const activity = isRetry && options.retryPrompt ? options.retryPrompt : options.prompt;
    if (!activity) return;
    const sent = await context.sendActivity(activity);
    if (typeof activity !== 'string' && activity.attachments?.length && sent?.id) {
      (state as CardPromptState).cardActivityId = sent.id;
    }
  }

  protected async onRecognize(
    context: TurnContext,
    state: object,
    options: PromptOptions,
  ): Promise<PromptRecognizerResult<CardSubmit>> {
    const { flowId, verbs } = options.validations as CardPromptValidations;
    const value: unknown = context.activity.value;
    if (isRecord(value) && value.flowId === flowId && typeof value.verb === 'string' && verbs.includes(value.verb)) {
      const cardActivityId = context.activity.replyToId ?? (state as CardPromptState).cardActivityId ?? null;
      return { succeeded: true, value: { verb: value.verb, data: value, cardActivityId } };
    }
    // Not an answer to this card: say why here, so the card itself is not sent again.
    await context.sendActivity(loc(context).t(isRecord(value) ? 'common:promptInactive' : 'common:promptAnswer'));
    return { succeeded: false };
  }
}
