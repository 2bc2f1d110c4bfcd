/** Typed settings, read and validated in one place at start-up. */
import path from 'node:path';
import type { LogFormat, LogLevel } from './logging';
import type { TelemetrySettings } from './telemetry/start';

export type GraphSettings =
  | { mode: 'embedded'; tenantFile: string | null; token: string }
  | { mode: 'simulator'; baseUrl: string; token: string }
  | {
      mode: 'live';
      baseUrl: string;
      tenantId: string;
      clientId: string | null;
      clientSecret: string | null;
    };

export interface BotAuthSettings {
  appId: string;
  appPassword: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  appTenantId: string;
}

export interface Settings {
  port: number;
  host: string;
  /** null: no bot credentials, anonymous local use (loopback only). */
  botAuth: BotAuthSettings | null;
  graph: GraphSettings;
  /** SQLite file (STORE_PATH), used when `databaseUrl` is null. */
  storePath: string;
  /** PostgreSQL (DATABASE_URL, postgres://…): every durable record goes there and nothing to local files. */
  databaseUrl: string | null;
  /**
   * Most PostgreSQL connections per instance (DATABASE_POOL_MAX, default 10): instances × this, plus the overlap of
   * a restart, must stay under the server's limit (Burstable B1ms: 35 user connections).
   */
  databasePoolMax: number;
  defaultRedirectUrl: string;
  logLevel: LogLevel;
  /** `json` (one JSON object per line, for production) or `pretty` (one readable line, for a terminal). */
  logFormat: LogFormat;
  requests: { remindAfterMs: number; expireAfterMs: number; sweepIntervalMs: number };
  alerts: { adminUserIds: string[]; quietPeriodMs: number; scanIntervalMs: number };
  /** New invitations (and new requests) per user over a sliding hour. */
  actionsPerUserPerHour: number;
  /** Commands that read much of the directory (request access, my guests, guest report, bulk check) per user over a sliding hour. */
  readsPerUserPerHour: number;
  /** Bulk invitations: most addresses in one list (BULK_INVITE_MAX); owners re-read before adding after BULK_RECHECK_AFTER. */
  bulk: { maxAddresses: number; recheckAfterMs: number };
  /** Guest lists sent as files and the guest list exported as one. */
  files: FileSettings;
  /** Empty: any tenant (simulator modes only; live mode defaults to the Graph tenant). */
  allowedTenantIds: string[];
  /** How long a process holds a directory operation before another may resume it; resume check interval. */
  operations: {
    leaseMs: number;
    resumeIntervalMs: number;
    retryAfterMs: number;
    retryMax: number;
    replicationWaitMs: number;
  };
  /** How long a stopping process waits for turns and operations in flight (SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
  /** The guest lifecycle: resends, periodic reviews, sponsors in Entra. */
  guests: GuestSettings;
  /** Where traces and metrics go (docs/operations.md): Azure Monitor, OTLP, or nowhere. */
  telemetry: TelemetrySettings;
  /**
   * The Teams app, for installing it for people who never opened it: the manifest's id (TEAMS_APP_ID, to find the
   * catalog id from an existing installation) and its id in the org catalog (TEAMS_APP_CATALOG_ID, set by an admin).
   */
  teamsApp: { manifestId: string | null; catalogId: string | null };
  /** How long each kind of stored data is kept (docs/privacy.md), and how often the retention sweep runs. */
  retention: RetentionSettings;
}

/** Retention per kind of data; each is counted from the moment the record was finished or last written. */
export interface RetentionSettings {
  sweepIntervalMs: number;
  auditMs: number;
  removedGuestsMs: number;
  finishedOperationsMs: number;
  closedRequestsMs: number;
  dialogStateMs: number;
  reviewStateMs: number;
  rateKeysMs: number;
  alertsMs: number;
}

/** Files in the 1:1 chat (docs/files.md). */
export interface FileSettings {
  /** FILE_MAX_BYTES: the largest file read (2 MB). */
  maxBytes: number;
  /** The most an Excel workbook may hold once uncompressed (ten times FILE_MAX_BYTES). */
  maxUncompressedBytes: number;
  /** FILE_HOSTS: SharePoint/OneDrive host names files are fetched from; empty: derived from the initial domain. */
  hosts: string[];
}

/** The guest lifecycle settings. */
export interface GuestSettings {
  resendCooldownMs: number;
  reviewIntervalMs: number;
  reviewGraceMs: number;
  reviewDefault: 'remove' | 'keep';
  invitationStaleAfterMs: number;
  sponsorsInEntra: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(name, `must be a port number (0-65535), got '${raw}'`);
  }
  return value;
}

function httpUrl(env: Env, name: string, fallback?: string): string {
  const raw = read(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(name, 'is required');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got '${raw}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http(s) URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** An https URL (where invited guests land: never plain http). */
function httpsUrl(env: Env, name: string, fallback: string): string {
  const value = httpUrl(env, name, fallback);
  if (!value.toLowerCase().startsWith('https://'))
    throw new ConfigError(name, `must be an https:// URL, got '${value}'`);
  return value;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as 90s, 15m, 48h or 14d (a bare number is seconds). */
function duration(env: Env, name: string, fallback: string): number {
  const raw = read(env, name) ?? fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw);
  if (!match || Number(match[1]) <= 0)
    throw new ConfigError(name, `must be a positive duration like 90s, 15m, 48h or 14d, got '${raw}'`);
  return Math.round(Number(match[1]) * units[(match[2] ?? 's').toLowerCase()]);
}

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(name, `must be a whole number of at least ${min}, got '${raw}'`);
  return value;
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, 1);
}

/** BULK_INVITE_MAX: 1 to 1000 (a 1000-address job stays well inside a card and an hour of Graph's invitation limits). */
function bulkMax(env: Env): number {
  const value = positiveInteger(env, 'BULK_INVITE_MAX', 100);
  if (value > 1000) throw new ConfigError('BULK_INVITE_MAX', `must be at most 1000, got '${value}'`);
  return value;
}

/** FILE_MAX_BYTES (1 KB to 20 MB) and FILE_HOSTS (host names, e.g. contoso.sharepoint.com, contoso-my.sharepoint.com). */
function files(env: Env): FileSettings {
  const maxBytes = integer(env, 'FILE_MAX_BYTES', 2 * 1024 * 1024, 1024);
  if (maxBytes > 20 * 1024 * 1024)
    throw new ConfigError('FILE_MAX_BYTES', `must be at most 20971520 (20 MB), got '${maxBytes}'`);
  const raw = read(env, 'FILE_HOSTS');
  const hosts = raw
    ? raw
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map((h) => h.toLowerCase())
    : [];
  const bad = hosts.find((h) => !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(h));
  if (bad)
    throw new ConfigError('FILE_HOSTS', `must be host names separated by commas (no scheme or path), got '${bad}'`);
  return { maxBytes, maxUncompressedBytes: maxBytes * 10, hosts };
}

function guidList(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (!raw) return [];
  const ids = raw.split(/[\s,;]+/).filter(Boolean);
  const bad = ids.find((id) => !guid.test(id));
  if (bad) throw new ConfigError(name, `must be Microsoft Entra object ids (GUIDs) separated by commas, got '${bad}'`);
  return ids.map((id) => id.toLowerCase());
}

/** An optional GUID (an app id). */
function optionalGuid(env: Env, name: string): string | null {
  const raw = read(env, name);
  if (!raw) return null;
  if (!guid.test(raw)) throw new ConfigError(name, `must be a GUID, got '${raw}'`);
  return raw.toLowerCase();
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = read(env, name) ?? fallback;
  const match = values.find((v) => v.toLowerCase() === raw.toLowerCase());
  if (!match) throw new ConfigError(name, `must be one of ${values.join(', ')}, got '${raw}'`);
  return match;
}

function botAuth(env: Env): BotAuthSettings | null {
  const appId = read(env, 'MicrosoftAppId');
  if (!appId) return null;
  const appType = oneOf(
    env,
    'MicrosoftAppType',
    ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'] as const,
    'MultiTenant',
  );
  const appPassword = read(env, 'MicrosoftAppPassword') ?? '';
  if (appType !== 'UserAssignedMSI' && !appPassword) {
    throw new ConfigError(
      'MicrosoftAppPassword',
      `is required when MicrosoftAppId is set and MicrosoftAppType is ${appType}`,
    );
  }
  const appTenantId = read(env, 'MicrosoftAppTenantId') ?? '';
  if (appType !== 'MultiTenant' && !guid.test(appTenantId)) {
    throw new ConfigError('MicrosoftAppTenantId', `must be the tenant id (a GUID) when MicrosoftAppType is ${appType}`);
  }
  return { appId, appPassword, appType, appTenantId };
}

function graph(env: Env): GraphSettings {
  const mode = oneOf(env, 'GRAPH_MODE', ['simulator', 'live'] as const, 'simulator');
  if (mode === 'live') {
    const tenantId = read(env, 'GRAPH_TENANT_ID');
    if (!tenantId || !guid.test(tenantId))
      throw new ConfigError('GRAPH_TENANT_ID', 'must be the tenant id (a GUID) when GRAPH_MODE=live');
    return {
      mode,
      baseUrl: httpUrl(env, 'GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0'),
      tenantId,
      clientId: read(env, 'GRAPH_CLIENT_ID') ?? null,
      clientSecret: read(env, 'GRAPH_CLIENT_SECRET') ?? null,
    };
  }
  const token = read(env, 'GRAPH_STATIC_TOKEN') ?? 'simulator-token';
  if (read(env, 'GRAPH_BASE_URL')) return { mode: 'simulator', baseUrl: httpUrl(env, 'GRAPH_BASE_URL'), token };
  const tenantFile = read(env, 'SIMULATOR_TENANT');
  return { mode: 'embedded', tenantFile: tenantFile ? path.resolve(tenantFile) : null, token };
}

/** DATABASE_URL: a postgres:// (or postgresql://) URL naming a host and a database, or unset. */
function databaseUrl(env: Env): string | null {
  const raw = read(env, 'DATABASE_URL');
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      'must be a URL like postgres://user:password@host:5432/database?sslmode=require',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got '${url.protocol}//…'`);
  }
  if (!url.hostname)
    throw new ConfigError(
      'DATABASE_URL',
      'must name the database server (postgres://user:password@host:5432/database)',
    );
  if (url.pathname.length <= 1)
    throw new ConfigError(
      'DATABASE_URL',
      'must name the database after the host (postgres://user:password@host:5432/database)',
    );
  const sslmode = url.searchParams.get('sslmode');
  if (
    sslmode !== null &&
    !['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'].includes(sslmode)
  ) {
    throw new ConfigError('DATABASE_URL', `has an unknown sslmode '${sslmode}'`);
  }
  return raw;
}

/** A retention of at least `minMs` (another setting that needs the data that long), named in the message. */
function retentionAtLeast(env: Env, name: string, fallback: string, minMs: number, because: string): number {
  const value = duration(env, name, fallback);
  const hours = (ms: number): number => Math.ceil(ms / 3_600_000);
  if (value < minMs) {
    throw new ConfigError(name, `must be at least ${because} (${hours(minMs)}h), got ${hours(value)}h`);
  }
  return value;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function retention(env: Env, s: Pick<Settings, 'operations' | 'guests' | 'alerts'>): RetentionSettings {
  const ops = s.operations;
  const retries = Math.max(ops.retryAfterMs * (ops.retryMax + 1), ops.replicationWaitMs);
  return {
    sweepIntervalMs: duration(env, 'RETENTION_SWEEP_INTERVAL', '1h'),
    auditMs: retentionAtLeast(env, 'AUDIT_RETENTION', '365d', 30 * DAY, '30 days'),
    removedGuestsMs: duration(env, 'REMOVED_GUEST_RETENTION', '90d'),
    finishedOperationsMs: retentionAtLeast(
      env,
      'OPERATION_RETENTION',
      '30d',
      retries + DAY,
      'the automatic retries and REPLICATION_WAIT plus a day',
    ),
    closedRequestsMs: duration(env, 'REQUEST_RETENTION', '90d'),
    dialogStateMs: retentionAtLeast(env, 'DIALOG_STATE_RETENTION', '7d', HOUR, 'an hour'),
    reviewStateMs: retentionAtLeast(
      env,
      'REVIEW_STATE_RETENTION',
      '60d',
      s.guests.reviewGraceMs + DAY,
      'GUEST_REVIEW_GRACE plus a day',
    ),
    rateKeysMs: retentionAtLeast(
      env,
      'RATE_KEY_RETENTION',
      '7d',
      Math.max(s.guests.resendCooldownMs, HOUR),
      'RESEND_COOLDOWN and an hour',
    ),
    alertsMs: retentionAtLeast(env, 'ALERT_RETENTION', '90d', s.alerts.quietPeriodMs, 'ALERT_QUIET_PERIOD'),
  };
}

export function loadSettings(env: Env = process.env): Settings {
  const auth = botAuth(env);
  const host = read(env, 'HOST') ?? (auth ? '0.0.0.0' : '127.0.0.1');
  if (!auth && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new ConfigError(
      'HOST',
      `must be a loopback address while no bot credentials are configured (MicrosoftAppId is empty), got '${host}'`,
    );
  }
  const graphSettings = graph(env);
  if (graphSettings.mode === 'live' && graphSettings.clientSecret && !graphSettings.clientId) {
    throw new ConfigError('GRAPH_CLIENT_ID', 'is required when GRAPH_CLIENT_SECRET is set');
  }
  // Without bot credentials the adapter takes any request without a token: never with a real tenant's directory.
  if (graphSettings.mode === 'live' && !auth) {
    throw new ConfigError(
      'MicrosoftAppId',
      'is required when GRAPH_MODE=live (without bot credentials anyone who reaches the endpoint could act as any user)',
    );
  }
  const allowedTenantIds = guidList(env, 'ALLOWED_TENANT_IDS');
  // Live: only the Graph tenant unless ALLOWED_TENANT_IDS says otherwise (the directory the bot reads is that one).
  if (graphSettings.mode === 'live' && allowedTenantIds.length === 0)
    allowedTenantIds.push(graphSettings.tenantId.toLowerCase());
  const settings: Omit<Settings, 'retention'> = {
    port: port(env, 'PORT', 3978),
    host,
    botAuth: auth,
    graph: graphSettings,
    storePath: path.resolve(read(env, 'STORE_PATH') ?? './.data/bot.sqlite'),
    databaseUrl: databaseUrl(env),
    databasePoolMax: positiveInteger(env, 'DATABASE_POOL_MAX', 10),
    defaultRedirectUrl: httpsUrl(env, 'INVITE_REDIRECT_URL_DEFAULT', 'https://myapps.microsoft.com'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    operations: {
      leaseMs: duration(env, 'OPERATION_LEASE', '60s'),
      resumeIntervalMs: duration(env, 'OPERATION_RESUME_INTERVAL', '30s'),
      retryAfterMs: duration(env, 'OPERATION_RETRY_AFTER', '15m'),
      retryMax: integer(env, 'OPERATION_RETRY_MAX', 3, 0),
      replicationWaitMs: duration(env, 'REPLICATION_WAIT', '15m'),
    },
    shutdownTimeoutMs: duration(env, 'SHUTDOWN_TIMEOUT', '10s'),
    actionsPerUserPerHour: positiveInteger(env, 'INVITES_PER_USER_PER_HOUR', 20),
    readsPerUserPerHour: positiveInteger(env, 'READS_PER_USER_PER_HOUR', 60),
    bulk: { maxAddresses: bulkMax(env), recheckAfterMs: duration(env, 'BULK_RECHECK_AFTER', '5m') },
    files: files(env),
    allowedTenantIds,
    alerts: {
      adminUserIds: guidList(env, 'ADMIN_USER_IDS'),
      quietPeriodMs: duration(env, 'ALERT_QUIET_PERIOD', '24h'),
      scanIntervalMs: duration(env, 'SETUP_SCAN_INTERVAL', '24h'),
    },
    requests: {
      remindAfterMs: duration(env, 'REQUEST_REMIND_AFTER', '48h'),
      expireAfterMs: duration(env, 'REQUEST_EXPIRE_AFTER', '14d'),
      sweepIntervalMs: duration(env, 'REQUEST_SWEEP_INTERVAL', '5m'),
    },
    guests: {
      resendCooldownMs: duration(env, 'RESEND_COOLDOWN', '24h'),
      reviewIntervalMs: duration(env, 'GUEST_REVIEW_INTERVAL', '90d'),
      reviewGraceMs: duration(env, 'GUEST_REVIEW_GRACE', '14d'),
      reviewDefault: oneOf(env, 'GUEST_REVIEW_DEFAULT', ['remove', 'keep'] as const, 'remove'),
      invitationStaleAfterMs: duration(env, 'INVITATION_STALE_AFTER', '30d'),
      sponsorsInEntra: oneOf(env, 'GUEST_SPONSORS_IN_ENTRA', ['false', 'true'] as const, 'false') === 'true',
    },
    telemetry: telemetry(env),
    teamsApp: { manifestId: optionalGuid(env, 'TEAMS_APP_ID'), catalogId: optionalGuid(env, 'TEAMS_APP_CATALOG_ID') },
  };
  return { ...settings, retention: retention(env, settings) };
}

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
  const otlp = [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  ];
  for (const name of otlp) {
    const value = read(env, name);
    if (value === undefined) continue;
    if (!/^https?:\/\/[^/]/.test(value)) throw new ConfigError(name, `must be an http(s) URL, got '${value}'`);
    return { exporter: 'otlp' };
  }
  return { exporter: 'none' };
}
