/** Wires the Teams side (state, dialogs, handler, proactive messenger) onto the domain services. */
import { randomUUID } from 'node:crypto';
import { ConversationState, type BotAdapter, type CloudAdapter } from 'botbuilder';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Directory } from '../graph/directory';
import { InviteGuestService } from '../domain/inviteGuest';
import { RequestAccessService, type ApprovalMessenger } from '../domain/requestAccess';
import { BotStateStorage } from './stateStorage';
import { InviteGuestDialog } from './dialogs/inviteGuestDialog';
import { RequestAccessDialog } from './dialogs/requestAccessDialog';
import { MainDialog } from './dialogs/mainDialog';
import { TeamsBot } from './teamsBot';
import { TeamsMessenger } from './messenger';
import { RequestActions } from './requestActions';
import { installTurnErrorHandler } from './adapter';

export interface BotParts {
  bot: TeamsBot;
  conversationState: ConversationState;
  inviteGuest: InviteGuestService;
  requestAccess: RequestAccessService;
}

export interface ComposeOptions {
  store: Store;
  directory: Directory;
  logger: Logger;
  adapter: BotAdapter;
  /** The bot's Microsoft App ID ('' when anonymous), for proactive messages. */
  appId: string;
  defaultRedirectUrl: string;
  /** Replaces Teams delivery (tests). */
  messenger?: ApprovalMessenger;
  remindAfterMs?: number;
  expireAfterMs?: number;
  replicationBackoffMs?: readonly number[];
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export function composeBot(options: ComposeOptions): BotParts {
  const { store, directory, logger, clock, sleep } = options;
  const instanceId = randomUUID();
  const inviteGuest = new InviteGuestService({
    directory,
    store,
    logger,
    defaultRedirectUrl: options.defaultRedirectUrl,
    instanceId,
    clock,
    sleep,
    replicationBackoffMs: options.replicationBackoffMs,
  });
  const messenger = options.messenger ?? new TeamsMessenger(options.adapter as CloudAdapter, store.conversations, options.appId, logger, clock);
  const requestAccess = new RequestAccessService({
    directory,
    store,
    messenger,
    logger,
    clock,
    instanceId,
    remindAfterMs: options.remindAfterMs,
    expireAfterMs: options.expireAfterMs,
  });
  const conversationState = new ConversationState(new BotStateStorage(store.state));
  const requestActions = new RequestActions(requestAccess, logger);
  const mainDialog = new MainDialog(new InviteGuestDialog(inviteGuest, logger), new RequestAccessDialog(requestAccess, logger), requestAccess, requestActions);
  const bot = new TeamsBot({ conversationState, mainDialog, requestActions, store, logger, clock });
  installTurnErrorHandler(options.adapter, logger, conversationState);
  return { bot, conversationState, inviteGuest, requestAccess };
}
