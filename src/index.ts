/** Composition root: settings → store → Graph (embedded simulator, external simulator or live) → domain → bot → HTTP. */
import { loadSettings, ConfigError, type Settings } from './config';
import { createLogger, type Logger } from './logging';
import { createAuthProvider, createGraphClient, type GraphAuth } from './graph/client';
import { GraphTeamsAppInstaller } from './graph/teamsApps';
import { GraphDirectory } from './graph/graphDirectory';
import { GraphHttp } from './graph/graphHttp';
import { describeStore, openStore } from './store/open';
import { sweepRetention } from './domain/privacy/retention';
import { JOBS, TimerJobs } from './domain/shared/timerJobs';
import { createAdapter } from './bot/adapter';
import { composeBot } from './bot/compose';
import { createServer, listen } from './bot/server';
import { createReadiness } from './bot/health';
import { startTelemetry } from './telemetry/start';
import { instrumentStore } from './telemetry/store';
import { observeGauge, span, telemetryEnabled } from './telemetry/telemetry';
import type { Store } from './store/store';
import { pruneActivityMarkers } from './bot/teamsBot';
import type { RunningSimulator } from './simulator';

export interface RunningBot {
  url: string;
  graphBaseUrl: string;
  /**
   * Graceful stop: no new activities (503), turns in flight and work they handed over finish within
   * `timeoutMs` (default SHUTDOWN_TIMEOUT); operations still unfinished then are left to be resumed.
   */
  stop(timeoutMs?: number): Promise<void>;
}

async function graphEndpoint(
  settings: Settings,
  logger: Logger,
): Promise<{ baseUrl: string; auth: GraphAuth; simulator: RunningSimulator | null }> {
  const graph = settings.graph;
  switch (graph.mode) {
    case 'embedded': {
      // Loaded only here: a bot on an external simulator or on Microsoft Graph does not carry it.
      const { loadDemoSeed, loadSeed, startSimulator } = await import('./simulator/index.js');
      const seed = graph.tenantFile ? loadSeed(graph.tenantFile) : loadDemoSeed();
      const simulator = await startSimulator({ seed, port: 0, host: '127.0.0.1', token: graph.token });
      logger.info('graph.simulator.started', { url: simulator.graphBaseUrl, tenant: seed.tenant.displayName });
      return { baseUrl: simulator.graphBaseUrl, auth: { kind: 'static', token: graph.token }, simulator };
    }
    case 'simulator':
      return { baseUrl: graph.baseUrl, auth: { kind: 'static', token: graph.token }, simulator: null };
    case 'live':
      return {
        baseUrl: graph.baseUrl,
        auth:
          graph.clientSecret && graph.clientId
            ? {
                kind: 'clientSecret',
                tenantId: graph.tenantId,
                clientId: graph.clientId,
                clientSecret: graph.clientSecret,
              }
            : { kind: 'managedIdentity', clientId: graph.clientId },
        simulator: null,
      };
  }
}

/** Background work (sweeps, scans, resumed operations) in a trace of its own, not under whatever ran before. */
function traced<T>(name: string, work: () => Promise<T>): () => Promise<T> {
  return () => span(name, {}, work, { root: true });
}

/** Operations not yet finished and the age of the oldest, read at each metric export. */
function observeOperations(store: Store): () => void {
  const LIMIT = 1000;
  const unfinished = observeGauge(
    'guestinvite.operations.unfinished',
    `Directory operations pending or running (counted up to ${LIMIT})`,
    '{operation}',
    async () => [{ value: (await store.operations.listUnfinished(LIMIT)).length }],
  );
  const oldest = observeGauge(
    'guestinvite.operations.oldest_age',
    'Age of the oldest unfinished directory operation',
    's',
    async () => {
      const [first] = await store.operations.listUnfinished(1);
      return [{ value: first ? Math.max(0, (Date.now() - Date.parse(first.createdAt)) / 1000) : 0 }];
    },
  );
  // Proactive messages waiting in the outbox (docs/outbox.md), and the age of the oldest.
  const waitingMessages = async () => store.outbox.listDue(new Date(8.64e15), LIMIT);
  const waiting = observeGauge(
    'guestinvite.outbox.waiting',
    `Proactive messages waiting to be sent (counted up to ${LIMIT})`,
    '{message}',
    async () => [{ value: (await waitingMessages()).length }],
  );
  const oldestMessage = observeGauge(
    'guestinvite.outbox.oldest_age',
    'Age of the oldest proactive message waiting',
    's',
    async () => {
      const created = (await waitingMessages()).map((m) => Date.parse(m.createdAt));
      return [{ value: created.length > 0 ? Math.max(0, (Date.now() - Math.min(...created)) / 1000) : 0 }];
    },
  );
  return () => {
    unfinished();
    oldest();
    waiting();
    oldestMessage();
  };
}

export async function startBot(
  settings: Settings,
  logger: Logger = createLogger({ level: settings.logLevel, format: settings.logFormat }),
): Promise<RunningBot> {
  const telemetry = await startTelemetry(settings.telemetry, logger);
  const opened = await openStore(settings, {
    onPoolError: (err) => logger.warn('store.connection.failed', { error: err }),
  });
  const store = telemetryEnabled() ? instrumentStore(opened) : opened;
  const stopObserving = telemetryEnabled() ? observeOperations(opened) : () => undefined;
  const endpoint = await graphEndpoint(settings, logger);
  const graphAuth = createAuthProvider(endpoint.auth);
  const client = createGraphClient({ baseUrl: endpoint.baseUrl, auth: endpoint.auth, authProvider: graphAuth, logger });
  const http = new GraphHttp(client);
  const directory = new GraphDirectory(http);
  const adapter = createAdapter(settings.botAuth);
  const { bot, requestAccess, adminAlerts, resumeOperations, background, instanceId, guestReview, outbox } = composeBot(
    {
      store,
      directory,
      logger,
      adapter,
      appId: settings.botAuth?.appId ?? '',
      settings,
      trustServiceUrl: settings.graph.mode === 'live' ? (url) => url.toLowerCase().startsWith('https://') : undefined,
      teamsAppInstaller: new GraphTeamsAppInstaller(http),
    },
  );
  // Proactive messages recorded by any instance are sent by the one holding the outbox's sender lease.
  outbox.start();
  // Each timer's work runs once per interval across the instances sharing the store (a lease row per job).
  const jobs = new TimerJobs(store.jobs, instanceId, settings.operations.leaseMs);
  const sweep = (): void => {
    // The same sweep finds due guest reviews (from the bot's records, not from Graph).
    const both = async (): Promise<{
      requests: Awaited<ReturnType<typeof requestAccess.sweep>>;
      reviews: Awaited<ReturnType<typeof guestReview.sweep>>;
    }> => ({ requests: await requestAccess.sweep(), reviews: await guestReview.sweep() });
    jobs.runOnce(JOBS.requestSweep, settings.requests.sweepIntervalMs, traced('job.requestSweep', both)).then(
      (run) => {
        if (run.ran && run.result.requests.reminded + run.result.requests.expired > 0)
          logger.info('requests.swept', run.result.requests);
        if (run.ran && run.result.reviews.opened + run.result.reviews.reminded + run.result.reviews.defaulted > 0)
          logger.info('reviews.swept', { ...run.result.reviews });
      },
      (err: unknown) => logger.error('requests.sweep.failed', { error: err }),
    );
  };
  const pruneMarkers = (): void => {
    jobs
      .runOnce(
        JOBS.markerPrune,
        settings.requests.sweepIntervalMs,
        traced('job.markerPrune', () => pruneActivityMarkers(store, new Date())),
      )
      .then(
        (run) => {
          if (run.ran && run.result > 0) logger.info('activity.markers.pruned', { pruned: run.result });
        },
        (err: unknown) => logger.error('activity.markers.prune.failed', { error: err }),
      );
  };
  const retentionSweep = (): void => {
    const sweepNow = (): ReturnType<typeof sweepRetention> => sweepRetention(store, settings.retention, new Date());
    jobs.runOnce(JOBS.retention, settings.retention.sweepIntervalMs, sweepNow).then(
      (run) => {
        if (run.ran && Object.keys(run.result).length > 0) logger.info('retention.swept', { deleted: run.result });
      },
      (err: unknown) => logger.error('retention.sweep.failed', { error: err }),
    );
  };
  const retainer = setInterval(retentionSweep, settings.retention.sweepIntervalMs);
  retainer.unref();
  const sweeper = setInterval(() => {
    sweep();
    pruneMarkers();
  }, settings.requests.sweepIntervalMs);
  sweeper.unref();
  const scanInterval = settings.alerts.scanIntervalMs;
  const scan = (): void => {
    jobs
      .runOnce(
        JOBS.setupScan,
        scanInterval,
        traced('job.setupScan', () => directory.getTenantInfo().then((tenant) => adminAlerts.scanAndAlert(tenant.id))),
      )
      .then(
        (run) => {
          if (run.ran)
            logger.info('setup.scanned', {
              problems: run.result.report.counts.problems,
              alerted: run.result.alerted,
              fixed: run.result.fixed,
            });
        },
        (err: unknown) => logger.error('setup.scan.failed', { error: err }),
      )
      .then(() =>
        jobs.runOnce(
          JOBS.alertDelivery,
          scanInterval,
          traced('job.alertDelivery', () => adminAlerts.deliverPending()),
        ),
      )
      .catch((err: unknown) => logger.error('alerts.pending.failed', { error: err }));
  };
  const scanner = setInterval(scan, settings.alerts.scanIntervalMs);
  scanner.unref();
  const firstScan = setTimeout(scan, 2_000).unref();
  const resume = (): void => {
    jobs
      .runOnce(
        JOBS.operationResume,
        settings.operations.resumeIntervalMs,
        traced('job.operationResume', resumeOperations),
      )
      .then(
        (run) => {
          if (run.ran && run.result > 0) logger.info('operations.resumed', { count: run.result });
        },
        (err: unknown) => logger.error('operations.resume.failed', { error: err }),
      );
  };
  const resumer = setInterval(resume, settings.operations.resumeIntervalMs);
  resumer.unref();
  const firstResume = setTimeout(resume, 500).unref();

  const health = createReadiness({
    logger,
    probes: { store: () => store.ping(), graph: () => graphAuth.getAccessToken() },
  });

  const host = createServer({ adapter, bot, logger, health });
  const server = host.server;
  const url = await listen(server, settings.port, settings.host);
  logger.info('bot.listening', {
    url,
    messagesEndpoint: `${url}/api/messages`,
    graphMode: settings.graph.mode,
    graphBaseUrl: endpoint.baseUrl,
    anonymous: settings.botAuth === null,
    store: describeStore(settings),
  });

  let stopping: Promise<void> | null = null;
  const stop = async (timeoutMs: number): Promise<void> => {
    clearInterval(sweeper);
    clearInterval(scanner);
    clearInterval(resumer);
    clearInterval(retainer);
    clearTimeout(firstScan);
    clearTimeout(firstResume);
    adminAlerts.stop();
    const started = Date.now();
    const turnsEnded = await host.stopTakingTurns(timeoutMs);
    const workEnded = await background.drain(Math.max(0, timeoutMs - (Date.now() - started)));
    logger.info('bot.drained', {
      turnsEnded,
      workEnded,
      turnsLeft: host.turnsInFlight,
      workLeft: background.size,
      ms: Date.now() - started,
    });
    // Messages still queued stay recorded: the next instance to hold the sender lease sends them.
    await outbox.stop().catch((err: unknown) => logger.warn('outbox.stop.failed', { error: err }));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections and turns past the deadline are cut: their operations are resumed later.
      server.server.closeAllConnections();
    });
    await endpoint.simulator?.close();
    stopObserving();
    await store.close();
    await telemetry.shutdown();
    logger.info('bot.stopped');
  };
  return {
    url,
    graphBaseUrl: endpoint.baseUrl,
    stop(timeoutMs = settings.shutdownTimeoutMs) {
      stopping ??= stop(timeoutMs);
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
