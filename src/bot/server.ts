/** The HTTP host: restify, POST /api/messages for the Bot Framework, GET /healthz; stops taking turns on shutdown. */
import restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { ActivityHandler } from 'botbuilder';
import { withLogContext, type Logger } from '../logging';
import { settleWithin } from './background';
import { metrics, span } from '../telemetry/telemetry';

import type { HealthReport } from './health';

export interface ServerOptions {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  logger: Logger;
  /** Readiness (src/bot/health.ts): cached, without error text. */
  health: () => Promise<HealthReport>;
  maxBodyBytes?: number;
}

export interface BotServer {
  server: restify.Server;
  /** Turns being processed now. */
  readonly turnsInFlight: number;
  /**
   * Stops taking activities (they get 503 with Retry-After, so the Bot Framework delivers them again later or to
   * another instance) and waits for the turns in flight, at most `timeoutMs`; true when they all ended.
   */
  stopTakingTurns(timeoutMs: number): Promise<boolean>;
}

/** Deeper than any activity Teams sends; a body nested deeper is refused before anything walks it. */
const MAX_DEPTH = 64;

/** How deep a parsed JSON value is nested, counted without recursion (a crafted body may be 20,000 deep). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > max) return true;
    if (node && typeof node === 'object')
      for (const child of Object.values(node as Record<string, unknown>))
        if (child && typeof child === 'object') stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/**
 * Why a request body cannot be a Bot Framework activity (null when it can): an object with a string `type`, a
 * `conversation.id` and a `from.id`, nested no deeper than MAX_DEPTH. Such bodies get 400, not a turn.
 */
export function malformedActivity(body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'not an object';
  const activity = body as { type?: unknown; conversation?: { id?: unknown }; from?: { id?: unknown } };
  if (typeof activity.type !== 'string' || activity.type === '') return 'type';
  if (depthExceeds(body, MAX_DEPTH)) return 'too deep';
  if (
    typeof activity.conversation !== 'object' ||
    activity.conversation === null ||
    typeof activity.conversation.id !== 'string'
  )
    return 'conversation.id';
  if (typeof activity.from !== 'object' || activity.from === null || typeof activity.from.id !== 'string')
    return 'from.id';
  return null;
}

/** The turns being processed, and whether new ones are taken (not once stopping). */
class Turns {
  private readonly inFlight = new Set<Promise<void>>();
  accepting = true;

  get size(): number {
    return this.inFlight.size;
  }

  track(turn: Promise<void>): void {
    const tracked = turn.catch(() => undefined).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  stop(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    return settleWithin(this.inFlight, timeoutMs);
  }
}

/** POST /api/messages: 503 while stopping, 400 for a body that is no activity, else a traced turn. */
function messages(options: ServerOptions, turns: Turns): restify.RequestHandlerType {
  return async (req: restify.Request, res: restify.Response) => {
    if (!turns.accepting) {
      res.header('Retry-After', '5');
      res.send(503, { error: 'shutting down' });
      return;
    }
    const problem = malformedActivity(req.body);
    if (problem) {
      options.logger.warn('activity.malformed', { problem });
      res.send(400, { error: 'malformed activity' });
      return;
    }
    const body = req.body as { id?: string; type?: string; conversation?: { id?: string } };
    const started = performance.now();
    // The activity's type, never its text: a command or card verb is added to this span once it is known.
    const type = /^[A-Za-z]{1,40}$/.test(body.type ?? '') ? (body.type as string) : 'invalid';
    const turn = withLogContext({ activityId: body.id, activityType: body.type }, () =>
      span(
        `turn ${type}`,
        { 'guestinvite.activity.type': type },
        () => options.adapter.process(req, res, (context) => options.bot.run(context)),
        { root: true, kind: 'server' },
      ),
    ).finally(() =>
      metrics.turn(performance.now() - started, {
        'guestinvite.activity.type': type,
        'http.response.status_code': res.statusCode,
      }),
    );
    turns.track(turn);
    await turn;
  };
}

/** Liveness and readiness (with the HEAD probe of the messages endpoint). */
function healthRoutes(server: restify.Server, options: ServerOptions, turns: Turns): void {
  // Some clients probe the endpoint before posting activities.
  server.head('/api/messages', async (_req, res) => {
    res.send(turns.accepting ? 200 : 503);
  });

  // Liveness: the process answers; nothing is probed.
  server.get('/health/live', async (_req, res) => {
    res.send(200, { status: 'ok' });
  });

  // Readiness: 200 when this instance can serve (store reachable, Graph token obtainable), else 503, so App
  // Service's health check (healthCheckPath) takes it out of rotation. /healthz is the same answer.
  const ready = async (_req: restify.Request, res: restify.Response): Promise<void> => {
    const report = await options.health();
    const accepting = turns.accepting;
    res.header('Cache-Control', 'no-store');
    res.send(report.status === 'ok' && accepting ? 200 : 503, accepting ? report : { ...report, status: 'stopping' });
  };
  server.get('/health/ready', ready);
  server.get('/healthz', ready);
}

export function createServer(options: ServerOptions): BotServer {
  const server = restify.createServer({ name: 'guest-invite', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: options.maxBodyBytes ?? 256 * 1024, mapParams: false }));
  const turns = new Turns();
  server.post('/api/messages', messages(options, turns));
  healthRoutes(server, options, turns);
  server.on('restifyError', (req, _res, err, callback) => {
    options.logger.warn('http.error', { method: req.method, path: req.path(), error: err });
    callback();
  });
  return {
    server,
    get turnsInFlight() {
      return turns.size;
    },
    stopTakingTurns(timeoutMs) {
      return turns.stop(timeoutMs);
    },
  };
}

export function listen(server: restify.Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server.url);
    });
  });
}
