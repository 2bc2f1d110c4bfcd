/** The Bot Framework adapter (CloudAdapter) and its turn error handler. */
import { randomUUID } from 'node:crypto';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type BotAdapter, type ConversationState, type TurnContext } from 'botbuilder';
import type { BotAuthSettings } from '../config';
import type { Logger } from '../logging';
import { isPermissionDenied } from '../graph/directory';
import type { BlockedReporter } from '../domain/model';
import { actorFrom } from './identity';
import { loc } from './locale';
import { msg } from '../domain/message';

/** Alert cards name no guest: an address typed in the command is left out of what the user was doing. */
function withoutAddresses(text: string): string {
  return text.replace(/\S+@\S+/g, '…');
}

export function createAdapter(auth: BotAuthSettings | null): CloudAdapter {
  const authentication = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: auth?.appId ?? '',
    MicrosoftAppPassword: auth?.appPassword ?? '',
    MicrosoftAppType: auth?.appType ?? '',
    MicrosoftAppTenantId: auth?.appTenantId ?? '',
  });
  return new CloudAdapter(authentication);
}

/**
 * Logs the failure with a reference, forgets the conversation's dialog state, and apologises with the reference.
 * A call Graph refused for want of an application permission is no bug: the user hears that the feature is not set
 * up yet, and the admins get an alert naming the permission (a block).
 */
export function installTurnErrorHandler(adapter: BotAdapter, logger: Logger, conversationState: ConversationState, onBlocked?: BlockedReporter): void {
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const reference = randomUUID().slice(0, 8);
    const denied = isPermissionDenied(error);
    logger.error(denied ? 'turn.permissionMissing' : 'turn.error', { errorRef: reference, activityId: context.activity.id, permission: denied ? error.permission : undefined, error });
    try {
      await conversationState.delete(context);
      const actor = actorFrom(context);
      if (denied && actor && onBlocked) {
        const permission = error.permission ?? 'a Microsoft Graph application permission';
        await onBlocked({ tenantId: actor.tenantId, actor, doing: context.activity.text ? msg('admin:doing.using', { text: withoutAddresses(context.activity.text.trim().slice(0, 60)) }) : msg('admin:doing.usingCard'), kind: 'missingPermission', app: null, group: null, detail: permission }).catch((err) =>
          logger.error('alert.report.failed', { kind: 'missingPermission', error: err }),
        );
        await context.sendActivity(loc(context).t('common:turnError.notSetUp'));
        return;
      }
      await context.sendActivity(loc(context).t('common:turnError.failed', { reference }));
    } catch (sendError) {
      logger.error('turn.error.reply.failed', { errorRef: reference, error: sendError });
    }
  };
}
