/**
 * The load generator and the stubbed Bot Connector.
 *
 * Conversations post Teams-shaped activities to a bot's /api/messages over HTTP (keep-alive); the bot sends its
 * replies to the activity's serviceUrl, which is the stub Connector here: it answers each reply (POST) and card
 * update (PUT) at once with an id and keeps it for the conversation that is waiting for it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export const TENANT_ID = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';

export interface BotActivity {
  type?: string;
  id?: string;
  text?: string;
  replyToId?: string;
  attachments?: Array<{ contentType?: string; content?: unknown }>;
  [key: string]: unknown;
}

export interface TurnResult {
  status: number;
  ms: number;
  /** What the bot sent to the Connector during the turn: replies and card updates, in order. */
  sent: BotActivity[];
}

/** A local Bot Connector that answers at once. */
export class StubConnector {
  private readonly server: http.Server;
  private readonly pending = new Map<string, BotActivity[]>();
  private nextId = 0;
  serviceUrl = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        // /v3/conversations/{conversationId}/activities[/{activityId}]
        const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
        let id = `stub-${++this.nextId}`;
        if (match && (req.method === 'POST' || req.method === 'PUT')) {
          const activity = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as BotActivity;
          if (req.method === 'PUT' && match[2]) id = decodeURIComponent(match[2]);
          activity.id = id;
          const conversation = decodeURIComponent(match[1]);
          const list = this.pending.get(conversation);
          if (list) list.push(activity);
          else this.pending.set(conversation, [activity]);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id }));
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.serviceUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** What the bot sent into `conversationId` since the last take. */
  take(conversationId: string): BotActivity[] {
    const list = this.pending.get(conversationId) ?? [];
    this.pending.delete(conversationId);
    return list;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let activitySeq = 0;

/** One user's 1:1 chat with a bot over HTTP. */
export class Conversation {
  readonly id: string;
  constructor(
    private readonly connector: StubConnector,
    readonly user: { id: string; name: string },
    tag: string,
  ) {
    this.id = `a:1bench-${tag}-${user.id}`;
  }

  private activity(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      type: 'message',
      channelId: 'msteams',
      id: `bench-${process.pid}-${++activitySeq}`,
      timestamp: new Date().toISOString(),
      serviceUrl: this.connector.serviceUrl,
      locale: 'en-US',
      from: { id: `29:${this.user.id}`, name: this.user.name, aadObjectId: this.user.id },
      recipient: { id: '28:guest-invite-bot', name: 'Guest Invite' },
      conversation: { id: this.id, conversationType: 'personal', tenantId: TENANT_ID, isGroup: false },
      channelData: { tenant: { id: TENANT_ID } },
      ...extra,
    };
  }

  /** Posts one activity to `endpoint` (a bot's /api/messages) and returns what the bot sent during the turn. */
  async turn(endpoint: string, extra: Record<string, unknown>): Promise<TurnResult> {
    const body = JSON.stringify(this.activity(extra));
    const started = performance.now();
    const status = await post(endpoint, body);
    const ms = performance.now() - started;
    if (status >= 300) throw new Error(`${endpoint} answered ${status} in conversation ${this.id}`);
    return { status, ms, sent: this.connector.take(this.id) };
  }

  send(endpoint: string, text: string): Promise<TurnResult> {
    return this.turn(endpoint, { text });
  }

  submit(endpoint: string, value: Record<string, unknown>, replyToId: string | undefined): Promise<TurnResult> {
    return this.turn(endpoint, { value, replyToId });
  }
}

/** The Adaptive Card of the last activity in `sent` that carries one, with that activity's id. */
export function lastCard(sent: BotActivity[]): { id: string; card: Record<string, unknown> } {
  for (let i = sent.length - 1; i >= 0; i--) {
    const attachment = sent[i].attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
    if (attachment) return { id: String(sent[i].id), card: attachment.content as Record<string, unknown> };
  }
  throw new Error(`expected a card, the bot sent: ${JSON.stringify(sent).slice(0, 600)}`);
}

/** The data of the card action titled `title`. */
export function actionData(card: Record<string, unknown>, title: string): Record<string, unknown> {
  const actions = (card.actions ?? []) as Array<{ title?: string; data?: Record<string, unknown> }>;
  const action = actions.find((a) => a.title === title);
  if (!action?.data) throw new Error(`no action '${title}' on card: ${JSON.stringify(card).slice(0, 600)}`);
  return { ...action.data };
}

/** The choices of the Input.ChoiceSet `inputId` on `card`. */
export function choiceValues(card: unknown, inputId: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'Input.ChoiceSet' && n.id === inputId)
      found.push(...(n.choices as Array<{ value: string }>).map((c) => c.value));
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return found;
}

export interface LoadResult {
  turns: number;
  /** Whole run, ms. */
  elapsedMs: number;
  latencies: number[];
}

/**
 * Runs `units` units of work over `conversations` (each conversation one unit at a time, all conversations at
 * once); a unit is one or more turns and returns their latencies.
 */
export async function runLoad<C>(
  conversations: readonly C[],
  units: number,
  unit: (conversation: C, index: number) => Promise<number[]>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    conversations.map(async (conversation) => {
      while (next < units) {
        const index = next++;
        latencies.push(...(await unit(conversation, index)));
      }
    }),
  );
  return { turns: latencies.length, elapsedMs: performance.now() - started, latencies };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
