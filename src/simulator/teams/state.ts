/**
 * What the Teams double knows about one tenant and one bot: who installed the app (and in which scope), who blocked
 * it, the 1:1 conversations and the messages in them. Sources are cited per rule in proactive-delivery.md (§1-§5, §7).
 */
import { createHash } from 'node:crypto';
import { personalChatId } from '../teamsApps';

export type JsonObject = Record<string, unknown>;

/** Where the app is installed for a person: personal scope, only a team they are in, or nowhere. */
export type InstallScope = 'personal' | 'team' | 'none';

export interface Person {
  aadObjectId: string;
  /** The person's id for this bot (`29:…`, unique per bot; [PROACT]). */
  teamsId: string;
  name: string;
  scope: InstallScope;
  /** Was installed in personal scope once (the `29:` id is known to the bot). */
  everInstalled: boolean;
  /** Removed the app after installing it (installationUpdate remove was sent). */
  uninstalled: boolean;
  blocked: boolean;
}

/** A message as the person sees it in the chat. */
export interface ChatMessage {
  id: string;
  /** True when Teams returned this id to the bot (text + attachments split messages have none; §5). */
  idReturned: boolean;
  activity: JsonObject;
  deleted: boolean;
  updates: number;
}

export interface Conversation {
  id: string;
  kind: 'personal' | 'group';
  /** The person of a personal chat. */
  aadObjectId?: string;
  /** Group chats the bot may not be in (§7.3). */
  botInRoster: boolean;
  messages: ChatMessage[];
  lastId: number;
}

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('|')).digest('base64url');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class TeamsState {
  private readonly people = new Map<string, Person>();
  private readonly byTeamsId = new Map<string, Person>();
  private readonly conversations = new Map<string, Conversation>();
  botDisabled = false;

  constructor(
    readonly tenantId: string,
    readonly botAppId: string,
    private readonly clock: () => number,
  ) {}

  /** The bot's channel account id (`28:<appId>`; [PROACT]). */
  get botId(): string {
    return `28:${this.botAppId}`;
  }

  person(aadObjectId: string, name?: string): Person {
    const key = aadObjectId.toLowerCase();
    let p = this.people.get(key);
    if (!p) {
      if (!GUID.test(key)) throw new Error(`Not an Entra object id: ${aadObjectId}`);
      p = {
        aadObjectId: key,
        teamsId: `29:1${digest('user', this.tenantId, this.botAppId, key).slice(0, 40)}`,
        name: name ?? '',
        scope: 'none',
        everInstalled: false,
        uninstalled: false,
        blocked: false,
      };
      this.people.set(key, p);
      this.byTeamsId.set(p.teamsId, p);
    } else if (name !== undefined) {
      p.name = name;
    }
    return p;
  }

  knownPerson(aadObjectId: string): Person | undefined {
    return this.people.get(aadObjectId.toLowerCase());
  }

  allPeople(): Person[] {
    return [...this.people.values()];
  }

  /** A member id as the bot sends it in createConversation: `29:…` or an Entra object id. */
  resolveMember(id: string): { person: Person | undefined; form: 'teams' | 'aad' | 'other' } {
    if (id.startsWith('29:')) return { person: this.byTeamsId.get(id), form: 'teams' };
    if (GUID.test(id)) return { person: this.knownPerson(id), form: 'aad' };
    return { person: undefined, form: 'other' };
  }

  /** The one 1:1 chat of a person with this bot: the same `a:` id every time (§7.1, inference). */
  personalConversationId(p: Person): string {
    return `a:1${digest('chat', this.tenantId, this.botAppId, p.aadObjectId).slice(0, 60)}`;
  }

  /** The id Graph's `installedApps/{id}/chat` returns for the same chat ([GINST]). */
  graphChatId(p: Person): string {
    return personalChatId(p.aadObjectId, this.botAppId);
  }

  /** Opens (or returns) the person's 1:1 conversation. */
  personalConversation(p: Person): Conversation {
    const id = this.personalConversationId(p);
    let c = this.conversations.get(id);
    if (!c) {
      c = { id, kind: 'personal', aadObjectId: p.aadObjectId, botInRoster: true, messages: [], lastId: 0 };
      this.conversations.set(id, c);
    }
    return c;
  }

  /** A conversation by the id the bot uses: an `a:` id, or the Graph chat id of a personal install. */
  conversation(id: string): Conversation | undefined {
    const direct = this.conversations.get(id);
    if (direct) return direct;
    const graph = /^19:([0-9a-f-]{36})_([0-9a-f-]{36})@unq\.gbl\.spaces$/i.exec(id);
    const bot = this.botAppId.toLowerCase();
    if (graph && (graph[1].toLowerCase() === bot || graph[2].toLowerCase() === bot)) {
      const p = this.knownPerson(graph[1].toLowerCase() === bot ? graph[2] : graph[1]);
      // Accepted once the app is installed for the person (§7, issue text); unknown before.
      if (p && p.scope === 'personal') return this.personalConversation(p);
      if (p && this.conversations.has(this.personalConversationId(p))) return this.personalConversation(p);
    }
    return undefined;
  }

  addGroupChat(id: string, botInRoster: boolean): Conversation {
    const c: Conversation = { id, kind: 'group', botInRoster, messages: [], lastId: 0 };
    this.conversations.set(id, c);
    return c;
  }

  personOf(c: Conversation): Person | undefined {
    return c.aadObjectId ? this.knownPerson(c.aadObjectId) : undefined;
  }

  /**
   * A new activity id: the clock's milliseconds, like the doc examples, unique within the conversation only
   * (§7.11, inference).
   */
  nextActivityId(c: Conversation): string {
    const id = Math.max(this.clock(), c.lastId + 1);
    c.lastId = id;
    return String(id);
  }

  /** Stores a message the person now sees; returns its id. */
  post(c: Conversation, activity: JsonObject, idReturned: boolean): string {
    const id = this.nextActivityId(c);
    c.messages.push({ id, idReturned, activity: { ...activity, id }, deleted: false, updates: 0 });
    return id;
  }

  message(c: Conversation, id: string): ChatMessage | undefined {
    return c.messages.find((m) => m.id === id);
  }
}
