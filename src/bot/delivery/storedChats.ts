/**
 * The person's 1:1 chat as the bot last saw it (the conversation reference stored on their last message), or a
 * new 1:1 conversation created through a service URL of the tenant; 403 and 404 forget the stored reference.
 * It installs nothing: a person who never installed the app cannot be reached (createConversation answers 403).
 */
import type { CloudAdapter, ConversationReference } from 'botbuilder';
import type { ConversationStore, JsonObject } from '../../store/store';
import { unreachableReasonOf, type ChatOpening, type PersonalChats, type UnreachableReason } from './personalChat';
import { failureOf } from './connector';
import { createPersonalConversation } from './tenantChannels';

export class StoredChats implements PersonalChats {
  /** A known reference per tenant (service URL and bot), to create conversations through. */
  private readonly known = new Map<string, Partial<ConversationReference>>();

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly conversations: ConversationStore,
    private readonly appId: string,
    private readonly clock: () => Date = () => new Date(),
    /** Waits for a slot in Teams' pace before createConversation (it counts as a request like a send). */
    private readonly pace: (tenantId: string, userId: string) => Promise<() => void> = async () => () => undefined,
  ) {}

  /** A reference in the tenant (e.g. the requester's) whose service URL can create a conversation with someone else. */
  hint(tenantId: string, reference: JsonObject | undefined): void {
    const known = reference as Partial<ConversationReference> | undefined;
    if (known?.serviceUrl) this.known.set(tenantId, known);
  }

  async open(tenantId: string, userId: string): Promise<ChatOpening> {
    const stored = await this.conversations.get(tenantId, userId);
    if (stored) {
      this.hint(tenantId, stored);
      return { ok: true, reference: stored as Partial<ConversationReference> };
    }
    const known = this.known.get(tenantId);
    if (!known?.serviceUrl)
      return {
        ok: false,
        reason: 'notInstalled',
        detail: 'no conversation with this person yet, and no service URL to create one',
      };
    let created: Partial<ConversationReference>;
    try {
      const via = { adapter: this.adapter, appId: this.appId, pace: this.pace };
      const at = { serviceUrl: known.serviceUrl, bot: known.bot };
      const conversation = await createPersonalConversation(via, at, tenantId, userId);
      created = { ...known, conversation, user: { id: userId, name: '' } };
    } catch (err) {
      const failure = failureOf(err);
      if (failure.status === 403 || failure.status === 404)
        return {
          ok: false,
          reason: unreachableReasonOf(failure.code),
          detail: `${failure.status} ${failure.code ?? ''}`.trim(),
        };
      throw err;
    }
    if (!created.conversation?.id) throw new Error('the new conversation has no id');
    await this.conversations.upsert(tenantId, userId, JSON.parse(JSON.stringify(created)) as JsonObject, this.clock());
    return { ok: true, reference: created };
  }

  async refused(
    tenantId: string,
    userId: string,
    status: number,
    code: string | undefined,
  ): Promise<UnreachableReason | undefined> {
    if (status !== 403 && status !== 404) return undefined;
    await this.conversations.delete(tenantId, userId);
    // A stale conversation (404, or not in the roster after a reinstall) may work once opened again.
    return status === 404 || code === 'BotNotInConversationRoster' ? undefined : unreachableReasonOf(code);
  }
}
