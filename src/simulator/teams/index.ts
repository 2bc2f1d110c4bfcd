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
  limits(settings: { rate?: boolean; maxBytes?: number }): void;
  /** Refusal forms: `notInstalledCode`, `uninstalledForm`, `leaky`. */
  configure(settings: Partial<ConnectorSettings>): void;
  messagesFor(aadObjectId: string): VisibleMessage[];
  stats(): TeamsDoubleStats;
  attempts(): ConnectorAttempt[];
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

export async function startTeamsDouble(options: TeamsDoubleOptions): Promise<TeamsDouble> {
  const clock = options.clock ?? Date.now;
  const state = new TeamsState(options.tenant, options.botAppId, clock);
  const settings: ConnectorSettings = {
    rateLimits: true,
    maxBytes: DEFAULT_MAX_BYTES,
    notInstalledCode: 'ForbiddenOperationException',
    uninstalledForm: 'BotNotInConversationRoster',
    leaky: false,
  };
  const connector = new Connector(state, settings, clock);
  let base = '';
  let region = 0;
  const retired = new Set<string>();
  const serviceUrl = (): string => `${base}/${REGIONS[region % REGIONS.length]}${region >= REGIONS.length ? region : ''}/`;
  const events = new EventPoster(state, options.botEndpoint, serviceUrl, { ...DEFAULT_EVENT_SWITCHES });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const path = url.split('?')[0];
      const prefix = /^\/([^/]+)\//.exec(path);
      const used = prefix ? `${base}/${prefix[1]}/` : base;
      if (!prefix || retired.has(used)) {
        res.writeHead(404).end();
        return;
      }
      const answer = connector.handle((req.method ?? 'GET').toUpperCase(), path.slice(prefix[0].length - 1), Buffer.concat(chunks).toString('utf8'), used);
      const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, answer.headers);
      res.end(payload);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const install = async (aad: string, opts: { name?: string; scope?: 'personal' | 'team' } = {}): Promise<void> => {
    const p = state.person(aad, opts.name);
    const scope = opts.scope ?? 'personal';
    if (p.scope === 'personal' || p.scope === scope) return;
    p.scope = scope;
    if (scope !== 'personal') return;
    const first = !p.everInstalled;
    p.everInstalled = true;
    p.uninstalled = false;
    // The chat exists from the install on: the install events already carry its id (§1).
    state.personalConversation(p);
    link?.mirror(p.aadObjectId, true);
    await events.installed(p, first);
  };

  const uninstall = async (aad: string): Promise<void> => {
    const p = state.person(aad);
    if (p.scope !== 'personal') return;
    p.scope = 'none';
    p.uninstalled = true;
    link?.mirror(p.aadObjectId, false);
    await events.uninstalled(p);
    if (events.switches.addAfterRemove) {
      p.scope = 'personal';
      p.uninstalled = false;
      link?.mirror(p.aadObjectId, true);
    }
  };

  const link = options.graph ? linkGraph(options.graph, options.botAppId, state, { install, uninstall }) : undefined;

  return {
    get serviceUrl() {
      return serviceUrl();
    },
    tenant: options.tenant,
    botAppId: options.botAppId,
    install,
    uninstall,
    isInstalled: (aad) => state.knownPerson(aad)?.scope === 'personal',
    block(aad, blocked = true) {
      state.person(aad).blocked = blocked;
    },
    disableBot(disabled = true) {
      state.botDisabled = disabled;
    },
    failNext: (status, n = 1, code, retryAfterSeconds) => connector.failNext(status, n, code, retryAfterSeconds),
    limits(l) {
      if (l.rate !== undefined) settings.rateLimits = l.rate;
      if (l.maxBytes !== undefined) settings.maxBytes = l.maxBytes;
    },
    configure: (s) => Object.assign(settings, s),
    messagesFor: (aad) => visible(state, aad),
    stats: () => summarize(connector.attempts),
    attempts: () => connector.attempts.map((a) => ({ ...a })),
    events: events.switches,
    releaseEvents: () => events.release(),
    settleEvents: async () => {
      await link?.settle();
      await events.settle();
    },
    deliveries: () => events.deliveries.map((d) => ({ ...d })),
    async sendFromUser(aad, activity) {
      const p = state.knownPerson(aad);
      if (!p || p.scope !== 'personal') throw new Error(`The app is not installed for ${aad}: call install() first.`);
      // Writing to the bot again lifts a block (§3: drop the conversation "until the user writes again").
      p.blocked = false;
      return events.fromUser(p, activity);
    },
    conversationIdFor: (aad) => state.personalConversationId(state.person(aad)),
    teamsIdFor: (aad) => state.person(aad).teamsId,
    graphChatIdFor: (aad) => state.graphChatId(state.person(aad)),
    addGroupChat: (id, o) => void state.addGroupChat(id, o.botInRoster),
    rotateServiceUrl(o = {}) {
      if (o.retireOld) retired.add(serviceUrl());
      region += 1;
      return serviceUrl();
    },
    async close() {
      link?.unlink();
      await events.settle();
      await link?.settle();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

interface GraphLink {
  /** Tells Graph about an install or uninstall made on the double. */
  mirror(aadObjectId: string, installed: boolean): void;
  /** Waits for installs that came from Graph to be applied and their events posted. */
  settle(): Promise<void>;
  unlink(): void;
}

/** Keeps the double's personal installs and the Graph simulator's in step, both ways (§7.6, §7.14). */
function linkGraph(
  apps: TeamsApps,
  botAppId: string,
  state: TeamsState,
  actions: { install: (aad: string) => Promise<void>; uninstall: (aad: string) => Promise<void> },
): GraphLink {
  const app = apps.appByBotId(botAppId);
  if (!app) throw new Error(`No app in the Graph simulator's Teams catalog has botId ${botAppId}`);
  const pending = new Set<Promise<void>>();
  let mirroring = false;
  // Installations present in the seed: reachable from the start, without events.
  for (const p of apps.installedUsers(app.id)) {
    const person = state.person(p);
    person.scope = 'personal';
    person.everInstalled = true;
    state.personalConversation(person);
  }
  const unlink = apps.onChange((change) => {
    if (mirroring || change.app.id !== app.id) return;
    const done: Promise<void> = (change.action === 'add' ? actions.install(change.userId) : actions.uninstall(change.userId)).finally(() =>
      pending.delete(done),
    );
    pending.add(done);
  });
  return {
    mirror(aad, installed) {
      mirroring = true;
      try {
        apps.setInstalled(aad, app.id, installed);
      } finally {
        mirroring = false;
      }
    },
    async settle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    unlink,
  };
}
