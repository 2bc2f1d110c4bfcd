/** The one factory for the Microsoft Graph client, in every mode (embedded simulator, external simulator, live). */
import {
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type AuthenticationProvider,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Logger } from '../logging';
import { event, metrics, setAttributes, span } from '../telemetry/telemetry';
import { routeTemplate } from '../telemetry/route';

export type GraphAuth =
  | { kind: 'static'; token: string }
  | { kind: 'clientSecret'; tenantId: string; clientId: string; clientSecret: string }
  | { kind: 'managedIdentity'; clientId: string | null };

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 or http://127.0.0.1:5980/v1.0 */
  baseUrl: string;
  auth: GraphAuth;
  logger: Logger;
  /** The token source to use (default: one made from `auth`), e.g. shared with the readiness check. */
  authProvider?: AuthenticationProvider;
  /** Retries of 429/503/504 by the SDK's RetryHandler (honours Retry-After). */
  maxRetries?: number;
  retryDelaySeconds?: number;
}

function requestUrl(context: Context): string {
  return typeof context.request === 'string' ? context.request : context.request.url;
}

function requestMethod(context: Context): string {
  if (context.options?.method) return context.options.method.toUpperCase();
  return typeof context.request === 'string' ? 'GET' : context.request.method.toUpperCase();
}

function setHeader(context: Context, name: string, value: string): void {
  const options = (context.options ??= {});
  if (options.headers instanceof Headers) {
    options.headers.set(name, value);
  } else if (Array.isArray(options.headers)) {
    options.headers.push([name, value]);
  } else {
    options.headers = { ...(options.headers ?? {}), [name]: value };
  }
}

/** Adds the bearer token to requests for the configured Graph base URL only. */
class BearerTokenHandler implements Middleware {
  private next?: Middleware;
  constructor(
    private readonly provider: AuthenticationProvider,
    private readonly origin: string,
  ) {}
  setNext(next: Middleware): void {
    this.next = next;
  }
  async execute(context: Context): Promise<void> {
    if (new URL(requestUrl(context)).origin === this.origin) {
      setHeader(context, 'Authorization', `Bearer ${await this.provider.getAccessToken()}`);
    }
    await this.next?.execute(context);
  }
}

/** One log line per HTTP exchange with Graph (retries included): method, path, status, request id, duration. */
class RequestLogHandler implements Middleware {
  private next?: Middleware;
  constructor(private readonly logger: Logger) {}
  setNext(next: Middleware): void {
    this.next = next;
  }
  async execute(context: Context): Promise<void> {
    const started = Date.now();
    const url = new URL(requestUrl(context));
    const fields = { method: requestMethod(context), path: url.pathname };
    try {
      await this.next?.execute(context);
    } catch (err) {
      this.logger.warn('graph.request.failed', { ...fields, ms: Date.now() - started, error: err });
      throw err;
    }
    const response = context.response;
    const status = response?.status ?? 0;
    const retryAfter = response?.headers.get('retry-after') ?? undefined;
    const route = routeTemplate(url.pathname);
    metrics.graphAnswer(fields.method, route, status, retryAfter === undefined ? undefined : Number(retryAfter));
    event(status === 429 ? 'graph.throttled' : 'graph.attempt', {
      'http.response.status_code': status,
      ...(retryAfter !== undefined ? { 'http.response.header.retry-after': retryAfter } : {}),
      ...(response?.headers.get('request-id') ? { 'graph.request_id': response.headers.get('request-id') ?? '' } : {}),
    });
    this.logger.info('graph.request', {
      ...fields,
      status: response?.status,
      graphRequestId: response?.headers.get('request-id') ?? undefined,
      retryAfter: response?.headers.get('retry-after') ?? undefined,
      ms: Date.now() - started,
    });
  }
}

/**
 * One client span per Graph request (retries and throttling are events inside it, from RequestLogHandler):
 * method, route template (ids replaced), final status and Graph's `request-id`.
 */
class SpanHandler implements Middleware {
  private next?: Middleware;
  setNext(next: Middleware): void {
    this.next = next;
  }
  async execute(context: Context): Promise<void> {
    const method = requestMethod(context);
    const url = new URL(requestUrl(context));
    const route = routeTemplate(url.pathname);
    await span(
      `${method} ${route}`,
      { 'http.request.method': method, 'url.template': route, 'server.address': url.hostname },
      async () => {
        await this.next?.execute(context);
        const response = context.response;
        setAttributes({
          'http.response.status_code': response?.status ?? 0,
          ...(response?.headers.get('request-id')
            ? { 'graph.request_id': response.headers.get('request-id') ?? '' }
            : {}),
        });
      },
      { kind: 'client' },
    );
  }
}

class StaticTokenProvider implements AuthenticationProvider {
  constructor(private readonly token: string) {}
  async getAccessToken(): Promise<string> {
    return this.token;
  }
}

/** The token source for Graph (readiness asks it for a token without calling Graph). */
export function createAuthProvider(auth: GraphAuth): AuthenticationProvider {
  if (auth.kind === 'static') return new StaticTokenProvider(auth.token);
  const credential: TokenCredential =
    auth.kind === 'clientSecret'
      ? new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret)
      : auth.clientId
        ? new ManagedIdentityCredential({ clientId: auth.clientId })
        : new ManagedIdentityCredential();
  return new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] });
}

/**
 * The SDK retries 429, 503 and 504 and re-sends POST bodies. A 429 means the request was not carried out, so any
 * request may go again; after a 503/504 a write may already have taken effect (a gateway times out after the
 * write: a second `POST /invitations` mails the guest twice), so only reads (GET, and `$batch`, which carries
 * reads only here) are repeated by the SDK; the domain checks a write before repeating it (retryWrite).
 */
export function sdkMayRetry(method: string, url: string, status: number): boolean {
  if (status === 429) return true;
  return method === 'GET' || new URL(url).pathname.endsWith('/$batch');
}

export function createGraphClient(options: GraphClientOptions): Client {
  const base = new URL(options.baseUrl.replace(/\/+$/, ''));
  const version = base.pathname.replace(/^\/+/, '') || 'v1.0';
  const chain: Middleware[] = [
    new SpanHandler(),
    new BearerTokenHandler(options.authProvider ?? createAuthProvider(options.auth), base.origin),
    new RetryHandler(
      new RetryHandlerOptions(
        options.retryDelaySeconds ?? 3,
        options.maxRetries ?? 3,
        (_delay, _attempt, request, fetchOptions, response) =>
          sdkMayRetry(
            (fetchOptions?.method ?? (typeof request === 'string' ? 'GET' : request.method)).toUpperCase(),
            typeof request === 'string' ? request : request.url,
            response.status,
          ),
      ),
    ),
    new RedirectHandler(),
    new RequestLogHandler(options.logger),
    new TelemetryHandler(),
    new HTTPMessageHandler(),
  ];
  for (let i = 0; i < chain.length - 1; i++) chain[i].setNext?.(chain[i + 1]);
  return Client.initWithMiddleware({ middleware: chain[0], baseUrl: `${base.origin}/`, defaultVersion: version });
}
