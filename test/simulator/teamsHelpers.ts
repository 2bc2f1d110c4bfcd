import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTeamsDouble, type TeamsDouble } from '../../src/simulator/teams';

export const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
export const BOT_APP_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c01';
export const MEGAN = '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01';
export const ADELE = '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f02';

export type Activity = Record<string, unknown> & { type: string; action?: string; serviceUrl?: string };

/** A stand-in for the bot's messaging endpoint: records what Teams posts and answers 200. */
export class BotEndpoint {
  readonly received: Activity[] = [];
  private readonly server: http.Server;
  url = '';

  constructor(private readonly reply: (a: Activity) => { status: number; body?: unknown } = () => ({ status: 200 })) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const activity = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Activity;
        this.received.push(activity);
        const answer = this.reply(activity);
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/messages`;
    return this;
  }

  ofType(type: string): Activity[] {
    return this.received.filter((a) => a.type === type);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public ms = Date.UTC(2026, 11, 7, 12, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface ConnectorReply {
  status: number;
  headers: Headers;
  body: {
    id?: string;
    activityId?: string;
    error?: { code: string; message: string };
    errorCode?: number;
    message?: string;
  } & Record<string, unknown>;
}

/** One raw HTTP call to the double, as botframework-connector would make it. */
export async function call(double: TeamsDouble, method: string, path: string, body?: unknown): Promise<ConnectorReply> {
  const res = await fetch(`${double.serviceUrl}${path.replace(/^\//, '')}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as ConnectorReply['body']) : {} };
}

export function createParams(memberId: string, tenantId = TENANT): Record<string, unknown> {
  return {
    isGroup: false,
    bot: { id: `28:${BOT_APP_ID}` },
    members: [{ id: memberId, name: '' }],
    tenantId,
    channelData: { tenant: { id: tenantId } },
  };
}

export const message = (text: string): Record<string, unknown> => ({ type: 'message', text });

export const card = (title: string): Record<string, unknown> => ({
  type: 'message',
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: title }] },
    },
  ],
});

export interface Fixture {
  double: TeamsDouble;
  bot: BotEndpoint;
  clock: FakeClock;
}

export async function startFixture(): Promise<Fixture> {
  const bot = await new BotEndpoint().start();
  const clock = new FakeClock();
  const double = await startTeamsDouble({
    tenant: TENANT,
    botAppId: BOT_APP_ID,
    botEndpoint: bot.url,
    clock: clock.now,
  });
  return { double, bot, clock };
}

export async function stopFixture(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.double.close();
  await f.bot.close();
}

/** Creates Megan's 1:1 chat (installing the app for her first) and answers its id. */
export async function openChat(f: Fixture, aad = MEGAN): Promise<string> {
  if (!f.double.isInstalled(aad)) await f.double.install(aad);
  const created = await call(f.double, 'POST', '/v3/conversations', createParams(aad));
  if (created.status !== 201 || !created.body.id) throw new Error(`createConversation answered ${created.status}`);
  return created.body.id;
}
