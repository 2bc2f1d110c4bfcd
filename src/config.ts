/** Typed settings, read and validated in one place at start-up. */
import path from 'node:path';
import type { LogLevel } from './logging';

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
  defaultRedirectUrl: string;
  logLevel: LogLevel;
  requests: { remindAfterMs: number; expireAfterMs: number; sweepIntervalMs: number };
  alerts: { adminUserIds: string[]; quietPeriodMs: number; scanIntervalMs: number };
  /** New invitations (and new requests) per user and hour. */
  actionsPerUserPerHour: number;
  /** Bulk invitations: most addresses in one list (BULK_INVITE_MAX); owners re-read before adding after BULK_RECHECK_AFTER. */
  bulk: { maxAddresses: number; recheckAfterMs: number };
  /** Empty: any tenant. */
  allowedTenantIds: string[];
  /** How long a process holds a directory operation before another may resume it; resume check interval. */
  operations: { leaseMs: number; resumeIntervalMs: number; retryAfterMs: number; retryMax: number; replicationWaitMs: number };
  /** How long a stopping process waits for turns and operations in flight (SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
  /** The guest lifecycle: resends, periodic reviews, sponsors in Entra. */
  guests: GuestSettings;
  /**
   * The Teams app, for installing it for people who never opened it: the manifest's id (TEAMS_APP_ID, to find the
   * catalog id from an existing installation) and its id in the org catalog (TEAMS_APP_CATALOG_ID, set by an admin).
   */
  teamsApp: { manifestId: string | null; catalogId: string | null };
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

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as 90s, 15m, 48h or 14d (a bare number is seconds). */
function duration(env: Env, name: string, fallback: string): number {
  const raw = read(env, name) ?? fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw);
  if (!match || Number(match[1]) <= 0) throw new ConfigError(name, `must be a positive duration like 90s, 15m, 48h or 14d, got '${raw}'`);
  return Math.round(Number(match[1]) * units[(match[2] ?? 's').toLowerCase()]);
}

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(name, `must be a whole number of at least ${min}, got '${raw}'`);
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
  const appType = oneOf(env, 'MicrosoftAppType', ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'] as const, 'MultiTenant');
  const appPassword = read(env, 'MicrosoftAppPassword') ?? '';
  if (appType !== 'UserAssignedMSI' && !appPassword) {
    throw new ConfigError('MicrosoftAppPassword', `is required when MicrosoftAppId is set and MicrosoftAppType is ${appType}`);
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
    if (!tenantId || !guid.test(tenantId)) throw new ConfigError('GRAPH_TENANT_ID', 'must be the tenant id (a GUID) when GRAPH_MODE=live');
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
    throw new ConfigError('DATABASE_URL', 'must be a URL like postgres://user:password@host:5432/database?sslmode=require');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got '${url.protocol}//…'`);
  }
  if (!url.hostname) throw new ConfigError('DATABASE_URL', 'must name the database server (postgres://user:password@host:5432/database)');
  if (url.pathname.length <= 1) throw new ConfigError('DATABASE_URL', 'must name the database after the host (postgres://user:password@host:5432/database)');
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && !['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'].includes(sslmode)) {
    throw new ConfigError('DATABASE_URL', `has an unknown sslmode '${sslmode}'`);
  }
  return raw;
}

export function loadSettings(env: Env = process.env): Settings {
  const auth = botAuth(env);
  const host = read(env, 'HOST') ?? (auth ? '0.0.0.0' : '127.0.0.1');
  if (!auth && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new ConfigError('HOST', `must be a loopback address while no bot credentials are configured (MicrosoftAppId is empty), got '${host}'`);
  }
  const graphSettings = graph(env);
  if (graphSettings.mode === 'live' && graphSettings.clientSecret && !graphSettings.clientId) {
    throw new ConfigError('GRAPH_CLIENT_ID', 'is required when GRAPH_CLIENT_SECRET is set');
  }
  return {
    port: port(env, 'PORT', 3978),
    host,
    botAuth: auth,
    graph: graphSettings,
    storePath: path.resolve(read(env, 'STORE_PATH') ?? './.data/bot.sqlite'),
    databaseUrl: databaseUrl(env),
    defaultRedirectUrl: httpUrl(env, 'INVITE_REDIRECT_URL_DEFAULT', 'https://myapps.microsoft.com'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    operations: {
      leaseMs: duration(env, 'OPERATION_LEASE', '60s'),
      resumeIntervalMs: duration(env, 'OPERATION_RESUME_INTERVAL', '30s'),
      retryAfterMs: duration(env, 'OPERATION_RETRY_AFTER', '15m'),
      retryMax: integer(env, 'OPERATION_RETRY_MAX', 3, 0),
      replicationWaitMs: duration(env, 'REPLICATION_WAIT', '15m'),
    },
    shutdownTimeoutMs: duration(env, 'SHUTDOWN_TIMEOUT', '10s'),
    actionsPerUserPerHour: positiveInteger(env, 'INVITES_PER_USER_PER_HOUR', 20),
    bulk: { maxAddresses: bulkMax(env), recheckAfterMs: duration(env, 'BULK_RECHECK_AFTER', '5m') },
    allowedTenantIds: guidList(env, 'ALLOWED_TENANT_IDS'),
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
    teamsApp: { manifestId: optionalGuid(env, 'TEAMS_APP_ID'), catalogId: optionalGuid(env, 'TEAMS_APP_CATALOG_ID') },
  };
}
