/** The Bot Framework adapter (CloudAdapter) and its turn error handler. */
import { randomUUID } from 'node:crypto';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type BotAdapter,
  type ConversationState,
  type TurnContext,
} from 'botbuilder';
import type { ClaimsIdentity, ConnectorClient, ConnectorFactory } from 'botframework-connector';
import type { BotAuthSettings } from '../config/access';
import type { Logger } from '../logging';
import { isPermissionDenied } from '../graph/directory';
import type { BlockedReporter } from '../domain/shared/model';
import { actorFrom } from './identity';
import { loc } from './locale';
import { msg } from '../domain/shared/message';

/** Alert cards name no guest: an address typed in the command is left out of what the user was doing. */
function withoutAddresses(text: string): string {
  return text.replace(/\S+@\S+/g, '…');
}

/**
 * The name core-rest-pipeline gives its retry policy (429/503 with Retry-After, 5xx, 408, socket errors; 3 retries).
 */
const SDK_RETRY_POLICY = 'defaultRetryPolicy';

/**
 * Removes the HTTP pipeline's own retries from a connector client, so that the outbox is the one layer that retries
 * Teams (otherwise each of its attempts becomes up to four requests, and a 429 is retried before the outbox sees it).
 * botframework-connector 4.23 takes `noRetryPolicy` in its options but does not apply it (its ServiceClientContext
 * builds a default @azure/core-client pipeline), so the policy is removed from the built client's pipeline.
 */
export function withoutSdkRetries(client: ConnectorClient): ConnectorClient {
  const pipeline = (
    client as unknown as { client?: { pipeline?: { removePolicy(options: { name: string }): unknown } } }
  ).client?.pipeline;
  if (!pipeline) throw new Error('the connector client has no HTTP pipeline to take the retry policy out of');
  pipeline.removePolicy({ name: SDK_RETRY_POLICY });
  return client;
}

/** The Bot Framework authentication whose connector clients (sends, updates, new conversations) do not retry. */
class SingleAttemptAuthentication extends ConfigurationBotFrameworkAuthentication {
  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    const inner = super.createConnectorFactory(claimsIdentity);
    return {
      create: async (serviceUrl: string, audience?: string) =>
        withoutSdkRetries(await inner.create(serviceUrl, audience)),
    };
  }
}

export function createAdapter(auth: BotAuthSettings | null): CloudAdapter {
  const authentication = new SingleAttemptAuthentication(
    {
      MicrosoftAppId: auth?.appId ?? '',
      MicrosoftAppPassword: auth?.appPassword ?? '',
      MicrosoftAppType: auth?.appType ?? '',
      MicrosoftAppTenantId: auth?.appTenantId ?? '',
    },
    undefined,
    undefined,
    undefined,
    { noRetryPolicy: true },
  );
  return new CloudAdapter(authentication);
}

/**
 * Logs the failure with a reference, forgets the conversation's dialog state, and apologises with the reference.
 * A call Graph refused for want of an application permission is no bug: the user hears that the feature is not set
 * up yet, and the admins get an alert naming the permission (a block).
 */
export function installTurnErrorHandler(
  adapter: BotAdapter,
  logger: Logger,
  conversationState: ConversationState,
  onBlocked?: BlockedReporter,
): void {
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const reference = randomUUID().slice(0, 8);
    const denied = isPermissionDenied(error);
    logger.error(denied ? 'turn.permissionMissing' : 'turn.error', {
      errorRef: reference,
      activityId: context.activity.id,
      permission: denied ? error.permission : undefined,
      error,
    });
    try {
      await conversationState.delete(context);
      const actor = actorFrom(context);
      if (denied && actor && onBlocked) {
        const permission = error.permission ?? 'a Microsoft Graph application permission';
        await onBlocked({
          tenantId: actor.tenantId,
          actor,
          doing: context.activity.text
            ? msg('admin:doing.using', { text: withoutAddresses(context.activity.text.trim().slice(0, 60)) })
            : msg('admin:doing.usingCard'),
          kind: 'missingPermission',
          app: null,
          group: null,
          detail: permission,
        }).catch((err) => logger.error('alert.report.failed', { kind: 'missingPermission', error: err }));
        await context.sendActivity(loc(context).t('common:turnError.notSetUp'));
        return;
      }
      await context.sendActivity(loc(context).t('common:turnError.failed', { reference }));
    } catch (sendError) {
      logger.error('turn.error.reply.failed', { errorRef: reference, error: sendError });
    }
  };
}
