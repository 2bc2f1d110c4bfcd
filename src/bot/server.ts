/** The HTTP host: restify, POST /api/messages for the Bot Framework, GET /healthz. */
import restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { ActivityHandler } from 'botbuilder';
import { withLogContext, type Logger } from '../logging';

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean; error?: string }>;
}

export interface ServerOptions {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  logger: Logger;
  health: () => Promise<HealthReport>;
  maxBodyBytes?: number;
}

export function createServer(options: ServerOptions): restify.Server {
  const server = restify.createServer({ name: 'guest-invite', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: options.maxBodyBytes ?? 256 * 1024, mapParams: false }));

  server.post('/api/messages', async (req, res) => {
    const body = (req.body ?? {}) as { id?: string; type?: string; conversation?: { id?: string } };
    await withLogContext({ activityId: body.id, activityType: body.type }, () =>
      options.adapter.process(req, res, (context) => options.bot.run(context)),
    );
  });

  // Some clients probe the endpoint before posting activities.
  server.head('/api/messages', async (_req, res) => {
    res.send(200);
  });

  server.get('/healthz', async (_req, res) => {
    const report = await options.health();
    res.send(report.status === 'ok' ? 200 : 503, report);
  });

  server.on('restifyError', (req, _res, err, callback) => {
    options.logger.warn('http.error', { method: req.method, path: req.path(), error: err });
    callback();
  });
  return server;
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
