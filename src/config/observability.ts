/** What the bot says about itself: log level and format, and where traces and metrics go. */
import type { LogFormat, LogLevel } from '../logging';
import type { TelemetrySettings } from '../telemetry/start';
import { ConfigError, oneOf, read, type Env } from './parse';

export interface ObservabilitySettings {
  logLevel: LogLevel;
  /** `json` (one JSON object per line, for production) or `pretty` (one readable line, for a terminal). */
  logFormat: LogFormat;
  /** Where traces and metrics go (docs/operations.md): Azure Monitor, OTLP, or nowhere. */
  telemetry: TelemetrySettings;
}

const OTLP_ENDPOINTS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
];

/**
 * APPLICATIONINSIGHTS_CONNECTION_STRING → Azure Monitor; else any OTEL_EXPORTER_OTLP_*ENDPOINT → OTLP; else none.
 * OTEL_SDK_DISABLED=true turns both off (the OpenTelemetry convention).
 */
function telemetry(env: Env): TelemetrySettings {
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { exporter: 'none' };
  const connectionString = read(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  if (connectionString !== undefined) {
    if (!/(^|;)\s*(InstrumentationKey|IngestionEndpoint)=/i.test(connectionString)) {
      throw new ConfigError(
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)',
      );
    }
    return { exporter: 'azureMonitor', connectionString };
  }
  for (const name of OTLP_ENDPOINTS) {
    const value = read(env, name);
    if (value === undefined) continue;
    if (!/^https?:\/\/[^/]/.test(value)) throw new ConfigError(name, `must be an http(s) URL, got '${value}'`);
    return { exporter: 'otlp' };
  }
  return { exporter: 'none' };
}

export function observabilitySettings(env: Env): ObservabilitySettings {
  return {
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    telemetry: telemetry(env),
  };
}
