/** The root dialog: dispatches commands; a new command or `cancel` ends whatever was going on. */
import { MessageFactory, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import { ComponentDialog, DialogSet, DialogTurnStatus, WaterfallDialog, type DialogState, type WaterfallStepContext } from 'botbuilder-dialogs';
import { commandList, parseCommand, type Command } from '../commands';
import { renderCard } from '../cards';
import { isRecord } from '../cardPrompt';
import { INVITE_GUEST_DIALOG, type InviteGuestDialog } from './inviteGuestDialog';

export const MAIN_DIALOG = 'main';
const DISPATCH = 'main.dispatch';

interface MainOptions {
  command: Command | 'unknown';
}

export function helpCard(): ReturnType<typeof renderCard> {
  return renderCard('help', { commands: commandList });
}

export class MainDialog extends ComponentDialog {
  constructor(inviteGuest: InviteGuestDialog) {
    super(MAIN_DIALOG);
    this.addDialog(inviteGuest);
    this.addDialog(new WaterfallDialog(DISPATCH, [(step) => this.dispatch(step)]));
    this.initialDialogId = DISPATCH;
  }

  private async dispatch(step: WaterfallStepContext) {
    const { command } = (step.options ?? { command: 'unknown' }) as MainOptions;
    switch (command) {
      case 'invite':
        return step.replaceDialog(INVITE_GUEST_DIALOG);
      case 'help':
        await step.context.sendActivity(MessageFactory.attachment(helpCard()));
        return step.endDialog();
      default:
        await step.context.sendActivity(
          isRecord(step.context.activity.value)
            ? 'That card is no longer active. Type **invite guest** to start again.'
            : 'Sorry, I did not get that. Type **invite guest** to invite someone from outside the organization, or **help** for what I can do.',
        );
        return step.endDialog();
    }
  }

  /** Runs one turn of the conversation through the dialog stack. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogs = new DialogSet(accessor);
    dialogs.add(this);
    const dc = await dialogs.createContext(context);
    const hasValue = isRecord(context.activity.value);
    const command = hasValue ? null : parseCommand(context.activity.text);
    if (command === 'cancel') {
      const active = dc.activeDialog !== undefined;
      await dc.cancelAllDialogs();
      await context.sendActivity(active ? 'Cancelled. Nothing was changed.' : 'There is nothing to cancel.');
      return;
    }
    if (command) {
      await dc.cancelAllDialogs();
      await dc.beginDialog(MAIN_DIALOG, { command } satisfies MainOptions);
      return;
    }
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(MAIN_DIALOG, { command: 'unknown' } satisfies MainOptions);
  }
}
