/**
 * Starts the export of traces and metrics, when configured (src/config/observability.ts `telemetry`):
 * - `azureMonitor` (APPLICATIONINSIGHTS_CONNECTION_STRING): Microsoft's distro, `@azure/monitor-opentelemetry`,
 *   with its HTTP, database and log-library instrumentations off (they would record Graph URLs with `$filter`
 *   values, i.e. addresses); the bot's own spans and metrics are the telemetry;
 * - `otlp` (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT): the OTLP/HTTP
 *   exporters, which read the standard `OTEL_*` variables (headers, timeouts, OTEL_METRIC_EXPORT_INTERVAL, ...);
 * - `none`: nothing here is imported, and src/telemetry/telemetry.ts stays a no-op.
 * The resource names the service and the instance (`service.instance.id`), so a chart splits by instance.
 */
import os from 'node:os';
import { metrics, trace, context } from '@opentelemetry/api';
import type { Logger } from '../logging';
import { installProviders, uninstallProviders } from './telemetry';

export type TelemetrySettings =
  { exporter: 'none' } | { exporter: 'azureMonitor'; connectionString: string } | { exporter: 'otlp' };

export interface RunningTelemetry {
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const NONE: RunningTelemetry = { shutdown: async () => undefined };

/** service.instance.id: App Service's instance id when there is one, else host and process. */
export function instanceName(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEBSITE_INSTANCE_ID?.slice(0, 16) || `${os.hostname()}-${process.pid}`;
}

async function resourceAttributes(): Promise<import('@opentelemetry/resources').Resource> {
  const { resourceFromAttributes, detectResources, envDetector } = await import('@opentelemetry/resources');
  const own = resourceFromAttributes({ 'service.name': 'guest-invite', 'service.instance.id': instanceName() });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
  return own.merge(detectResources({ detectors: [envDetector] }));
}

async function startAzureMonitor(connectionString: string): Promise<RunningTelemetry> {
  const { useAzureMonitor, shutdownAzureMonitor } = await import('@azure/monitor-opentelemetry');
  const off = { enabled: false };
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString },
    resource: await resourceAttributes(),
    enableLiveMetrics: false,
    instrumentationOptions: {
      http: off,
      azureSdk: off,
      mongoDb: off,
      mySql: off,
      postgreSql: off,
      redis: off,
      redis4: off,
      bunyan: off,
      winston: off,
    },
  });
  installProviders(trace.getTracerProvider(), metrics.getMeterProvider());
  return {
    async shutdown() {
      uninstallProviders();
      await shutdownAzureMonitor();
    },
  };
}

async function startOtlp(): Promise<RunningTelemetry> {
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { MeterProvider, PeriodicExportingMetricReader },
    { OTLPTraceExporter },
    { OTLPMetricExporter },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
  ]);
  const resource = await resourceAttributes();
  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  tracerProvider.register();
  const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  installProviders(tracerProvider, meterProvider);
  return {
    async shutdown() {
      uninstallProviders();
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}

export async function startTelemetry(settings: TelemetrySettings, logger: Logger): Promise<RunningTelemetry> {
  if (settings.exporter === 'none') return NONE;
  try {
    const running =
      settings.exporter === 'azureMonitor' ? await startAzureMonitor(settings.connectionString) : await startOtlp();
    logger.info('telemetry.started', { exporter: settings.exporter, instance: instanceName() });
    return running;
  } catch (err) {
    // Telemetry is never a reason not to serve: the bot runs on without it.
    logger.error('telemetry.start.failed', { exporter: settings.exporter, error: err });
    uninstallProviders();
    return NONE;
  }
}
