/** The Bot Framework adapter (CloudAdapter) and its turn error handler. */
import { randomUUID } from 'node:crypto';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type BotAdapter, type ConversationState, type TurnContext } from 'botbuilder';
import type { BotAuthSettings } from '../config';
import type { Logger } from '../logging';

export function createAdapter(auth: BotAuthSettings | null): CloudAdapter {
  const authentication = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: auth?.appId ?? '',
    MicrosoftAppPassword: auth?.appPassword ?? '',
    MicrosoftAppType: auth?.appType ?? '',
    MicrosoftAppTenantId: auth?.appTenantId ?? '',
  });
  return new CloudAdapter(authentication);
}

/** Logs the failure with a reference, forgets the conversation's dialog state, and apologises with the reference. */
export function installTurnErrorHandler(adapter: BotAdapter, logger: Logger, conversationState: ConversationState): void {
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const reference = randomUUID().slice(0, 8);
    logger.error('turn.error', { errorRef: reference, activityId: context.activity.id, error });
    try {
      await conversationState.delete(context);
      await context.sendActivity(`Sorry, something went wrong on my side and I stopped. Nothing more was changed. Error reference: ${reference}`);
    } catch (sendError) {
      logger.error('turn.error.reply.failed', { errorRef: reference, error: sendError });
    }
  };
}
