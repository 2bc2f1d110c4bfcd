/**
 * The parts of botbuilder-dialogs the bot uses, from their own modules. The package's index also loads every
 * built-in prompt and the Microsoft Recognizers Text suites (number, date-time, choice: about 20 MiB of resident
 * memory) that no dialog here uses.
 */
export { ComponentDialog } from 'botbuilder-dialogs/lib/componentDialog';
export { DialogSet } from 'botbuilder-dialogs/lib/dialogSet';
export { DialogTurnStatus, type DialogTurnResult } from 'botbuilder-dialogs/lib/dialog';
export type { DialogState } from 'botbuilder-dialogs/lib/dialogContext';
export { WaterfallDialog } from 'botbuilder-dialogs/lib/waterfallDialog';
export type { WaterfallStepContext } from 'botbuilder-dialogs/lib/waterfallStepContext';
export {
  Prompt,
  type PromptOptions,
  type PromptRecognizerResult,
  type PromptValidator,
  type PromptValidatorContext,
} from 'botbuilder-dialogs/lib/prompts/prompt';
