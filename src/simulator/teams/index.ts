/**
 * A Teams Bot Connector double: the HTTP service a bot uses as its serviceUrl, as strict as real Teams
 * (proactive-delivery.md §7), with a control API for tests and the bench. Anonymous: requests need no Authorization.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connector, type ConnectorAttempt, type ConnectorSettings, type Operation } from './connector';
import { DEFAULT_EVENT_SWITCHES, EventPoster, type BotReply, type EventDelivery, type EventSwitches } from './events';
import { TeamsState, type InstallScope, type JsonObject } from './state';
import type { TeamsApps } from '../teamsApps';
import { linkGraph, type GraphLink } from './graphLink';

export type { ConnectorAttempt, ConnectorSettings, Operation } from './connector';
export type { BotReply, EventDelivery, EventSwitches } from './events';
export type { InstallScope } from './state';

export interface TeamsDoubleOptions {
  tenant: string;
  /** The bot's Microsoft App id (the bot's channel id is `28:<botAppId>`). */
  botAppId: string;
  /** Where Teams posts activities for the bot, e.g. http://127.0.0.1:3978/api/messages. */
  botEndpoint: string;
  /** Clock of the rate windows and activity ids (milliseconds); tests inject a fake one. Default Date.now. */
  clock?: () => number;
  port?: number;
  host?: string;
  /**
   * The Graph simulator's Teams apps (`sim.teamsApps`): installs made through Graph reach the double (the person
   * becomes reachable and the install events are posted), and the double's installs show in Graph. The catalog app
   * whose `botId` is `botAppId` is this bot.
   */
  graph?: TeamsApps;
}

/** A message the person sees in their chat with the bot (after updates and deletes). */
export interface VisibleMessage {
  id: string;
  /** False when Teams gave the bot no id for it (text with attachments, §5). */
  idReturned: boolean;
  text?: string;
  attachments: JsonObject[];
  /** How often the bot updated it. */
  updates: number;
  activity: JsonObject;
}

export interface AttemptCounts {
  attempts: number;
  accepted: number;
  throttled: number;
  tooLarge: number;
}

export interface TeamsDoubleStats extends AttemptCounts {
  byStatus: Record<string, number>;
  byOperation: Partial<Record<Operation, AttemptCounts>>;
  perConversation: Record<string, AttemptCounts>;
}

export interface TeamsDouble {
  /** The serviceUrl Teams currently puts on activities (changes with `rotateServiceUrl`). */
  readonly serviceUrl: string;
  readonly tenant: string;
  readonly botAppId: string;
  /** Install the app for a person (personal scope, or only a team they are in); posts the install events. */
  install(aadObjectId: string, options?: { name?: string; scope?: Exclude<InstallScope, 'none'> }): Promise<void>;
  /** The person removes the app: installationUpdate remove, later sends refused (or leaky). */
  uninstall(aadObjectId: string): Promise<void>;
  isInstalled(aadObjectId: string): boolean;
  block(aadObjectId: string, blocked?: boolean): void;
  disableBot(disabled?: boolean): void;
  /** The next `count` requests answer `status` (412, 500, 502, 503, 504, ...), counted against the limits. */
  failNext(status: number, count?: number, code?: string, retryAfterSeconds?: number): void;
  /** `rate`: enforce the rate limits; `countThrottled`: 429s fill the windows too; `maxBytes`: the size limit. */
  limits(settings: { rate?: boolean; countThrottled?: boolean; maxBytes?: number }): void;
  /** Refusal forms: `notInstalledCode`, `uninstalledForm`, `leaky`, `gccTenant`, `graphChatIds`. */
  configure(settings: Partial<ConnectorSettings>): void;
  messagesFor(aadObjectId: string): VisibleMessage[];
  stats(): TeamsDoubleStats;
  attempts(): ConnectorAttempt[];
  /** Forgets the attempts counted so far (the rate windows keep running). */
  resetStats(): void;
  /** Switches for install events; change its fields at any time. */
  readonly events: EventSwitches;
  releaseEvents(): Promise<void>;
  /** Waits for delayed events to be posted. */
  settleEvents(): Promise<void>;
  deliveries(): EventDelivery[];
  /** A person writes to the bot (or invokes a card action): posted to botEndpoint as Teams would. */
  sendFromUser(aadObjectId: string, activity: JsonObject): Promise<BotReply>;
  conversationIdFor(aadObjectId: string): string;
  teamsIdFor(aadObjectId: string): string;
  /** `19:<aad>_<botAppId>@unq.gbl.spaces`, as Graph's installedApps/{id}/chat returns it. */
  graphChatIdFor(aadObjectId: string): string;
  addGroupChat(id: string, options: { botInRoster: boolean }): void;
  /** Moves Teams to a new serviceUrl for the next activities; `retireOld` makes the old one answer 404. */
  rotateServiceUrl(options?: { retireOld?: boolean }): string;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BYTES = 100 * 1024;

const REGIONS = ['amer', 'emea', 'apac', 'amer-2', 'emea-2', 'apac-2'];

function emptyCounts(): AttemptCounts {
  return { attempts: 0, accepted: 0, throttled: 0, tooLarge: 0 };
}

function count(c: AttemptCounts, status: number): void {
  c.attempts += 1;
  if (status >= 200 && status < 300) c.accepted += 1;
  if (status === 429) c.throttled += 1;
  if (status === 413) c.tooLarge += 1;
}

function summarize(attempts: readonly ConnectorAttempt[]): TeamsDoubleStats {
  const stats: TeamsDoubleStats = { ...emptyCounts(), byStatus: {}, byOperation: {}, perConversation: {} };
  for (const a of attempts) {
    count(stats, a.status);
    stats.byStatus[a.status] = (stats.byStatus[a.status] ?? 0) + 1;
    count((stats.byOperation[a.operation] ??= emptyCounts()), a.status);
    if (a.conversationId !== '') count((stats.perConversation[a.conversationId] ??= emptyCounts()), a.status);
  }
  return stats;
}

function visible(state: TeamsState, aadObjectId: string): VisibleMessage[] {
  const p = state.knownPerson(aadObjectId);
  const c = p ? state.conversation(state.personalConversationId(p)) : undefined;
  if (!c) return [];
  return c.messages
    .filter((m) => !m.deleted)
    .map((m) => {
      const text = typeof m.activity.text === 'string' ? m.activity.text : undefined;
      const attachments = Array.isArray(m.activity.attachments) ? (m.activity.attachments as JsonObject[]) : [];
      return { id: m.id, idReturned: m.idReturned, text, attachments, updates: m.updates, activity: m.activity };
    });
}

/** The running double: an HTTP server over the Teams state, and the control API. */
class RunningTeamsDouble implements TeamsDouble {
  readonly tenant: string;
  readonly botAppId: string;
  readonly events: EventSwitches;
  private readonly state: TeamsState;
  private readonly settings: ConnectorSettings = {
    rateLimits: true,
    countThrottled: false,
    maxBytes: DEFAULT_MAX_BYTES,
    notInstalledCode: 'ForbiddenOperationException',
    uninstalledForm: 'BotNotInConversationRoster',
    leaky: false,
    gccTenant: false,
    graphChatIds: 'accepted',
  };
  private readonly connector: Connector;
  private readonly poster: EventPoster;
  private readonly server: http.Server;
  private readonly retired = new Set<string>();
  private link: GraphLink | undefined;
  private base = '';
  private region = 0;

  constructor(private readonly options: TeamsDoubleOptions) {
    const clock = options.clock ?? Date.now;
    this.tenant = options.tenant;
    this.botAppId = options.botAppId;
    this.state = new TeamsState(options.tenant, options.botAppId, clock);
    this.connector = new Connector(this.state, this.settings, clock);
    this.poster = new EventPoster(
      this.state,
      options.botEndpoint,
      () => this.serviceUrl,
      { ...DEFAULT_EVENT_SWITCHES },
      clock,
    );
    this.events = this.poster.switches;
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    if (this.options.graph) {
      try {
        this.link = linkGraph(this.options.graph, this.botAppId, this.state, {
          install: (aad) => this.install(aad),
          uninstall: (aad) => this.uninstall(aad),
        });
      } catch (err) {
        this.server.close();
        throw err;
      }
    }
    return this;
  }

  get serviceUrl(): string {
    const suffix = this.region >= REGIONS.length ? String(this.region) : '';
    return `${this.base}/${REGIONS[this.region % REGIONS.length]}${suffix}/`;
  }

  /** Routes `{serviceUrl}v3/...` to the connector; a retired or unknown prefix answers 404. */
  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const prefix = /^\/([^/]+)\//.exec(path);
      const used = prefix ? `${this.base}/${prefix[1]}/` : this.base;
      if (!prefix || this.retired.has(used)) {
        res.writeHead(404);
        res.end();
        return;
      }
      const method = (req.method ?? 'GET').toUpperCase();
      const rest = path.slice(prefix[0].length - 1);
      const answer = this.connector.handle(method, rest, Buffer.concat(chunks).toString('utf8'), used);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  }

  async install(aad: string, opts: { name?: string; scope?: 'personal' | 'team' } = {}): Promise<void> {
    const p = this.state.person(aad, opts.name);
    const scope = opts.scope ?? 'personal';
    if (p.scope === 'personal' || p.scope === scope) return;
    p.scope = scope;
    if (scope !== 'personal') return;
    const first = !p.everInstalled;
    p.everInstalled = true;
    p.uninstalled = false;
    // The chat exists from the install on: the install events already carry its id (§1).
    this.state.personalConversation(p);
    this.link?.mirror(p.aadObjectId, true);
    await this.poster.installed(p, first);
  }

  async uninstall(aad: string): Promise<void> {
    const p = this.state.person(aad);
    if (p.scope !== 'personal') return;
    p.scope = 'none';
    p.uninstalled = true;
    this.link?.mirror(p.aadObjectId, false);
    await this.poster.uninstalled(p);
    if (this.events.addAfterRemove) {
      p.scope = 'personal';
      p.uninstalled = false;
      this.link?.mirror(p.aadObjectId, true);
    }
  }

  isInstalled(aad: string): boolean {
    return this.state.knownPerson(aad)?.scope === 'personal';
  }

  block(aad: string, blocked = true): void {
    this.state.person(aad).blocked = blocked;
  }

  disableBot(disabled = true): void {
    this.state.botDisabled = disabled;
  }

  failNext(status: number, n = 1, code?: string, retryAfterSeconds?: number): void {
    this.connector.failNext(status, n, code, retryAfterSeconds);
  }

  limits(l: { rate?: boolean; countThrottled?: boolean; maxBytes?: number }): void {
    if (l.rate !== undefined) this.settings.rateLimits = l.rate;
    if (l.countThrottled !== undefined) this.settings.countThrottled = l.countThrottled;
    if (l.maxBytes !== undefined) this.settings.maxBytes = l.maxBytes;
  }

  configure(s: Partial<ConnectorSettings>): void {
    Object.assign(this.settings, s);
  }

  messagesFor(aad: string): VisibleMessage[] {
    return visible(this.state, aad);
  }

  stats(): TeamsDoubleStats {
    return summarize(this.connector.attempts);
  }

  attempts(): ConnectorAttempt[] {
    return this.connector.attempts.map((a) => ({ ...a }));
  }

  resetStats(): void {
    this.connector.attempts.length = 0;
  }

  releaseEvents(): Promise<void> {
    return this.poster.release();
  }

  async settleEvents(): Promise<void> {
    await this.link?.settle();
    await this.poster.settle();
  }

  deliveries(): EventDelivery[] {
    return this.poster.deliveries.map((d) => ({ ...d }));
  }

  async sendFromUser(aad: string, activity: JsonObject): Promise<BotReply> {
    const p = this.state.knownPerson(aad);
    if (!p || p.scope !== 'personal') throw new Error(`The app is not installed for ${aad}: call install() first.`);
    // Writing to the bot again lifts a block (§3: drop the conversation "until the user writes again").
    p.blocked = false;
    return this.poster.fromUser(p, activity);
  }

  conversationIdFor(aad: string): string {
    return this.state.personalConversationId(this.state.person(aad));
  }

  teamsIdFor(aad: string): string {
    return this.state.person(aad).teamsId;
  }

  graphChatIdFor(aad: string): string {
    return this.state.graphChatId(this.state.person(aad));
  }

  addGroupChat(id: string, o: { botInRoster: boolean }): void {
    this.state.addGroupChat(id, o.botInRoster);
  }

  rotateServiceUrl(o: { retireOld?: boolean } = {}): string {
    if (o.retireOld) this.retired.add(this.serviceUrl);
    this.region += 1;
    return this.serviceUrl;
  }

  async close(): Promise<void> {
    this.link?.unlink();
    await this.settleEvents();
    await new Promise<void>((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
  }
}

export function startTeamsDouble(options: TeamsDoubleOptions): Promise<TeamsDouble> {
  return new RunningTeamsDouble(options).start();
}
