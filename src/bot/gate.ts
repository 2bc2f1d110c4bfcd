/**
 * Who may use the bot, checked once per activity before any dialog runs: Teams only (`channelId` msteams), an
 * allowed tenant, and a user the directory knows. Guests (userType Guest) get a narrower set of commands: see
 * docs/security.md ("Guest users").
 */
import type { TurnContext } from 'botbuilder';
import type { Directory, DirectoryUser } from '../graph/directory';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { Command } from './commands';

/** What the directory says about the sender of this turn (set by the gate, read by the dialogs). */
export const ACTOR_KIND = Symbol('actorKind');
export type ActorKind = 'member' | 'guest';

/** The commands a guest user may run; everything else answers "not for guests". */
const GUEST_COMMANDS: ReadonlySet<Command['name']> = new Set(['request', 'myRequests', 'help', 'cancel']);

export function guestMay(command: Command['name']): boolean {
  return GUEST_COMMANDS.has(command);
}

export function actorKind(context: TurnContext): ActorKind {
  return context.turnState.get(ACTOR_KIND) === 'guest' ? 'guest' : 'member';
}

export type GateRefusal = 'channel' | 'tenant' | 'unknownUser';

export interface GateOptions {
  store: Store;
  logger: Logger;
  /** Looks the sender up (cached); absent: no directory check (tests of the bot without a directory). */
  directory?: Pick<Directory, 'getUser'>;
  /** Empty: any tenant. */
  allowedTenantIds: readonly string[];
  clock: () => Date;
  /** How long a user looked up is remembered by this instance. */
  cacheMs?: number;
}

const CACHE_MAX = 5000;

const LOG_EVENT: Record<GateRefusal, string> = {
  channel: 'channel.refused',
  tenant: 'tenant.refused',
  unknownUser: 'actor.unknown',
};

export class ActivityGate {
  private readonly known = new Map<string, { user: DirectoryUser | null; until: number }>();

  constructor(private readonly options: GateOptions) {}

  /** null when the activity may go on (and the actor's kind is in the turn state), else why it was refused. */
  async check(context: TurnContext): Promise<GateRefusal | null> {
    const activity = context.activity;
    const channelData = activity.channelData as { tenant?: { id?: unknown } } | undefined;
    const rawTenant = activity.conversation?.tenantId ?? channelData?.tenant?.id;
    const tenantId = typeof rawTenant === 'string' ? rawTenant.toLowerCase().slice(0, 64) : '';
    const userId = typeof activity.from?.aadObjectId === 'string' ? activity.from.aadObjectId.slice(0, 64) : '';
    if (activity.channelId !== 'msteams')
      return this.refuse('channel', tenantId, userId, String(activity.channelId ?? '').slice(0, 40));
    const allowed = this.options.allowedTenantIds;
    if (allowed.length > 0 && !allowed.includes(tenantId)) return this.refuse('tenant', tenantId, userId);
    // Events without a user (e.g. a bot added by an admin policy) carry no request of anyone: nothing to look up.
    if (!this.options.directory || !userId || !['message', 'invoke'].includes(activity.type)) return null;
    const user = await this.lookUp(userId);
    if (!user) return this.refuse('unknownUser', tenantId, userId);
    context.turnState.set(ACTOR_KIND, user.userType === 'Guest' ? 'guest' : 'member');
    return null;
  }

  private async lookUp(userId: string): Promise<DirectoryUser | null> {
    const now = this.options.clock().getTime();
    const cached = this.known.get(userId);
    if (cached && cached.until > now) return cached.user;
    const user = await this.options.directory!.getUser(userId);
    if (this.known.size >= CACHE_MAX) this.known.clear();
    // A user not found is asked again sooner: a new hire may appear in the directory a little later.
    this.known.set(userId, { user, until: now + (user ? (this.options.cacheMs ?? 5 * 60_000) : 60_000) });
    return user;
  }

  private async refuse(reason: GateRefusal, tenantId: string, userId: string, channel?: string): Promise<GateRefusal> {
    this.options.logger.warn(LOG_EVENT[reason], {
      tenantId: tenantId || undefined,
      actorId: userId || undefined,
      channel,
    });
    await this.options.store.audit
      .append({
        time: this.options.clock().toISOString(),
        tenantId: tenantId || 'unknown',
        actorId: userId || 'unknown',
        action: 'activity.refused',
        outcome: reason,
        detail: channel ? `channel ${channel}` : undefined,
      })
      .catch((err: unknown) => this.options.logger.error('audit.failed', { action: 'activity.refused', error: err }));
    return reason;
  }
}
