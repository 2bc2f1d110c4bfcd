/**
 * The Bot Connector REST routes a Teams bot calls on its serviceUrl, answered as real Teams does
 * (proactive-delivery.md §1-§5 and §7; paths as botframework-connector's ConversationsOperations sends them).
 */
import {
  APP_TENANT_LIMITS,
  RateLimiter,
  THREAD_ROSTER_LIMITS,
  THREAD_SEND_LIMITS,
  type LimitCheck,
} from './rateLimits';
import { connectorError, ok, refusals, type ConnectorResponse } from './connectorReplies';

import type { Conversation, JsonObject, Person, TeamsState } from './state';

/** One HTTP attempt the double received. */
export interface ConnectorAttempt {
  /** The double's clock when it arrived. */
  time: number;
  method: string;
  operation: Operation;
  /** The conversation addressed (the `a:` id of a 1:1 chat also when the Graph chat id was used); '' for none. */
  conversationId: string;
  status: number;
  /** Error code of refused attempts. */
  code?: string;
  /** The serviceUrl prefix the request came in on. */
  serviceUrl: string;
}

export type Operation = 'createConversation' | 'send' | 'update' | 'delete' | 'members' | 'unknown';

/** How the connector refuses things; tests switch these. */
export interface ConnectorSettings {
  rateLimits: boolean;
  /** Throttled attempts also fill the windows (off: honouring Retry-After always succeeds). */
  countThrottled: boolean;
  /** Largest accepted activity, in bytes of its UTF-16 JSON (§5: ~100 KB; 80/40/28 KB in older sources). */
  maxBytes: number;
  /** Code of the not-installed 403: the documented `ForbiddenOperationException` or `BadArgument` seen in the field. */
  notInstalledCode: 'ForbiddenOperationException' | 'BadArgument';
  /** How sends after an uninstall are refused (§3, §7.5). */
  uninstalledForm: 'BotNotInConversationRoster' | 'MessageWritesBlocked';
  /** After an uninstall, sends still succeed and are delivered (OfficeDev/BotBuilder-MicrosoftTeams#286). */
  leaky: boolean;
  /** The tenant is a GCC tenant and the bot calls the public host: every call 403 `InvalidBotApiHost` ([STATUS]). */
  gccTenant: boolean;
  /**
   * Sends into the Graph chat id `19:…@unq.gbl.spaces` of an installed person: accepted, or refused as reported in
   * the field: 400 (microsoftgraph/msgraph-sdk-javascript#343) or BotNotInConversationRoster
   * (microsoft/BotFramework-Services#344).
   */
  graphChatIds: 'accepted' | 'BadSyntax' | 'BotNotInConversationRoster';
}

interface Failure {
  status: number;
  code: string;
  retryAfterSeconds?: number;
}

/** Default codes of injected transients ([STATUS], §7.8). */
const FAILURE_CODES: Record<number, string> = {
  412: 'PreconditionFailed',
  500: 'InternalServerError',
  502: 'ServiceError',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

interface Route {
  operation: Operation;
  conversationId?: string;
  activityId?: string;
}

function route(method: string, path: string): Route {
  let parts: string[];
  try {
    parts = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return { operation: 'unknown' };
  }
  if (parts[0] !== 'v3' || parts[1] !== 'conversations') return { operation: 'unknown' };
  if (parts.length === 2 && method === 'POST') return { operation: 'createConversation' };
  const conversationId = parts[2];
  if (parts[3] === 'activities') {
    if (parts.length === 4 && method === 'POST') return { operation: 'send', conversationId };
    if (parts.length === 5 && parts[4] !== 'history') {
      if (method === 'POST') return { operation: 'send', conversationId, activityId: parts[4] };
      if (method === 'PUT') return { operation: 'update', conversationId, activityId: parts[4] };
      if (method === 'DELETE') return { operation: 'delete', conversationId, activityId: parts[4] };
    }
  }
  if (parts[3] === 'members' && method === 'GET' && parts.length <= 5) {
    return { operation: 'members', conversationId, activityId: parts[4] };
  }
  return { operation: 'unknown', conversationId };
}

export class Connector {
  private readonly limiter: RateLimiter;
  private readonly failures: Failure[] = [];
  readonly attempts: ConnectorAttempt[] = [];

  constructor(
    private readonly state: TeamsState,
    readonly settings: ConnectorSettings,
    private readonly clock: () => number,
  ) {
    this.limiter = new RateLimiter(clock);
  }

  /** The next `count` requests answer `status` (after the rate check: they count against the limits). */
  failNext(status: number, count: number, code?: string, retryAfterSeconds?: number): void {
    for (let i = 0; i < count; i += 1) {
      this.failures.push({ status, code: code ?? FAILURE_CODES[status] ?? 'ServiceError', retryAfterSeconds });
    }
  }

  resetLimits(): void {
    this.limiter.reset();
  }

  /** Answers one request; `rawBody` is the request body text as received. */
  handle(method: string, path: string, rawBody: string, serviceUrl: string): ConnectorResponse {
    const r = route(method, path);
    const conversation = r.conversationId !== undefined ? this.state.conversation(r.conversationId) : undefined;
    const createTarget = r.operation === 'createConversation' ? this.createTarget(rawBody) : undefined;
    const conversationId = conversation?.id ?? createTarget ?? r.conversationId ?? '';
    const response = this.answer(r, conversation, conversationId, method, rawBody);
    const attempt: ConnectorAttempt = {
      time: this.clock(),
      method,
      operation: r.operation,
      conversationId,
      status: response.status,
      serviceUrl,
    };
    const body = response.body as { error?: { code?: string }; errorCode?: number } | undefined;
    if (body?.error?.code) attempt.code = body.error.code;
    else if (body?.errorCode === 209) attempt.code = 'MessageWritesBlocked';
    this.attempts.push(attempt);
    return response;
  }

  private answer(
    r: Route,
    conversation: Conversation | undefined,
    conversationId: string,
    method: string,
    rawBody: string,
  ): ConnectorResponse {
    if (r.operation === 'unknown')
      return connectorError(404, 'NotFound', `No Bot Connector route ${method} ${conversationId}.`);
    const throttled = this.throttle(r.operation, conversationId);
    if (throttled) return throttled;
    const failure = this.failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfterSeconds !== undefined ? { 'Retry-After': String(failure.retryAfterSeconds) } : {};
      return connectorError(failure.status, failure.code, `Injected ${failure.status}.`, headers);
    }
    if (this.settings.gccTenant) return refusals.invalidHost();
    const graphIdRefusal = this.graphChatIdRefusal(r, conversation);
    if (graphIdRefusal) return graphIdRefusal;
    let body: unknown;
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody) as unknown;
      } catch {
        return connectorError(400, 'BadSyntax', 'The request body is not valid JSON.');
      }
    }
    switch (r.operation) {
      case 'createConversation':
        return this.create(body);
      case 'send':
        return this.send(conversation, body, rawBody);
      case 'update':
        return this.update(conversation, r.activityId ?? '', body, rawBody);
      case 'delete':
        return this.remove(conversation, r.activityId ?? '');
      default:
        return this.members(conversation, r.activityId);
    }
  }

  /** The field-reported refusal of a Graph chat id used as the conversation, when switched on. */
  private graphChatIdRefusal(r: Route, conversation: Conversation | undefined): ConnectorResponse | undefined {
    const aliased =
      conversation !== undefined && r.conversationId !== undefined && r.conversationId !== conversation.id;
    if (!aliased || this.settings.graphChatIds === 'accepted') return undefined;
    if (this.settings.graphChatIds === 'BotNotInConversationRoster') return refusals.notInRoster();
    // The wording is Bot Framework's for a malformed conversation id (MicrosoftDocs/bot-docs#1514).
    return connectorError(400, 'BadSyntax', 'Bad format of conversation ID');
  }

  /** 429 `Throttled` with Retry-After when a limit is reached (§4, §7.7); every operation counts, updates included. */
  private throttle(operation: Operation, conversationId: string): ConnectorResponse | undefined {
    if (!this.settings.rateLimits) return undefined;
    const checks: LimitCheck[] = [{ key: 'app', limits: APP_TENANT_LIMITS }];
    if (conversationId !== '') {
      const roster = operation === 'members';
      const limits = roster ? THREAD_ROSTER_LIMITS : THREAD_SEND_LIMITS;
      checks.push({ key: `${roster ? 'roster' : 'send'}:${conversationId}`, limits });
    }
    const waitMs = this.limiter.take(checks, this.settings.countThrottled);
    if (waitMs === 0) return undefined;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return connectorError(429, 'Throttled', 'Too many requests', { 'Retry-After': String(seconds) });
  }

  /** The conversation a createConversation would open (for the per-thread limit), or undefined. */
  private createTarget(rawBody: string): string | undefined {
    try {
      const params = JSON.parse(rawBody) as { members?: Array<{ id?: unknown }> };
      const id = params.members?.[0]?.id;
      if (typeof id !== 'string') return undefined;
      const { person } = this.state.resolveMember(id);
      return person ? this.state.personalConversationId(person) : undefined;
    } catch {
      return undefined;
    }
  }

  private tooLarge(rawBody: string): boolean {
    // JS strings are UTF-16 code units: two bytes each ([FMT]: the limit is on the UTF-16 payload).
    return rawBody.length * 2 > this.settings.maxBytes;
  }

  /** POST /v3/conversations (§1, §7.1, §7.2). */
  private create(body: unknown): ConnectorResponse {
    const params = (body ?? {}) as JsonObject;
    const members = Array.isArray(params.members) ? (params.members as JsonObject[]) : [];
    const channelData = (params.channelData ?? {}) as { tenant?: { id?: unknown } };
    const tenantId = typeof params.tenantId === 'string' ? params.tenantId : channelData.tenant?.id;
    // The double opens 1:1 chats only; Bot Framework's answer to unusable parameters (MicrosoftDocs/bot-docs#1155).
    const oneMember = members.length === 1 && typeof members[0]?.id === 'string';
    if (params.isGroup === true || !oneMember || typeof tenantId !== 'string' || tenantId === '') {
      return connectorError(400, 'BadSyntax', 'Incorrect conversation creation parameters');
    }
    if (this.state.botDisabled) return refusals.disabled();
    const { person, form } = this.state.resolveMember(members[0].id as string);
    const notInstalled = refusals.notInstalled(this.settings.notInstalledCode);
    if (!person || tenantId.toLowerCase() !== this.state.tenantId.toLowerCase()) return notInstalled;
    // An Entra object id works only once the app is installed for the person (msteams-docs#11125); the `29:` id
    // also with a team-only install, whose sends then answer ConversationBlockedByUser (msteams-docs#10229).
    if (person.scope === 'none' || (form === 'aad' && person.scope !== 'personal')) return notInstalled;
    const conversation = this.state.personalConversation(person);
    const activity = params.activity as JsonObject | undefined;
    if (activity && typeof activity === 'object') {
      if (this.tooLarge(JSON.stringify(activity))) return refusals.tooLarge();
      const refused = this.writeRefusal(conversation);
      if (refused) return refused;
      const posted = this.deliver(conversation, activity);
      return ok(201, posted ? { id: conversation.id, activityId: posted } : { id: conversation.id });
    }
    return ok(201, { id: conversation.id });
  }

  /** Why the bot may not write into this conversation now, or undefined (§3, §7.2-§7.5). */
  private writeRefusal(c: Conversation): ConnectorResponse | undefined {
    if (this.state.botDisabled) return refusals.disabled();
    if (c.kind === 'group') return c.botInRoster ? undefined : refusals.notInRoster();
    const person = this.state.personOf(c);
    if (!person) return refusals.notInRoster();
    if (person.blocked || person.scope === 'team') return refusals.blocked();
    if (person.scope === 'personal') return undefined;
    if (person.uninstalled && this.settings.leaky) return undefined;
    if (person.uninstalled && this.settings.uninstalledForm === 'MessageWritesBlocked') return refusals.writesBlocked();
    return refusals.notInRoster();
  }

  /** Stores a message activity; text with attachments becomes two messages and no id (§5, §7.10). */
  private deliver(c: Conversation, activity: JsonObject): string | undefined {
    if (activity.type !== undefined && activity.type !== 'message') return undefined;
    const attachments = Array.isArray(activity.attachments) ? activity.attachments : [];
    const hasText = typeof activity.text === 'string' && activity.text.trim() !== '';
    if (hasText && attachments.length > 0) {
      this.state.post(c, { ...activity, attachments: undefined }, false);
      this.state.post(c, { ...activity, text: undefined }, false);
      return undefined;
    }
    return this.state.post(c, activity, true);
  }

  /** POST /v3/conversations/{id}/activities[/{replyToId}]. */
  private send(c: Conversation | undefined, body: unknown, rawBody: string): ConnectorResponse {
    if (!c) return refusals.conversationNotFound();
    const refused = this.writeRefusal(c);
    if (refused) return refused;
    if (this.tooLarge(rawBody)) return refusals.tooLarge();
    if (!body || typeof body !== 'object') return connectorError(400, 'BadArgument', 'The activity is missing.');
    const id = this.deliver(c, body as JsonObject);
    return ok(201, id === undefined ? {} : { id });
  }

  /** PUT /v3/conversations/{id}/activities/{activityId} (update-and-delete-bot-messages; §5, §7.11). */
  private update(c: Conversation | undefined, activityId: string, body: unknown, rawBody: string): ConnectorResponse {
    if (!c) return refusals.conversationNotFound();
    const refused = this.writeRefusal(c);
    if (refused) return refused;
    if (this.tooLarge(rawBody)) return refusals.tooLarge();
    const message = this.state.message(c, activityId);
    if (!message) return refusals.activityNotFound();
    if (message.deleted) return refusals.deletedActivity();
    if (!body || typeof body !== 'object') return connectorError(400, 'BadArgument', 'The activity is missing.');
    message.activity = { ...(body as JsonObject), id: activityId };
    message.updates += 1;
    return ok(200, { id: activityId });
  }

  /** DELETE /v3/conversations/{id}/activities/{activityId}. */
  private remove(c: Conversation | undefined, activityId: string): ConnectorResponse {
    if (!c) return refusals.conversationNotFound();
    const refused = this.writeRefusal(c);
    if (refused) return refused;
    const message = this.state.message(c, activityId);
    if (!message) return refusals.activityNotFound();
    if (message.deleted) return refusals.deletedActivity();
    message.deleted = true;
    return ok(200);
  }

  /** GET /v3/conversations/{id}/members[/{memberId}] (roster calls count against their own limits; §4). */
  private members(c: Conversation | undefined, memberId: string | undefined): ConnectorResponse {
    if (!c) return refusals.conversationNotFound();
    if (c.kind === 'group' && !c.botInRoster) return refusals.notInRoster();
    const person = this.state.personOf(c);
    const list = person ? [this.account(person)] : [];
    if (memberId === undefined) return ok(200, list);
    const found = list.find((m) => m.id === memberId || m.aadObjectId === memberId.toLowerCase());
    if (found) return ok(200, found);
    return connectorError(404, 'MemberNotFoundInConversation', 'The member is not part of the conversation.');
  }

  private account(p: Person): { id: string; aadObjectId: string; name: string; tenantId: string } {
    return { id: p.teamsId, aadObjectId: p.aadObjectId, name: p.name, tenantId: this.state.tenantId };
  }
}
