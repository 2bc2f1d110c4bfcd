/**
 * Composition root: settings → store → Graph (embedded simulator, external simulator or live) → domain → bot → HTTP.
 */
import { loadSettings, ConfigError, type Settings } from './config';
import { createLogger, type Logger } from './logging';
import { GraphTeamsAppInstaller } from './graph/teamsApps';
import { describeStore, openStore } from './store/open';
import type { CloudAdapter } from 'botbuilder';
import { createAdapter } from './bot/adapter';
import { composeBot, type BotParts } from './bot/compose';
import { createServer, listen, type BotServer } from './bot/server';
import { createReadiness } from './bot/health';
import { startTelemetry, type RunningTelemetry } from './telemetry/start';
import { instrumentStore } from './telemetry/store';
import { telemetryEnabled } from './telemetry/telemetry';
import type { Store } from './store/store';
import { connectGraph, type GraphConnection } from './host/graph';
import { observeOperations } from './host/gauges';
import { startTimers } from './host/timers';

export interface RunningBot {
  url: string;
  graphBaseUrl: string;
  /**
   * Graceful stop: no new activities (503), turns in flight and work they handed over finish within
   * `timeoutMs` (default SHUTDOWN_TIMEOUT); operations still unfinished then are left to be resumed.
   */
  stop(timeoutMs?: number): Promise<void>;
}

interface OpenedStore {
  store: Store;
  /** Stops the gauges of unfinished operations and waiting messages. */
  stopObserving(): void;
}

/** The store the settings name, traced and observed when telemetry is on. */
async function openObservedStore(settings: Settings, logger: Logger): Promise<OpenedStore> {
  const opened = await openStore(settings, {
    onPoolError: (err) => logger.warn('store.connection.failed', { error: err }),
  });
  if (!telemetryEnabled()) return { store: opened, stopObserving: () => undefined };
  return { store: instrumentStore(opened), stopObserving: observeOperations(opened) };
}

/** The adapter and the bot's services on the store and Graph. */
function compose(
  settings: Settings,
  store: Store,
  graph: GraphConnection,
  logger: Logger,
): { adapter: CloudAdapter; parts: BotParts } {
  const adapter = createAdapter(settings.botAuth);
  const parts = composeBot({
    store,
    directory: graph.directory,
    logger,
    adapter,
    appId: settings.botAuth?.appId ?? '',
    settings,
    trustServiceUrl: settings.graph.mode === 'live' ? (url) => url.toLowerCase().startsWith('https://') : undefined,
    teamsAppInstaller: new GraphTeamsAppInstaller(graph.http),
  });
  return { adapter, parts };
}

/** The HTTP host with its readiness probes, listening; logs where. */
async function serve(
  settings: Settings,
  running: { adapter: CloudAdapter; parts: BotParts; store: Store; graph: GraphConnection; logger: Logger },
): Promise<{ host: BotServer; url: string }> {
  const { adapter, parts, store, graph, logger } = running;
  const health = createReadiness({
    logger,
    probes: { store: () => store.ping(), graph: () => graph.authProvider.getAccessToken() },
  });
  const host = createServer({ adapter, bot: parts.bot, logger, health });
  const url = await listen(host.server, settings.port, settings.host);
  logger.info('bot.listening', {
    url,
    messagesEndpoint: `${url}/api/messages`,
    graphMode: settings.graph.mode,
    graphBaseUrl: graph.endpoint.baseUrl,
    anonymous: settings.botAuth === null,
    store: describeStore(settings),
  });
  return { host, url };
}

/** What a graceful stop ends, in order. */
interface Stoppable {
  stopTimers(): void;
  parts: BotParts;
  host: BotServer;
  graph: GraphConnection;
  opened: OpenedStore;
  telemetry: RunningTelemetry;
  logger: Logger;
}

/** Turns and the work they handed over first (within `timeoutMs`), then the outbox, HTTP, simulator, store. */
async function shutdown(running: Stoppable, timeoutMs: number): Promise<void> {
  const { parts, host, logger } = running;
  running.stopTimers();
  parts.adminAlerts.stop();
  const started = Date.now();
  const turnsEnded = await host.stopTakingTurns(timeoutMs);
  const workEnded = await parts.background.drain(Math.max(0, timeoutMs - (Date.now() - started)));
  logger.info('bot.drained', {
    turnsEnded,
    workEnded,
    turnsLeft: host.turnsInFlight,
    workLeft: parts.background.size,
    ms: Date.now() - started,
  });
  // Messages still queued stay recorded: the next instance to hold the sender lease sends them.
  await parts.outbox.stop().catch((err: unknown) => logger.warn('outbox.stop.failed', { error: err }));
  await new Promise<void>((resolve) => {
    host.server.close(() => resolve());
    // Keep-alive connections and turns past the deadline are cut: their operations are resumed later.
    host.server.server.closeAllConnections();
  });
  await running.graph.endpoint.simulator?.close();
  running.opened.stopObserving();
  await running.opened.store.close();
  await running.telemetry.shutdown();
  logger.info('bot.stopped');
}

export async function startBot(
  settings: Settings,
  logger: Logger = createLogger({ level: settings.logLevel, format: settings.logFormat }),
): Promise<RunningBot> {
  const telemetry = await startTelemetry(settings.telemetry, logger);
  const opened = await openObservedStore(settings, logger);
  const store = opened.store;
  const graph = await connectGraph(settings, logger);
  const { adapter, parts } = compose(settings, store, graph, logger);
  // Proactive messages recorded by any instance are sent by the one holding the outbox's sender lease.
  parts.outbox.start();
  const stopTimers = startTimers({ ...parts, store, directory: graph.directory, logger }, settings);
  const { host, url } = await serve(settings, { adapter, parts, store, graph, logger });
  let stopping: Promise<void> | null = null;
  const running: Stoppable = { stopTimers, parts, host, graph, opened, telemetry, logger };
  return {
    url,
    graphBaseUrl: graph.endpoint.baseUrl,
    stop(timeoutMs = settings.shutdownTimeoutMs) {
      stopping ??= shutdown(running, timeoutMs);
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat });
  const running = await startBot(settings, logger);
  const shutdown = (signal: string): void => {
    logger.info('bot.stopping', { signal });
    const timer = setTimeout(() => process.exit(1), settings.shutdownTimeoutMs + 5_000);
    timer.unref();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('bot.stop.failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `Guest Invite failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
