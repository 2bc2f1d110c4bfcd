/** The root dialog: dispatches commands; a new command or `cancel` ends whatever was going on. */
import { CardFactory, MessageFactory, type Attachment, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import { ComponentDialog, DialogSet, DialogTurnStatus, WaterfallDialog, type DialogState, type WaterfallStepContext } from './sdk';
import type { RequestAccessService } from '../../domain/requestAccess';
import { commandList, parseCommand, type Command } from '../commands';
import { renderCardJson } from '../cards';
import { isRecord } from '../cardPrompt';
import { actorFrom } from '../identity';
import type { Localizer } from '../../i18n';
import { loc } from '../locale';
import { requestListCard } from '../requestCards';
import type { RequestActions } from '../requestActions';
import { isAdminCommand, type AdminCommands } from '../adminCommands';
import type { GuestActions } from '../guests/actions';
import { INVITE_GUEST_DIALOG, type InviteGuestDialog, type InviteGuestOptions } from './inviteGuestDialog';
import type { ImportedList } from '../bulk/bulkFlow';
import type { FileIntake } from '../files/fileIntake';
import { REQUEST_ACCESS_DIALOG, type RequestAccessDialog, type RequestAccessOptions } from './requestAccessDialog';
import { setAttributes } from '../../telemetry/telemetry';

export const MAIN_DIALOG = 'main';
const DISPATCH = 'main.dispatch';

type MainOptions = { command: Command | { name: 'unknown' }; imported?: ImportedList };

const helpJson = new Map<string, Record<string, unknown>>();

/** The help card. The command list never changes, so it is expanded once per language and the same JSON is sent each time. */
export function helpCard(l: Localizer): Attachment {
  let json = helpJson.get(l.language);
  if (!json) {
    json = renderCardJson('help', { commands: commandList(l) }, l);
    helpJson.set(l.language, json);
  }
  return CardFactory.adaptiveCard(json);
}

export class MainDialog extends ComponentDialog {
  constructor(
    inviteGuest: InviteGuestDialog,
    requestAccess: RequestAccessDialog,
    private readonly requests: RequestAccessService,
    private readonly requestActions: RequestActions,
    private readonly adminCommands: AdminCommands,
    private readonly guestActions?: GuestActions,
    private readonly fileIntake?: FileIntake,
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
    const l = loc(step.context);
    if (command.name !== 'unknown' && isAdminCommand(command)) {
      await this.adminCommands.run(step.context, command);
      return step.endDialog();
    }
    switch (command.name) {
      case 'invite':
        return step.replaceDialog(INVITE_GUEST_DIALOG);
      case 'inviteGuests': {
        const { imported } = step.options as MainOptions;
        return step.replaceDialog(INVITE_GUEST_DIALOG, { bulk: true, imported } satisfies InviteGuestOptions);
      }
      case 'request':
        return step.replaceDialog(REQUEST_ACCESS_DIALOG, { appQuery: command.appQuery } satisfies RequestAccessOptions);
      case 'myRequests':
        if (actor) {
          const mine = await this.requests.listMine(actor);
          await step.context.sendActivity(MessageFactory.attachment(requestListCard(l, mine, true)));
        }
        return step.endDialog();
      case 'pendingRequests':
        if (actor) {
          const count = await this.requests.resendPendingCards(actor);
          await step.context.sendActivity(l.t('requests:pendingResent', { count }));
        }
        return step.endDialog();
      case 'myGuests':
        await this.guestActions?.myGuests(step.context);
        return step.endDialog();
      case 'guestReport':
        await this.guestActions?.report(step.context);
        return step.endDialog();
      case 'help':
        await step.context.sendActivity(MessageFactory.attachment(helpCard(l)));
        return step.endDialog();
      default:
        await step.context.sendActivity(l.t(isRecord(step.context.activity.value) ? 'common:cardInactive' : 'common:unknown'));
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
    // A file sent in the chat (with or without `invite guests` typed): read now, its download link is short-lived.
    const file = this.fileIntake?.fileOf(context.activity);
    if (file && this.fileIntake) {
      const imported = await this.fileIntake.read(context, file);
      if (!imported) return;
      await dc.cancelAllDialogs();
      await dc.beginDialog(MAIN_DIALOG, { command: { name: 'inviteGuests' }, imported } satisfies MainOptions);
      return;
    }
    const command = isRecord(context.activity.value) ? null : parseCommand(context.activity.text);
    // The command's name only, never the text typed.
    setAttributes({ 'guestinvite.command': command?.name ?? (isRecord(context.activity.value) ? 'cardSubmit' : 'none') });
    if (command?.name === 'cancel') {
      const active = dc.activeDialog !== undefined;
      await dc.cancelAllDialogs();
      await context.sendActivity(loc(context).t(active ? 'common:cancelled' : 'common:nothingToCancel'));
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
