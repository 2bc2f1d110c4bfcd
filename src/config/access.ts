/**
 * Who may reach the bot and which directory it works on: the HTTP host and port, the bot's credentials, the Graph
 * endpoint and the allowed tenants, with the checks that tie them together (never anonymous with a real tenant).
 */
import path from 'node:path';
import { ConfigError, guid, guidList, httpUrl, oneOf, port, read, type Env } from './parse';

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

export interface AccessSettings {
  port: number;
  host: string;
  /** null: no bot credentials, anonymous local use (loopback only). */
  botAuth: BotAuthSettings | null;
  graph: GraphSettings;
  /** Empty: any tenant (simulator modes only; live mode defaults to the Graph tenant). */
  allowedTenantIds: string[];
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

/** HOST: any address with bot credentials (default 0.0.0.0), only a loopback address without (default 127.0.0.1). */
function host(env: Env, auth: BotAuthSettings | null): string {
  const value = read(env, 'HOST') ?? (auth ? '0.0.0.0' : '127.0.0.1');
  if (!auth && !['127.0.0.1', 'localhost', '::1'].includes(value)) {
    throw new ConfigError(
      'HOST',
      `must be a loopback address while no bot credentials are configured (MicrosoftAppId is empty), got '${value}'`,
    );
  }
  return value;
}

function liveGraph(graphSettings: GraphSettings, auth: BotAuthSettings | null): void {
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
}

export function accessSettings(env: Env): AccessSettings {
  const auth = botAuth(env);
  const hostName = host(env, auth);
  const graphSettings = graph(env);
  liveGraph(graphSettings, auth);
  const allowedTenantIds = guidList(env, 'ALLOWED_TENANT_IDS');
  // Live: only the Graph tenant unless ALLOWED_TENANT_IDS says otherwise (the directory the bot reads is that one).
  if (graphSettings.mode === 'live' && allowedTenantIds.length === 0)
    allowedTenantIds.push(graphSettings.tenantId.toLowerCase());
  return { port: port(env, 'PORT', 3978), host: hostName, botAuth: auth, graph: graphSettings, allowedTenantIds };
}
