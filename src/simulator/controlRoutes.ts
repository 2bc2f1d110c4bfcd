/**
 * The simulator's own routes under `/_simulator` (not Graph): the request log, the fault plan, a health probe and
 * a guest redeeming an invitation. With a token set they need it too; only the health probe stays open.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';
import { GraphError } from './errors';
import type { FaultInjector } from './faults';
import type { FaultPlan } from './faultPlan';
import { sendJson, splitUrl } from './httpMessages';
import type { SimRequest, SimResponse } from './pipeline';
import type { Arrival, RequestLog } from './requestLog';
import { errorResponse } from './stages';
import type { Tenant } from './tenant';

const CONTROL_PATH = /^\/_simulator(\/|$)/;
const REDEEM_PATH = /^\/_simulator\/users\/([^/]+)\/redeem\/?$/;

export function isControlPath(path: string): boolean {
  return CONTROL_PATH.test(path);
}

export class ControlRoutes {
  /** @param token the bearer token these routes need; none (tests) lets every request through */
  constructor(
    private readonly tenant: Tenant,
    private readonly faults: FaultInjector,
    private readonly log: RequestLog,
    private readonly token: string | undefined,
  ) {}

  /** Answers a request whose path starts with /_simulator. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, text: string, baseUrl: string, when: Arrival): void {
    const url = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const { path } = splitUrl(url);
    if (path !== '/_simulator/health' && !this.allowed(req)) {
      const error = 'The simulator routes need the Authorization: Bearer token the simulator was started with.';
      sendJson(res, 401, { error }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    const redeem = REDEEM_PATH.exec(path);
    if (redeem && method === 'POST') {
      const response = this.redeem(decodeURIComponent(redeem[1]), method, url, baseUrl, when);
      sendJson(res, response.status, response.body);
      return;
    }
    this.route(method, path, text, res);
  }

  /** Whether a request may use these routes: any when no token is set (tests), else the token. */
  private allowed(req: http.IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = Buffer.from(presented);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Test-only: the guest accepted the invitation. Kept in the request log like the Graph calls. */
  private redeem(userId: string, method: string, url: string, baseUrl: string, when: Arrival): SimResponse {
    const logged: SimRequest = {
      logId: randomUUID(),
      method,
      url,
      ...splitUrl(url),
      headers: {},
      body: undefined,
      baseUrl,
      requestId: randomUUID(),
      clientRequestId: randomUUID(),
    };
    let response: SimResponse;
    try {
      const user = this.tenant.redeem(userId);
      const { id, externalUserState, externalUserStateChangeDateTime } = user;
      response = { status: 200, headers: {}, body: { id, externalUserState, externalUserStateChangeDateTime } };
    } catch (err) {
      const error = err instanceof GraphError ? err : new GraphError(500, 'generalException', String(err));
      response = errorResponse(error, logged);
    }
    this.log.record(logged, response, when);
    return response;
  }

  private route(method: string, path: string, text: string, res: http.ServerResponse): void {
    const route = path.replace(/\/+$/, '');
    if (route === '/_simulator/requests' && method === 'GET') return sendJson(res, 200, { requests: this.log.list() });
    if (route === '/_simulator/requests' && method === 'DELETE') {
      this.log.clear();
      return sendJson(res, 204);
    }
    if (route === '/_simulator/faults' && ['GET', 'DELETE', 'POST', 'PUT'].includes(method)) {
      return this.faultRoute(method, text, res);
    }
    if (route === '/_simulator/health' && method === 'GET') {
      const tenant = { id: this.tenant.id, displayName: this.tenant.displayName };
      return sendJson(res, 200, { status: 'ok', tenant });
    }
    sendJson(res, 404, { error: { code: 'NotFound', message: `No simulator endpoint ${method} ${path}.` } });
  }

  /** GET shows the plan and its counters, DELETE turns faults off, POST or PUT sets a new plan. */
  private faultRoute(method: string, text: string, res: http.ServerResponse): void {
    const current = (): unknown => ({ plan: this.faults.plan(), stats: this.faults.stats() });
    if (method === 'GET') return sendJson(res, 200, current());
    if (method === 'DELETE') {
      this.faults.setPlan(null);
      return sendJson(res, 204);
    }
    try {
      this.faults.setPlan(JSON.parse(text) as FaultPlan);
    } catch (err) {
      return sendJson(res, 400, {
        error: { code: 'BadRequest', message: `Invalid fault plan: ${(err as Error).message}` },
      });
    }
    sendJson(res, 200, current());
  }
}
