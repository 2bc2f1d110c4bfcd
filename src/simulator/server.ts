/**
 * The simulator's HTTP host: it listens, reads each request, sends `/_simulator` requests to the control routes and
 * Graph requests through the stages (bearer token, fault injection, error boundary) to `$batch` or the router of
 * the v1.0 endpoints (`graphApi.ts`, whose handlers are the route tables of `api/`).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchRunner } from './batch';
import { ControlRoutes, isControlPath } from './controlRoutes';
import { badRequest, methodNotAllowed } from './errors';
import { FaultInjector } from './faults';
import type { FaultPlan, FaultStats } from './faultPlan';
import { GraphApi } from './graphApi';
import { readBody, splitUrl, toSimRequest, writeGraphResponse } from './httpMessages';
import { MAX_TOP } from './odata';
import { Grant } from './permissions';
import { compose, type Handler, type SimRequest, type SimResponse } from './pipeline';
import { arrival, RequestLog, type RequestLogEntry } from './requestLog';
import { validateSeed, type TenantSeed } from './seed';
import { authStage, errorBoundary, errorResponse } from './stages';
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

const INVALID_JSON =
  'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';

class Simulator {
  readonly tenant: Tenant;
  readonly teamsApps: TeamsApps;
  readonly log: RequestLog;
  readonly faults: FaultInjector;
  private readonly api: GraphApi;
  private readonly control: ControlRoutes;
  private readonly batch: BatchRunner;
  /** Top-level requests: token check, then the same stages as batch sub-requests. */
  private readonly topLevel: Handler;
  private grant: Grant;

  constructor(options: SimulatorOptions) {
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
    this.log = new RequestLog(options.recordBodies ?? false);
    this.faults = new FaultInjector(this.tenant.id, options.faults ?? null, now);
    this.control = new ControlRoutes(this.tenant, this.faults, this.log, options.adminToken ?? options.token);
    // Stages run in front of the handlers for every request, batch sub-requests included.
    const dispatch = errorBoundary((req) => this.dispatch(req));
    this.batch = new BatchRunner(errorBoundary(compose([this.faults.stage], dispatch)), this.log);
    this.topLevel = errorBoundary(compose([authStage(options.token), this.faults.stage], dispatch));
  }

  setApplicationPermissions(permissions: readonly string[] | null): void {
    this.grant = new Grant(permissions);
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
      return this.batch.run(req);
    }
    return this.api.handle(req);
  }

  async handleHttp(req: http.IncomingMessage, res: http.ServerResponse, baseUrl: string): Promise<void> {
    const when = arrival();
    const text = await readBody(req);
    if (isControlPath(splitUrl(req.url ?? '/').path)) {
      this.control.handle(req, res, text, baseUrl, when);
      return;
    }
    const { simReq, invalidJson } = toSimRequest(req, text, baseUrl);
    const response = invalidJson ? errorResponse(badRequest(INVALID_JSON), simReq) : await this.topLevel(simReq);
    this.log.record(simReq, response, when);
    writeGraphResponse(req, res, simReq, response);
  }
}

function shownHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function running(simulator: Simulator, server: http.Server, baseUrl: string): RunningSimulator {
  return {
    url: baseUrl,
    graphBaseUrl: `${baseUrl}/v1.0`,
    requests: () => simulator.log.list(),
    clearRequests: () => simulator.log.clear(),
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
  };
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
      baseUrl = `http://${shownHost(host)}:${address.port}`;
      resolve(running(simulator, server, baseUrl));
    });
  });
}
