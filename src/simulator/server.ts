import { randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphError, badRequest, errorBody, methodNotAllowed } from './errors';
import { FaultInjector, type FaultPlan, type FaultStats } from './faults';
import { GraphApi, JSON_CONTENT_TYPE } from './graphApi';
import { isJsonObject } from './json';
import { MAX_TOP } from './odata';
import { Grant } from './permissions';
import { compose, headerValue, type Handler, type SimRequest, type SimResponse, type Stage } from './pipeline';
import { validateSeed, type TenantSeed } from './seed';
import { Tenant } from './tenant';
import { TeamsApps } from './teamsApps';

export interface SimulatorOptions {
  seed: TenantSeed;
  /** 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, only this bearer token is accepted (and the /_simulator routes need it, unless adminToken is set). */
  token?: string;
  /** The bearer token for the /_simulator routes (default: `token`); none when neither is set. */
  adminToken?: string;
  /**
   * Server page size for collections (default 100, Graph's default). When set, it is also the largest page
   * returned whatever $top asks, so small values force @odata.nextLink paging; when unset, $top is honoured up to 999.
   */
  pageSize?: number;
  /** Keep request and response bodies in the log (for contract tests). */
  recordBodies?: boolean;
  /** Fault injection plan (latency, 429/5xx, replication lag); none by default. */
  faults?: FaultPlan | null;
  /** The clock (milliseconds since the epoch) for lags and created times; tests inject a fake one. Default Date.now. */
  now?: () => number;
}

export interface RequestLogEntry {
  id: string;
  method: string;
  /** Path and query as received, e.g. /v1.0/groups/{id}?$select=id */
  url: string;
  status: number;
  /** ISO time the request arrived. */
  time: string;
  durationMs: number;
  requestId: string;
  /** For sub-requests of a $batch: the log id of the enclosing batch. */
  batchId?: string;
  requestBody?: unknown;
  responseBody?: unknown;
  /** Injected fault: '429', '500', '502', '503', '504', 'lag' (replication lag hid an object) or 'latency' (delay only). */
  fault?: string;
  /** Latency added by fault injection, in milliseconds. */
  injectedLatencyMs?: number;
  /**
   * For '504-after-write' and 'drop-after-write': the status the handlers answered before the gateway fault
   * replaced it (e.g. 201 for an invitation that took effect). `status` is 0 when the connection was dropped.
   */
  appliedStatus?: number;
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:5980 */
  url: string;
  /** url + '/v1.0' */
  graphBaseUrl: string;
  requests(): RequestLogEntry[];
  clearRequests(): void;
  /** Replaces the fault plan (counters start afresh); null turns fault injection off. Throws on an invalid plan. */
  setFaults(plan: FaultPlan | null): void;
  /** The current fault plan, or null. */
  faultPlan(): FaultPlan | null;
  /** Counters of the current fault plan. */
  faultStats(): FaultStats;
  /** POST /invitations that took effect (also those whose answer was lost), per lower-cased invited address. */
  invitationCounts(): Record<string, number>;
  /** Replaces the seed's `applicationPermissions`; null allows everything. */
  setApplicationPermissions(permissions: readonly string[] | null): void;
  /** The org app catalog and personal-scope installations (`teamsApps` in the seed); the Teams double links here. */
  teamsApps: TeamsApps;
  close(): Promise<void>;
}

const MAX_BATCH_REQUESTS = 20;
const BATCH_METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

interface BatchResponseItem {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function errorResponse(err: GraphError, req: SimRequest): SimResponse {
  return {
    status: err.status,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, ...err.headers },
    body: errorBody(err.code, err.message, req.requestId, req.clientRequestId, err.innerCode),
  };
}

/** Turns thrown errors into Graph error responses. */
function errorBoundary(handler: Handler): Handler {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      if (err instanceof GraphError) return errorResponse(err, req);
      const message = err instanceof Error ? err.message : String(err);
      return errorResponse(new GraphError(500, 'generalException', `Unexpected simulator failure: ${message}`), req);
    }
  };
}

function authStage(token: string | undefined): Stage {
  const challenge = {
    'WWW-Authenticate':
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  };
  return async (req, next) => {
    const header = headerValue(req.headers, 'authorization') ?? '';
    const m = /^Bearer\s+(.*)$/i.exec(header.trim());
    const presented = m ? m[1].trim() : '';
    if (presented === '') {
      return errorResponse(new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', challenge), req);
    }
    if (token !== undefined && presented !== token) {
      return errorResponse(
        new GraphError(
          401,
          'InvalidAuthenticationToken',
          'Access token validation failure. Invalid audience.',
          challenge,
        ),
        req,
      );
    }
    return next(req);
  };
}

function lowerHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  return { path, query };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBatchItems(body: unknown): BatchItem[] {
  if (!isJsonObject(body) || !Array.isArray(body.requests)) {
    throw badRequest("Invalid batch payload format: the body must be a JSON object with a 'requests' array.");
  }
  const requests = body.requests;
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw badRequest('Number of requests inside batch exceed the limit.');
  }
  const items: BatchItem[] = requests.map((raw, index) => {
    if (!isJsonObject(raw)) throw badRequest(`Invalid batch payload format: request ${index} is not an object.`);
    const { id, method, url } = raw;
    if (typeof id !== 'string' || id === '')
      throw badRequest(`Invalid batch payload format: request ${index} has no id.`);
    if (typeof method !== 'string' || !BATCH_METHODS.has(method.toUpperCase())) {
      throw badRequest(`Invalid batch payload format: request '${id}' has an invalid method.`);
    }
    if (typeof url !== 'string' || url === '')
      throw badRequest(`Invalid batch payload format: request '${id}' has no url.`);
    const headers: Record<string, string> = {};
    if (raw.headers !== undefined) {
      if (!isJsonObject(raw.headers))
        throw badRequest(`Invalid batch payload format: headers of request '${id}' must be an object.`);
      for (const [k, v] of Object.entries(raw.headers)) headers[k.toLowerCase()] = String(v);
    }
    let dependsOn: string[] = [];
    if (raw.dependsOn !== undefined) {
      if (!Array.isArray(raw.dependsOn) || raw.dependsOn.some((d) => typeof d !== 'string')) {
        throw badRequest(`Invalid batch payload format: dependsOn of request '${id}' must be an array of ids.`);
      }
      dependsOn = raw.dependsOn as string[];
    }
    const hasBody = raw.body !== undefined && raw.body !== null;
    const isWrite = ['POST', 'PATCH', 'PUT'].includes(method.toUpperCase());
    if ((hasBody || isWrite) && (!hasBody || !headers['content-type'])) {
      throw badRequest(`Write request id : ${id} does not contain Content-Type header or body.`);
    }
    return { id, method: method.toUpperCase(), url, headers, body: raw.body, dependsOn };
  });
  const seen = new Set<string>();
  for (const item of items) {
    const key = item.id.toLowerCase();
    if (seen.has(key)) throw badRequest(`Batch request contains duplicate request id '${item.id}'.`);
    seen.add(key);
  }
  for (const item of items) {
    for (const d of item.dependsOn) {
      if (!seen.has(d.toLowerCase()))
        throw badRequest(`Request '${item.id}' depends on '${d}', which is not in the batch.`);
    }
  }
  return items;
}

/** Orders batch items so that each comes after its dependencies; refuses cycles. */
function executionOrder(items: BatchItem[]): BatchItem[] {
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: BatchItem[] = [];
  const visit = (item: BatchItem): void => {
    const key = item.id.toLowerCase();
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting') throw badRequest(`The dependsOn chain of request '${item.id}' is circular.`);
    state.set(key, 'visiting');
    for (const d of item.dependsOn) {
      const dep = byId.get(d.toLowerCase());
      if (dep) visit(dep);
    }
    state.set(key, 'done');
    order.push(item);
  };
  for (const item of items) visit(item);
  return order;
}

class Simulator {
  readonly tenant: Tenant;
  readonly teamsApps: TeamsApps;
  private readonly api: GraphApi;
  private readonly log: RequestLogEntry[] = [];
  readonly faults: FaultInjector;
  /** Stages run in front of the handlers for every request, batch sub-requests included. */
  private readonly frontStages: Stage[] = [];
  private readonly topLevel: Handler;
  private readonly subRequest: Handler;

  private grant: Grant;

  constructor(private readonly options: SimulatorOptions) {
    const seed = validateSeed(options.seed);
    const now = options.now ?? Date.now;
    const indexLag = (): number => this.faults.indexLag() ?? seed.indexLag ?? 0;
    this.grant = new Grant(seed.applicationPermissions);
    this.tenant = new Tenant(seed, now, indexLag);
    this.teamsApps = new TeamsApps(seed.teamsApps);
    this.api = new GraphApi(this.tenant, options.pageSize ?? 100, options.pageSize ?? MAX_TOP, {
      grant: () => this.grant,
      now,
      indexLag,
      teamsApps: this.teamsApps,
    });
    this.faults = new FaultInjector(this.tenant.id, options.faults ?? null, now);
    this.frontStages.push(this.faults.stage);
    const dispatch = errorBoundary((req) => this.dispatch(req));
    this.topLevel = errorBoundary(compose([authStage(options.token), ...this.frontStages], dispatch));
    this.subRequest = errorBoundary(compose(this.frontStages, dispatch));
  }

  setApplicationPermissions(permissions: readonly string[] | null): void {
    this.grant = new Grant(permissions);
  }

  requests(): RequestLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  private record(req: SimRequest, res: SimResponse, started: number, startedAt: string): void {
    const entry: RequestLogEntry = {
      id: req.logId,
      method: req.method,
      url: req.url,
      status: res.status,
      time: startedAt,
      durationMs: Date.now() - started,
      requestId: req.requestId,
    };
    if (req.batchId) entry.batchId = req.batchId;
    if (req.fault) entry.fault = req.fault;
    if (req.injectedLatencyMs) entry.injectedLatencyMs = req.injectedLatencyMs;
    if (res.appliedStatus !== undefined) entry.appliedStatus = res.appliedStatus;
    if (res.dropConnection) entry.status = 0;
    if (this.options.recordBodies) {
      if (req.body !== undefined) entry.requestBody = req.body;
      if (res.body !== undefined) entry.responseBody = JSON.parse(JSON.stringify(res.body)) as unknown;
    }
    this.log.push(entry);
  }

  private async dispatch(req: SimRequest): Promise<SimResponse> {
    const { path } = req;
    const first = path.split('/').filter((s) => s.length > 0)[0] ?? '';
    if (first.toLowerCase() !== 'v1.0') {
      throw badRequest(first === '' ? 'Invalid version.' : `Invalid version: ${first}`);
    }
    if (/^\/v1\.0\/\$batch\/?$/i.test(path)) {
      if (req.batchId) throw badRequest('Nested batch requests are not supported.');
      if (req.method !== 'POST') throw methodNotAllowed();
      return this.batch(req);
    }
    return this.api.handle(req);
  }

  private async batch(req: SimRequest): Promise<SimResponse> {
    const items = parseBatchItems(req.body);
    const order = executionOrder(items);
    const results = new Map<string, BatchResponseItem>();
    for (const item of order) {
      const started = Date.now();
      const startedAt = new Date(started).toISOString();
      const relative = item.url.replace(/^\/+/, '');
      const sub: SimRequest = {
        logId: randomUUID(),
        method: item.method,
        url: `/v1.0/${relative}`,
        ...splitUrl(`/v1.0/${relative}`),
        headers: { ...item.headers, authorization: req.headers.authorization ?? '' },
        body: item.body,
        baseUrl: req.baseUrl,
        requestId: randomUUID(),
        clientRequestId: item.headers['client-request-id'] ?? req.clientRequestId,
        batchId: req.logId,
      };
      const failed = item.dependsOn.find((d) => {
        const r = results.get(d.toLowerCase());
        return !r || r.status >= 400;
      });
      let res: SimResponse;
      if (failed !== undefined) {
        res = errorResponse(
          new GraphError(
            424,
            'FailedDependency',
            `The request could not be processed because dependent request '${failed}' failed.`,
          ),
          sub,
        );
      } else if (/^https?:/i.test(item.url)) {
        res = errorResponse(
          badRequest(`The URL of request '${item.id}' must be relative to the $batch endpoint.`),
          sub,
        );
      } else {
        res = await this.subRequest(sub);
      }
      this.record(sub, res, started, startedAt);
      const out: BatchResponseItem = { id: item.id, status: res.status, headers: res.headers };
      if (res.body !== undefined) out.body = res.body;
      results.set(item.id.toLowerCase(), out);
    }
    const responses = [...results.values()].reverse();
    return { status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: { responses } };
  }

  async handleHttp(req: http.IncomingMessage, res: http.ServerResponse, baseUrl: string): Promise<void> {
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    const url = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const { path, query } = splitUrl(url);
    const text = await readBody(req);

    // The simulator's own routes change the tenant and show every request: with a token set, they need it too
    // (only the health probe stays open).
    if (/^\/_simulator(\/|$)/.test(path) && path !== '/_simulator/health' && !this.adminAllowed(req)) {
      res.writeHead(401, { 'Content-Type': 'application/json; charset=utf-8', 'WWW-Authenticate': 'Bearer' });
      res.end(
        JSON.stringify({
          error: 'The simulator routes need the Authorization: Bearer token the simulator was started with.',
        }),
      );
      return;
    }
    const redeem = /^\/_simulator\/users\/([^/]+)\/redeem\/?$/.exec(path);
    if (redeem && method === 'POST') {
      // Test-only: the guest accepted the invitation. Kept in the request log like the Graph calls.
      const logged: SimRequest = {
        logId: randomUUID(),
        method,
        url,
        path,
        query,
        headers: {},
        body: undefined,
        baseUrl,
        requestId: randomUUID(),
        clientRequestId: randomUUID(),
      };
      let response: SimResponse;
      try {
        const user = this.tenant.redeem(decodeURIComponent(redeem[1]));
        response = {
          status: 200,
          headers: {},
          body: {
            id: user.id,
            externalUserState: user.externalUserState,
            externalUserStateChangeDateTime: user.externalUserStateChangeDateTime,
          },
        };
      } catch (err) {
        response = errorResponse(
          err instanceof GraphError ? err : new GraphError(500, 'generalException', String(err)),
          logged,
        );
      }
      this.record(logged, response, started, startedAt);
      res.writeHead(response.status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(response.body));
      return;
    }
    if (/^\/_simulator(\/|$)/.test(path)) {
      this.admin(method, path, text, res);
      return;
    }

    const headers = lowerHeaders(req.headers);
    const host = headers.host;
    const simReq: SimRequest = {
      logId: randomUUID(),
      method,
      url,
      path,
      query,
      headers,
      body: undefined,
      baseUrl: host ? `http://${host}` : baseUrl,
      requestId: randomUUID(),
      clientRequestId: headers['client-request-id'] ?? randomUUID(),
    };
    let response: SimResponse;
    let invalidJson = false;
    if (text.trim() !== '') {
      try {
        simReq.body = JSON.parse(text) as unknown;
      } catch {
        invalidJson = true;
        simReq.body = text;
      }
    }
    if (invalidJson) {
      response = errorResponse(
        badRequest(
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
        ),
        simReq,
      );
    } else {
      response = await this.topLevel(simReq);
    }
    this.record(simReq, response, started, startedAt);
    if (response.dropConnection) {
      req.socket.destroy();
      return;
    }
    const outHeaders: Record<string, string> = {
      ...response.headers,
      'request-id': simReq.requestId,
      'client-request-id': simReq.clientRequestId,
    };
    if (response.status === 204 || response.body === undefined) {
      res.writeHead(response.status, outHeaders);
      res.end();
      return;
    }
    const payload = JSON.stringify(response.body);
    res.writeHead(response.status, { ...outHeaders, 'Content-Length': Buffer.byteLength(payload).toString() });
    res.end(payload);
  }

  /** Whether a request may use /_simulator routes: any when no token is set (tests), else the token. */
  private adminAllowed(req: http.IncomingMessage): boolean {
    const token = this.options.adminToken ?? this.options.token;
    if (token === undefined) return true;
    const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = Buffer.from(presented);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private admin(method: string, path: string, text: string, res: http.ServerResponse): void {
    const send = (status: number, body?: unknown): void => {
      if (body === undefined) {
        res.writeHead(status);
        res.end();
        return;
      }
      const payload = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(payload);
    };
    const route = path.replace(/\/+$/, '');
    if (route === '/_simulator/requests' && method === 'GET') return send(200, { requests: this.requests() });
    if (route === '/_simulator/requests' && method === 'DELETE') {
      this.clearRequests();
      return send(204);
    }
    if (route === '/_simulator/faults') {
      const current = (): unknown => ({ plan: this.faults.plan(), stats: this.faults.stats() });
      if (method === 'GET') return send(200, current());
      if (method === 'DELETE') {
        this.faults.setPlan(null);
        return send(204);
      }
      if (method === 'POST' || method === 'PUT') {
        try {
          this.faults.setPlan(JSON.parse(text) as FaultPlan);
        } catch (err) {
          return send(400, { error: { code: 'BadRequest', message: `Invalid fault plan: ${(err as Error).message}` } });
        }
        return send(200, current());
      }
    }
    if (route === '/_simulator/health' && method === 'GET') {
      return send(200, { status: 'ok', tenant: { id: this.tenant.id, displayName: this.tenant.displayName } });
    }
    send(404, { error: { code: 'NotFound', message: `No simulator endpoint ${method} ${path}.` } });
  }
}

export function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  let simulator: Simulator;
  try {
    simulator = new Simulator(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const host = options.host ?? '127.0.0.1';
  let baseUrl = '';
  const server = http.createServer((req, res) => {
    simulator.handleHttp(req, res, baseUrl).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'generalException', message: String(err) } }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      baseUrl = `http://${shownHost}:${address.port}`;
      resolve({
        url: baseUrl,
        graphBaseUrl: `${baseUrl}/v1.0`,
        requests: () => simulator.requests(),
        clearRequests: () => simulator.clearRequests(),
        setFaults: (plan) => simulator.faults.setPlan(plan),
        faultPlan: () => simulator.faults.plan(),
        faultStats: () => simulator.faults.stats(),
        invitationCounts: () => simulator.tenant.invitationCounts(),
        setApplicationPermissions: (permissions) => simulator.setApplicationPermissions(permissions),
        teamsApps: simulator.teamsApps,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
