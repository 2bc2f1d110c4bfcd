/**
 * The bench's yardstick: a bare botbuilder echo bot (CloudAdapter + restify, anonymous), run as its own process
 * exactly like the real bot. `node dist/test/bench/echoServer.js` listens on PORT (127.0.0.1) and answers every
 * message with `echo: <text>`; GET /healthz answers 200 once it listens.
 */
import restify from 'restify';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';

class Echo extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
      await next();
    });
  }
}

const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
const bot = new Echo();
const server = restify.createServer({ name: 'bench-echo' });
server.use(restify.plugins.bodyParser({ mapParams: false }));
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});
server.get('/healthz', async (_req, res) => {
  res.send(200, { status: 'ok' });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`echo bot listening on ${server.url}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
