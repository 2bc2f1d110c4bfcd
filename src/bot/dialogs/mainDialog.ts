/** The root dialog: dispatches commands; a new command or `cancel` ends whatever was going on. */
import { CardFactory, MessageFactory, type Attachment, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import { ComponentDialog, DialogSet, DialogTurnStatus, WaterfallDialog, type DialogState, type WaterfallStepContext } from './sdk';
import type { RequestAccessService } from '../../domain/requestAccess';
import { commandList, parseCommand, type Command } from '../commands';
import { renderCardJson } from '../cards';
import { isRecord } from '../cardPrompt';
import { actorFrom } from '../identity';
import { requestListCard } from '../requestCards';
import type { RequestActions } from '../requestActions';
import { isAdminCommand, type AdminCommands } from '../adminCommands';
import type { GuestActions } from '../guests/actions';
import { INVITE_GUEST_DIALOG, type InviteGuestDialog } from './inviteGuestDialog';
import { REQUEST_ACCESS_DIALOG, type RequestAccessDialog, type RequestAccessOptions } from './requestAccessDialog';

export const MAIN_DIALOG = 'main';
const DISPATCH = 'main.dispatch';

type MainOptions = { command: Command | { name: 'unknown' } };

let helpJson: Record<string, unknown> | undefined;

/** The help card. The command list never changes, so it is expanded once and the same JSON is sent each time. */
export function helpCard(): Attachment {
  helpJson ??= renderCardJson('help', { commands: commandList });
  return CardFactory.adaptiveCard(helpJson);
}

export class MainDialog extends ComponentDialog {
  constructor(
    inviteGuest: InviteGuestDialog,
    requestAccess: RequestAccessDialog,
    private readonly requests: RequestAccessService,
    private readonly requestActions: RequestActions,
    private readonly adminCommands: AdminCommands,
    private readonly guestActions?: GuestActions,
  ) {
    super(MAIN_DIALOG);
    this.addDialog(inviteGuest);
    this.addDialog(requestAccess);
    this.addDialog(new WaterfallDialog(DISPATCH, [(step) => this.dispatch(step)]));
    this.initialDialogId = DISPATCH;
  }

  private async dispatch(step: WaterfallStepContext) {
    const { command } = (step.options ?? { command: { name: 'unknown' } }) as MainOptions;
    const actor = actorFrom(step.context);
    if (command.name !== 'unknown' && isAdminCommand(command)) {
      await this.adminCommands.run(step.context, command);
      return step.endDialog();
    }
    switch (command.name) {
      case 'invite':
        return step.replaceDialog(INVITE_GUEST_DIALOG);
      case 'request':
        return step.replaceDialog(REQUEST_ACCESS_DIALOG, { appQuery: command.appQuery } satisfies RequestAccessOptions);
      case 'myRequests':
        if (actor) {
          const mine = await this.requests.listMine(actor);
          await step.context.sendActivity(MessageFactory.attachment(requestListCard('Your access requests', 'You have not asked for access yet. Type **request access** to ask.', mine, true)));
        }
        return step.endDialog();
      case 'pendingRequests':
        if (actor) {
          const count = await this.requests.resendPendingCards(actor);
          await step.context.sendActivity(count === 0 ? 'No request is waiting for your decision.' : `${count} request${count === 1 ? ' is' : 's are'} waiting for your decision: the cards are above.`);
        }
        return step.endDialog();
      case 'myGuests':
        await this.guestActions?.myGuests(step.context);
        return step.endDialog();
      case 'guestReport':
        await this.guestActions?.report(step.context);
        return step.endDialog();
      case 'help':
        await step.context.sendActivity(MessageFactory.attachment(helpCard()));
        return step.endDialog();
      default:
        await step.context.sendActivity(
          isRecord(step.context.activity.value)
            ? 'That card is no longer active. Type **invite guest** or **request access** to start again.'
            : 'Sorry, I did not get that. Type **invite guest**, **request access**, or **help** for what I can do.',
        );
        return step.endDialog();
    }
  }

  /** Runs one turn of the conversation through the dialog stack. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    if (await this.requestActions.submit(context)) return;
    if (await this.adminCommands.submit(context)) return;
    if (await this.guestActions?.submit(context)) return;
    const dialogs = new DialogSet(accessor);
    dialogs.add(this);
    const dc = await dialogs.createContext(context);
    const command = isRecord(context.activity.value) ? null : parseCommand(context.activity.text);
    if (command?.name === 'cancel') {
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
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(MAIN_DIALOG, { command: { name: 'unknown' } } satisfies MainOptions);
  }
}
