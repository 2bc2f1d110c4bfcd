/** Wires the Teams side (state, dialogs, handler) onto the domain services. */
import { ConversationState } from 'botbuilder';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { InviteGuestService } from '../domain/inviteGuest';
import { BotStateStorage } from './stateStorage';
import { InviteGuestDialog } from './dialogs/inviteGuestDialog';
import { MainDialog } from './dialogs/mainDialog';
import { TeamsBot } from './teamsBot';

export interface BotParts {
  bot: TeamsBot;
  conversationState: ConversationState;
}

export function composeBot(deps: { store: Store; inviteGuest: InviteGuestService; logger: Logger; clock?: () => Date }): BotParts {
  const conversationState = new ConversationState(new BotStateStorage(deps.store.state));
  const mainDialog = new MainDialog(new InviteGuestDialog(deps.inviteGuest, deps.logger));
  const bot = new TeamsBot({ conversationState, mainDialog, store: deps.store, logger: deps.logger, clock: deps.clock });
  return { bot, conversationState };
}
