/**
 * The bot's proactive side against the Teams connector double (src/simulator/teams): a real CloudAdapter (its
 * connector clients without the SDK's retries, as in production), a TeamsMessenger on a store, and people's
 * conversation references as the bot would have stored them from their install.
 */
import type { CloudAdapter } from 'botbuilder';
import { createAdapter } from '../../src/bot/adapter';
import { TeamsMessenger, type TeamsMessengerOptions } from '../../src/bot/messenger';
import { silentLogger, type Logger } from '../../src/logging';
import { startTeamsDouble, type TeamsDouble } from '../../src/simulator/teams';
import type { TeamsApps } from '../../src/simulator/teamsApps';
import type { JsonObject, Store } from '../../src/store/store';
import { BOT_APP_ID, BotEndpoint, TENANT, type Activity } from '../simulator/teamsHelpers';

export { BOT_APP_ID, TENANT };

export interface Connector {
  double: TeamsDouble;
  endpoint: BotEndpoint;
  adapter: CloudAdapter;
  close(): Promise<void>;
}

/**
 * `graph`: the Graph simulator's Teams apps, so installs made through Graph reach the double (its catalog needs an app
 * with botId BOT_APP_ID). `onActivity`: sees each activity Teams posts to the bot (answered 200 at once).
 */
export async function startConnector(
  options: { graph?: TeamsApps; onActivity?: (activity: Activity) => void } = {},
): Promise<Connector> {
  const endpoint = await new BotEndpoint((activity) => {
    options.onActivity?.(activity);
    return { status: 200 };
  }).start();
  const double = await startTeamsDouble({
    tenant: TENANT,
    botAppId: BOT_APP_ID,
    botEndpoint: endpoint.url,
    graph: options.graph,
  });
  return {
    double,
    endpoint,
    adapter: createAdapter(null),
    async close() {
      await double.close();
      await endpoint.close();
    },
  };
}

/** The person's 1:1 reference as the bot stores it from their install's conversationUpdate. */
export function referenceFor(double: TeamsDouble, aad: string, locale = 'en-US'): JsonObject {
  return {
    serviceUrl: double.serviceUrl,
    channelId: 'msteams',
    locale,
    user: { id: double.teamsIdFor(aad), name: '', aadObjectId: aad },
    bot: { id: `28:${BOT_APP_ID}`, name: 'Guest Invite' },
    conversation: { id: double.conversationIdFor(aad), conversationType: 'personal', tenantId: TENANT },
  };
}

/** Installs the app for each person and stores their reference (as the bot's install handling does). */
export async function installFor(connector: Connector, store: Store, people: readonly string[]): Promise<void> {
  for (const aad of people) {
    await connector.double.install(aad);
    await store.conversations.upsert(TENANT, aad, referenceFor(connector.double, aad), new Date());
  }
}

export function messengerOn(
  connector: Connector,
  store: Store,
  options: TeamsMessengerOptions = {},
  logger: Logger = silentLogger,
): TeamsMessenger {
  return new TeamsMessenger(connector.adapter, store, '', logger, options);
}

export function person(i: number): string {
  return `3f5c1e2a-7b6d-4c8e-9a1f-${i.toString(16).padStart(12, '0')}`;
}
