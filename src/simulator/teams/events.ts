/**
 * Activities Teams posts to the bot's messaging endpoint: install and uninstall events and what people write,
 * shaped as in [EVENTS] and bots-notifications (proactive-delivery.md §1, §3, §7.5, §7.6).
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, Person, TeamsState } from './state';

/** How install events reach the bot (field reports in §1 "Latency / consistency caveats", §2, §3). */
export interface EventSwitches {
  /** Real milliseconds to wait before posting each event; 0 posts at once. */
  delayMs: number;
  /** Extra copies of each event (microsoftgraph/msgraph-sdk-javascript#343: several conversationUpdates). */
  duplicate: number;
  /** Events never sent (microsoft/BotFramework-Services#169, #213). */
  drop: 'none' | 'all' | 'installationUpdate' | 'conversationUpdate';
  /** Only the first personal install of a person sends events (maintainer, microsoft/BotBuilder-Samples#2599). */
  onlyFirstInstall: boolean;
  /** Keep events until `releaseEvents()` (to test the order of install and message without timers). */
  hold: boolean;
  /** An `add` follows each `remove` (microsoft/botframework-sdk#6604, microsoft/botbuilder-dotnet#6875). */
  addAfterRemove: boolean;
}

export const DEFAULT_EVENT_SWITCHES: EventSwitches = {
  delayMs: 0,
  duplicate: 0,
  drop: 'none',
  onlyFirstInstall: false,
  hold: false,
  addAfterRemove: false,
};

/** One activity the double posted (or tried to post) to the bot. */
export interface EventDelivery {
  type: string;
  action?: string;
  aadObjectId: string;
  /** HTTP status the bot answered; 0 when the post failed. */
  status: number;
  body?: unknown;
  error?: string;
}

export interface BotReply {
  status: number;
  body?: unknown;
}

export class EventPoster {
  private held: Array<() => Promise<void>> = [];
  private readonly pending = new Set<Promise<void>>();
  readonly deliveries: EventDelivery[] = [];

  constructor(
    private readonly state: TeamsState,
    private readonly botEndpoint: string,
    private readonly serviceUrl: () => string,
    readonly switches: EventSwitches,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The fields every activity from Teams in a person's 1:1 chat carries. */
  envelope(p: Person, type: string): JsonObject {
    return {
      type,
      id: `f:${randomUUID()}`,
      timestamp: new Date(this.clock()).toISOString(),
      channelId: 'msteams',
      serviceUrl: this.serviceUrl(),
      from: { id: p.teamsId, name: p.name, aadObjectId: p.aadObjectId },
      recipient: { id: this.state.botId, name: '' },
      conversation: {
        id: this.state.personalConversationId(p),
        conversationType: 'personal',
        tenantId: this.state.tenantId,
      },
      channelData: { tenant: { id: this.state.tenantId } },
    };
  }

  /** conversationUpdate (membersAdded: the bot and the person) and installationUpdate add (§7.6). */
  installed(p: Person, firstInstall: boolean): Promise<void> {
    if (this.switches.onlyFirstInstall && !firstInstall) return Promise.resolve();
    const update = {
      ...this.envelope(p, 'conversationUpdate'),
      membersAdded: [{ id: this.state.botId }, { id: p.teamsId, aadObjectId: p.aadObjectId }],
    };
    const install = { ...this.envelope(p, 'installationUpdate'), action: 'add' };
    return this.emitAll(p, [update, install]);
  }

  /** installationUpdate remove, no membersRemoved (§3, §7.5); optionally an add right after. */
  uninstalled(p: Person): Promise<void> {
    const events: JsonObject[] = [{ ...this.envelope(p, 'installationUpdate'), action: 'remove' }];
    if (this.switches.addAfterRemove) events.push({ ...this.envelope(p, 'installationUpdate'), action: 'add' });
    return this.emitAll(p, events);
  }

  /** Posts what a person writes (or an invoke) at once, whatever the switches; answers the bot's reply. */
  async fromUser(p: Person, activity: JsonObject): Promise<BotReply> {
    const full = {
      ...this.envelope(p, 'message'),
      id: String(this.clock()),
      locale: 'en-US',
      textFormat: 'plain',
      ...activity,
    };
    return this.post(p, full);
  }

  /** Posts the held events, in order. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    for (const send of held) await send();
  }

  heldCount(): number {
    return this.held.length;
  }

  /** Waits for every delayed event. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private dropped(type: string): boolean {
    return this.switches.drop === 'all' || this.switches.drop === type;
  }

  private async emitAll(p: Person, events: JsonObject[]): Promise<void> {
    for (const event of events) {
      const type = String(event.type);
      if (this.dropped(type)) continue;
      for (let copy = 0; copy <= this.switches.duplicate; copy += 1) {
        const send = async (): Promise<void> => {
          await this.post(p, { ...event, id: `f:${randomUUID()}`, serviceUrl: this.serviceUrl() });
        };
        if (this.switches.hold) this.held.push(send);
        else if (this.switches.delayMs > 0) this.later(send, this.switches.delayMs);
        else await send();
      }
    }
  }

  private later(send: () => Promise<void>, ms: number): void {
    const done: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, ms))
      .then(send)
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  private async post(p: Person, activity: JsonObject): Promise<BotReply> {
    const delivery: EventDelivery = { type: String(activity.type), aadObjectId: p.aadObjectId, status: 0 };
    if (typeof activity.action === 'string') delivery.action = activity.action;
    try {
      const res = await fetch(this.botEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(activity),
      });
      const text = await res.text();
      delivery.status = res.status;
      if (text.trim() !== '') {
        try {
          delivery.body = JSON.parse(text) as unknown;
        } catch {
          delivery.body = text;
        }
      }
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
    this.deliveries.push(delivery);
    return { status: delivery.status, body: delivery.body };
  }
}
