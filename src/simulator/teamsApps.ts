/**
 * Teams apps in the simulated tenant: the org app catalog, personal-scope installations per user, app permission
 * policy blocks, and the Graph endpoints over them (api-reference/v1.0/api/userteamwork-list-installedapps.md,
 * userteamwork-post-installedapps.md, userscopeteamsappinstallation-get-chat.md; ../shared/graph/permissions.md
 * rows 27-29; ../shared/teams/proactive-delivery.md §1 and §7.14).
 */
import { GraphError, badRequest, propertyNotFound } from './errors';
import { isJsonObject, type JsonObject } from './json';
import { METADATA_URL, filterProperties, matchesFilter, parseExpand, parseFilter, parseSelect } from './odata';
import type { Grant } from './permissions';

export interface SeedTeamsApp {
  /** The catalog id (differs from the manifest id except for Store apps; [GINST]). */
  id: string;
  /** The manifest id. */
  externalId: string;
  displayName: string;
  distributionMethod?: 'organization' | 'store' | 'sideloaded';
  /** The manifest's `webApplicationInfo.id`: the Entra app the "Self" permissions let manage this app. */
  webApplicationInfoId?: string | null;
  /** The manifest's bot id (the Microsoft App id of its bot), if it has one. */
  botId?: string | null;
  version?: string;
}

export interface SeedTeamsApps {
  /** The Entra app id the simulator takes as the caller (the `appid` claim) when the token names none. */
  callingAppId?: string;
  catalog: SeedTeamsApp[];
  /** Personal-scope installations present at start. */
  installations?: Array<{ userId: string; teamsAppId: string }>;
  /** App permission policy blocks: the app may not be installed for this user. */
  blockedByPolicy?: Array<{ userId: string; teamsAppId: string }>;
}

export interface InstallationChange {
  action: 'add' | 'remove';
  userId: string;
  app: SeedTeamsApp;
}

/**
 * The id of the 1:1 chat between a person and a bot: `19:<id>_<id>@unq.gbl.spaces`, the two ids in sorted order
 * (userscopeteamsappinstallation-get-chat.md example; [GINST] `19:<userAad>_<botId>@unq.gbl.spaces`).
 */
export function personalChatId(userId: string, botId: string): string {
  return `19:${[userId.toLowerCase(), botId.toLowerCase()].sort().join('_')}@unq.gbl.spaces`;
}

/**
 * Permissions that reach every app's installations; the others (`…SelfForUser.All`) reach only the caller's own app.
 */
const WRITE_ALL = [
  'TeamsAppInstallation.ReadWriteForUser.All',
  'TeamsAppInstallation.ReadWriteAndConsentForUser.All',
  'TeamsAppInstallation.ReadWriteSelectedForUser.All',
];
const READ_ALL = ['TeamsAppInstallation.ReadForUser.All', ...WRITE_ALL];

const EXPAND_ALL = new Set(['teamsapp', 'teamsappdefinition']);

/** The `$select`ed properties of an object (`id` always). */
function selected(obj: JsonObject, select: string[] | undefined): JsonObject {
  return select ? Object.fromEntries(Object.entries(obj).filter(([k]) => k === 'id' || select.includes(k))) : obj;
}

/** Installation id as Graph shows it: base64 of `<userId>##<teamsAppId>` (list example). */
function installationId(userId: string, teamsAppId: string): string {
  return Buffer.from(`${userId}##${teamsAppId}`).toString('base64');
}

export class TeamsApps {
  private readonly catalog = new Map<string, SeedTeamsApp>();
  private readonly installed = new Map<string, Set<string>>();
  private readonly blocked = new Set<string>();
  private readonly listeners: Array<(change: InstallationChange) => void> = [];
  callingAppId: string | undefined;

  constructor(seed: SeedTeamsApps | undefined) {
    this.callingAppId = seed?.callingAppId?.toLowerCase();
    for (const app of seed?.catalog ?? []) this.catalog.set(app.id.toLowerCase(), app);
    for (const i of seed?.installations ?? []) this.setInstalled(i.userId, i.teamsAppId, true);
    for (const b of seed?.blockedByPolicy ?? [])
      this.blocked.add(`${b.userId.toLowerCase()}|${b.teamsAppId.toLowerCase()}`);
  }

  onChange(listener: (change: InstallationChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  app(teamsAppId: string): SeedTeamsApp | undefined {
    return this.catalog.get(teamsAppId.toLowerCase());
  }

  /** The catalog app whose bot is this Microsoft App id. */
  appByBotId(botId: string): SeedTeamsApp | undefined {
    return [...this.catalog.values()].find((a) => a.botId?.toLowerCase() === botId.toLowerCase());
  }

  /** The users who have this app installed in personal scope. */
  installedUsers(teamsAppId: string): string[] {
    const id = teamsAppId.toLowerCase();
    return [...this.installed.entries()].filter(([, apps]) => apps.has(id)).map(([user]) => user);
  }

  isInstalled(userId: string, teamsAppId: string): boolean {
    return this.installed.get(userId.toLowerCase())?.has(teamsAppId.toLowerCase()) ?? false;
  }

  /** Installs or removes (also for tests and the Teams double); tells the listeners when something changed. */
  setInstalled(userId: string, teamsAppId: string, installed: boolean): void {
    const user = userId.toLowerCase();
    const id = teamsAppId.toLowerCase();
    const app = this.app(id);
    if (!app) throw new Error(`No Teams app '${teamsAppId}' in the app catalog`);
    const set = this.installed.get(user) ?? new Set<string>();
    this.installed.set(user, set);
    if (set.has(id) === installed) return;
    if (installed) set.add(id);
    else set.delete(id);
    for (const l of [...this.listeners]) l({ action: installed ? 'add' : 'remove', userId: user, app });
  }

  setBlocked(userId: string, teamsAppId: string, blocked: boolean): void {
    const key = `${userId.toLowerCase()}|${teamsAppId.toLowerCase()}`;
    if (blocked) this.blocked.add(key);
    else this.blocked.delete(key);
  }

  /** Apps this grant lets the caller see or manage: all, or with only "Self" permissions its own app ([GINST]). */
  private visible(app: SeedTeamsApp, grant: Grant, all: readonly string[], callerAppId: string | undefined): boolean {
    if (!grant.modelled || all.some((p) => grant.has(p))) return true;
    return !!callerAppId && app.webApplicationInfoId?.toLowerCase() === callerAppId;
  }

  private installation(userId: string, app: SeedTeamsApp, expand: Set<string>): JsonObject {
    const out: JsonObject = { id: installationId(userId, app.id) };
    if (expand.has('teamsapp')) {
      const distributionMethod = app.distributionMethod ?? 'organization';
      out.teamsApp = { id: app.id, externalId: app.externalId, displayName: app.displayName, distributionMethod };
    }
    if (expand.has('teamsappdefinition')) {
      out.teamsAppDefinition = {
        id: Buffer.from(`${app.id}##${app.version ?? '1.0.0'}`).toString('base64'),
        teamsAppId: app.id,
        azureADAppId: app.webApplicationInfoId ?? null,
        displayName: app.displayName,
        version: app.version ?? '1.0.0',
      };
    }
    return out;
  }

  /**
   * GET /users/{id}/teamwork/installedApps: `$expand=teamsApp,teamsAppDefinition`, `$filter` on `teamsApp/id`,
   * `teamsApp/externalId` or `teamsAppDefinition/teamsAppId` (examples 2 and 3 of the page), `$select`.
   * With only "Self" permissions other apps are left out: an empty list, as reported in docs-contrib#330.
   */
  list(userId: string, query: URLSearchParams, grant: Grant, callerAppId: string | undefined): JsonObject {
    const get = (name: string): string | null => [...query].find(([k]) => k.toLowerCase() === name)?.[1] ?? null;
    const expand = new Set(parseExpand(get('$expand')).map((e) => e.property.toLowerCase()));
    for (const e of expand) {
      if (e !== 'teamsapp' && e !== 'teamsappdefinition') throw propertyNotFound(e, 'userScopeTeamsAppInstallation');
    }
    const user = userId.toLowerCase();
    let rows = [...(this.installed.get(user) ?? [])]
      .map((id) => this.app(id))
      .filter((app): app is SeedTeamsApp => !!app && this.visible(app, grant, READ_ALL, callerAppId))
      .map((app) => ({ full: this.installation(user, app, EXPAND_ALL), shown: this.installation(user, app, expand) }));
    const filterText = get('$filter');
    if (filterText !== null) {
      const expr = parseFilter(filterText);
      for (const p of filterProperties(expr)) {
        if (!['id', 'teamsapp', 'teamsappdefinition'].includes(p.toLowerCase())) {
          throw propertyNotFound(p, 'userScopeTeamsAppInstallation');
        }
      }
      rows = rows.filter((r) => matchesFilter(expr, r.full));
    }
    const select = parseSelect(get('$select'));
    const value = rows.map((r) => selected(r.shown, select));
    return { '@odata.context': `${METADATA_URL}#users('${userId}')/teamwork/installedApps`, value };
  }

  /** POST /users/{id}/teamwork/installedApps: 201 empty; 409, 404, 403 as in proactive-delivery.md §1 and §7.14. */
  install(userId: string, body: unknown, grant: Grant, callerAppId: string | undefined): void {
    const bind = isJsonObject(body) ? body['teamsApp@odata.bind'] : undefined;
    if (typeof bind !== 'string')
      throw badRequest("The request body must bind 'teamsApp@odata.bind' to an app of the catalog.");
    const m = /\/appCatalogs\/teamsApps\/([^/?#]+)\/?$/i.exec(bind.trim());
    if (!m) throw badRequest(`Invalid teamsApp@odata.bind URL '${bind}'.`);
    const teamsAppId = decodeURIComponent(m[1]);
    const app = this.app(teamsAppId);
    // A wrong or stale catalog id: 404 (Company Communicator issues 239, 285).
    if (!app) throw new GraphError(404, 'NotFound', `The Teams app '${teamsAppId}' was not found in the app catalog.`);
    if (!this.visible(app, grant, WRITE_ALL, callerAppId)) {
      // msteams-docs#6820, microsoft-graph-docs#16666: Self permissions need webApplicationInfo.id = the caller.
      const message = `AAD App Id '${callerAppId ?? ''}' is not allowed to manage the Teams App '${app.id}'`;
      throw new GraphError(403, 'Forbidden', message);
    }
    if (this.blocked.has(`${userId.toLowerCase()}|${app.id.toLowerCase()}`)) {
      // Company Communicator issues 1537, 889.
      throw new GraphError(403, 'Forbidden', 'App is blocked by app permission policy', {}, 'AccessDenied');
    }
    // Already installed: 409 (microsoft-graph-docs#12199; Company Communicator treats it as installed).
    if (this.isInstalled(userId, app.id))
      throw new GraphError(409, 'Conflict', 'The app is already installed for this user.');
    this.setInstalled(userId, app.id, true);
  }

  /** GET /users/{id}/teamwork/installedApps/{installationId}/chat. */
  chat(
    userId: string,
    installation: string,
    query: URLSearchParams,
    grant: Grant,
    callerAppId: string | undefined,
    tenantId: string,
  ): JsonObject {
    let decoded: string;
    try {
      decoded = Buffer.from(installation, 'base64').toString('utf8');
    } catch {
      decoded = '';
    }
    const [owner, teamsAppId] = decoded.split('##');
    const app = teamsAppId ? this.app(teamsAppId) : undefined;
    const mine = owner?.toLowerCase() === userId.toLowerCase();
    if (!app || !mine || !this.isInstalled(userId, app.id) || !this.visible(app, grant, READ_ALL, callerAppId)) {
      throw new GraphError(404, 'NotFound', `The app installation '${installation}' was not found for this user.`);
    }
    const chat: JsonObject = {
      id: personalChatId(userId, app.botId ?? app.id),
      topic: null,
      chatType: 'oneOnOne',
      tenantId,
      webUrl: null,
    };
    const select = parseSelect([...query].find(([k]) => k.toLowerCase() === '$select')?.[1] ?? null);
    return { '@odata.context': `${METADATA_URL}#chats/$entity`, ...selected(chat, select) };
  }
}

/**
 * The Entra app id of the caller: the `appid` (v1 tokens) or `azp` (v2) claim when the bearer token is a JWT,
 * else the seed's `callingAppId`. The simulator checks no signature.
 */
export function callerAppId(authorization: string | undefined, fallback: string | undefined): string | undefined {
  const token = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '')?.[1] ?? '';
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {
        appid?: unknown;
        azp?: unknown;
      };
      const id =
        typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
      if (id) return id.toLowerCase();
    } catch {
      // not a JWT: fall back
    }
  }
  return fallback;
}
