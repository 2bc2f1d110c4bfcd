/**
 * A tiny anonymous bot (botbuilder CloudAdapter on node:http, 127.0.0.1, a free port) that proves the
 * harness without the real bot:
 * - `card` → an Adaptive Card 1.5 (expanded ChoiceSet `appId` "App", Input.Text `email` "Guest email",
 *   multi-line Input.Text `message` "Welcome message (optional)", actions "Submit" and "Update");
 * - a submit with `action: 'update'` → the card's message is replaced (updateActivity) by `updated: <value>`;
 * - any other submit → `submitted: <value as JSON>`; any other text → `echo: <text>`.
 * Every activity it receives is kept in `received`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ActivityHandler,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  MessageFactory,
  type Activity,
  type Request,
  type Response,
} from 'botbuilder';

export interface EchoBot {
  endpoint: string;
  received: Partial<Activity>[];
  close(): Promise<void>;
}

export const ECHO_CARD = {
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body: [
    { type: 'TextBlock', text: 'Echo card', weight: 'Bolder' },
    {
      type: 'Input.ChoiceSet',
      id: 'appId',
      label: 'App',
      style: 'expanded',
      choices: [
        { title: 'Contoso Wiki', value: 'wiki' },
        { title: 'Sales Insights', value: 'sales' },
      ],
    },
    { type: 'Input.Text', id: 'email', label: 'Guest email' },
    { type: 'Input.Text', id: 'message', label: 'Welcome message (optional)', isMultiline: true },
  ],
  actions: [
    { type: 'Action.Submit', title: 'Submit', data: { action: 'submit' } },
    { type: 'Action.Submit', title: 'Update', data: { action: 'update' } },
  ],
};

function sorted(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));
}

class Echo extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      const { text, value, replyToId } = context.activity;
      if (value && typeof value === 'object') {
        const data = value as Record<string, unknown>;
        if (data.action === 'update' && replyToId) {
          await context.updateActivity({ id: replyToId, type: 'message', text: `updated: ${sorted(data)}` });
        } else {
          await context.sendActivity(`submitted: ${sorted(data)}`);
        }
      } else if (text?.trim() === 'card') {
        await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(ECHO_CARD)));
      } else {
        await context.sendActivity(`echo: ${text ?? ''}`);
      }
      await next();
    });
  }
}

export async function startEchoBot(): Promise<EchoBot> {
  // No app id: an anonymous bot, as the Playground expects by default.
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  adapter.onTurnError = async (context, error) => {
    console.error('[echo bot]', error);
    await context.sendActivity(`echo bot error: ${(error as Error).message}`);
  };
  const bot = new Echo();
  const received: Partial<Activity>[] = [];

  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/api/messages') {
      res.writeHead(req.url === '/api/messages' ? 405 : 404);
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        res.writeHead(400).end();
        return;
      }
      received.push(body as Partial<Activity>);
      const request: Request = { body, headers: req.headers, method: req.method };
      const response: Response = {
        socket: res.socket,
        status(code: number) {
          res.statusCode = code;
          return response;
        },
        header(name: string, value: unknown) {
          res.setHeader(name, String(value));
          return response;
        },
        send(payload?: unknown) {
          if (payload !== undefined) {
            if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
              res.setHeader('content-type', 'application/json');
              res.write(JSON.stringify(payload));
            } else res.write(payload);
          }
          return response;
        },
        end() {
          res.end();
          return response;
        },
      };
      adapter
        .process(request, response, (context) => bot.run(context))
        .catch((error: unknown) => {
          console.error('[echo bot]', error);
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/api/messages`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
