/** The root dialog: dispatches commands; a new command or `cancel` ends whatever was going on. */
import { CardFactory, MessageFactory, type Attachment, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import {
  ComponentDialog,
  DialogSet,
  DialogTurnStatus,
  WaterfallDialog,
  type DialogState,
  type WaterfallStepContext,
} from './dialogSdk';
import type { RequestAccessService } from '../domain/requests/requestAccess';
import { commandList, parseCommand, type Command } from './commands';
import { renderCardJson } from './cards';
import { isRecord } from './cardPrompt';
import { actorFrom } from './identity';
import type { Localizer } from '../i18n';
import { loc } from './locale';
import { actorKind, guestMay } from './gate';
import type { ReadLimit } from './readLimit';
import { requestListCard } from './requests/cards';
import type { RequestActions } from './requests/actions';
import { isAdminCommand, type AdminCommands } from './admin/commands';
import type { GuestActions } from './guests/actions';
import { INVITE_GUEST_DIALOG, type InviteGuestDialog, type InviteGuestOptions } from './invite/dialog';
import type { ImportedList } from './bulk/flow';
import type { FileIntake } from './files/intake';
import { REQUEST_ACCESS_DIALOG, type RequestAccessDialog, type RequestAccessOptions } from './requests/dialog';
import { setAttributes } from '../telemetry/telemetry';

export const MAIN_DIALOG = 'main';

/**
 * The commands answered in a team channel or group chat; every other one shows guests, requests, addresses or
 * the app inventory, and is answered only in the user's 1:1 chat with the bot.
 */
const SHARED_COMMANDS: ReadonlySet<Command['name']> = new Set(['help', 'cancel', 'alertsHere', 'alertsOff']);

/** Commands that read much of the directory: counted by READS_PER_USER_PER_HOUR. */
const READ_HEAVY: ReadonlySet<Command['name']> = new Set(['request', 'myGuests', 'guestReport']);

export function isPersonal(context: TurnContext): boolean {
  return context.activity.conversation?.conversationType === 'personal';
}

/**
 * A deep link that opens the user's 1:1 chat with the bot: `https://teams.microsoft.com/l/chat/0/0?users=28:<BotId>`
 * (learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/deep-link-application, "navigate to a chat
 * with the application"). The bot's id is the activity's recipient (`28:<app id>`); null when it does not look like
 * one.
 */
export function personalChatLink(context: TurnContext): string | null {
  const id = context.activity.recipient?.id;
  if (typeof id !== 'string' || !/^28:[\w-]{1,100}$/.test(id)) return null;
  return `https://teams.microsoft.com/l/chat/0/0?users=${id}`;
}

/** A catalog message asking the user to message the bot 1:1, the deep link after it (built here, not from data). */
export function messageMeText(context: TurnContext, key: string): string {
  const link = personalChatLink(context);
  return `${loc(context).t(key)}${link ? ` ${link}` : ''}`;
}
const DISPATCH = 'main.dispatch';

type MainOptions = { command: Command | { name: 'unknown' }; imported?: ImportedList };

const helpJson = new Map<string, Record<string, unknown>>();

/**
 * The help card. The command list never changes, so it is expanded once per language and the same JSON is sent each
 * time.
 */
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
    private readonly readLimit?: ReadLimit,
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
        await step.context.sendActivity(
          l.t(isRecord(step.context.activity.value) ? 'common:cardInactive' : 'common:unknown'),
        );
        return step.endDialog();
    }
  }

  /** Runs one turn of the conversation through the dialog stack. */
  async run(context: TurnContext, accessor: StatePropertyAccessor<DialogState>): Promise<void> {
    const shared = !isPersonal(context);
    // In a team or group chat only the alert cards' acknowledge is answered: the other cards show personal data.
    if (!shared && (await this.requestActions.submit(context))) return;
    if (await this.adminCommands.submit(context)) return;
    if (!shared && (await this.guestActions?.submit(context))) return;
    if (shared && isRecord(context.activity.value)) {
      // A card of a 1:1 chat (guests, requests, invitations) submitted from a shared chat: said where to go.
      await context.sendActivity(messageMeText(context, 'security:personalOnly'));
      return;
    }
    const command = isRecord(context.activity.value) ? null : parseCommand(context.activity.text);
    if (command && command.name !== 'cancel') {
      if (shared && !SHARED_COMMANDS.has(command.name)) {
        await context.sendActivity(messageMeText(context, 'security:personalOnly'));
        return;
      }
      if (actorKind(context) === 'guest' && !guestMay(command.name)) {
        await context.sendActivity(loc(context).t('security:guestNotAllowed'));
        return;
      }
    }
    if (command && READ_HEAVY.has(command.name) && this.readLimit && !(await this.readLimit(context))) return;
    const dialogs = new DialogSet(accessor);
    dialogs.add(this);
    const dc = await dialogs.createContext(context);
    // A file sent in the chat (with or without `invite guests` typed): read now, its download link is short-lived.
    const file = this.fileIntake?.fileOf(context.activity);
    if (file && this.fileIntake) {
      if (actorKind(context) === 'guest' && !guestMay('inviteGuests')) {
        await context.sendActivity(loc(context).t('security:guestNotAllowed'));
        return;
      }
      const imported = await this.fileIntake.read(context, file);
      if (!imported) return;
      await dc.cancelAllDialogs();
      await dc.beginDialog(MAIN_DIALOG, { command: { name: 'inviteGuests' }, imported } satisfies MainOptions);
      return;
    }
    // The command's name only, never the text typed.
    setAttributes({
      'guestinvite.command': command?.name ?? (isRecord(context.activity.value) ? 'cardSubmit' : 'none'),
    });
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
    if (result.status === DialogTurnStatus.empty)
      await dc.beginDialog(MAIN_DIALOG, { command: { name: 'unknown' } } satisfies MainOptions);
  }
}
