/**
 * Fixtures of the guest lifecycle tests: review cards as the owners would see them (through the real
 * TeamsReviewMessenger), and inviting a guest, finding a guest's id and a group's members through the harness.
 */
import { strict as assert } from 'node:assert';
import type { Attachment } from 'botbuilder';
import {
  actionData,
  cardId,
  createHarness,
  lastCard,
  textOf,
  toConfirmation,
  type Harness,
  type HarnessOptions,
  type UserChat as Chat,
} from './botHarness';
import { TeamsReviewMessenger, type UserChat } from '../../src/bot/guests/reviewMessenger';
import { locFor } from '../../src/bot/locale';
import { renderUserChat, type UserChatContent } from '../../src/bot/messenger';
import { silentLogger } from '../../src/logging';
import type { ConversationStore, JsonObject } from '../../src/store/store';

/**
 * Review cards as the owners would see them, through the real TeamsReviewMessenger: each owner's copy rendered in
 * their last known language (the conversation reference the bot keeps), replaced in place on every update.
 */
export class RecordingReviews implements UserChat {
  readonly cards = new Map<string, Record<string, unknown>>();
  readonly notices: Array<{ userId: string; text: string }> = [];
  /** The harness's conversation store (set once the harness exists). */
  conversations: ConversationStore | undefined;
  readonly messenger = new TeamsReviewMessenger(this, 'remove', silentLogger);
  private next = 0;
  async sendToUserChat(
    tenantId: string,
    userId: string,
    what: UserChatContent,
  ): Promise<{ ok: true; location: JsonObject }> {
    const reference = (await this.conversations?.get(tenantId, userId)) ?? {};
    const content = renderUserChat(locFor(reference), what);
    const activityId = `review-card-${++this.next}`;
    if (typeof content === 'string') this.notices.push({ userId, text: content });
    else this.cards.set(`${userId}/${activityId}`, content.content as Record<string, unknown>);
    return { ok: true, location: { reference, activityId, ownerId: userId } };
  }
  async replaceCard(location: JsonObject, what: UserChatContent): Promise<boolean> {
    const card = renderUserChat(locFor(location), what) as Attachment;
    this.cards.set(
      `${String(location.ownerId)}/${String(location.activityId)}`,
      card.content as Record<string, unknown>,
    );
    return true;
  }
  latestFor(ownerId: string): Record<string, unknown> {
    const mine = [...this.cards.entries()].filter(([k]) => k.startsWith(`${ownerId}/`));
    assert.ok(mine.length > 0, `no review card for ${ownerId}`);
    return mine[mine.length - 1][1];
  }
}

/** The owner invites `email` to Contoso Expenses through the invite dialog. */
export async function invite(chat: Chat, email: string): Promise<void> {
  const confirm = await toConfirmation(chat, 'Contoso Expenses', null, email);
  const done = await chat.submit(actionData(lastCard(confirm), 'Send invitation'), cardId(confirm));
  assert.match(textOf(done), /invit/i);
}

export async function memberIds(h: Harness, groupId: string): Promise<string[]> {
  return (await h.graph<{ value: Array<{ id: string }> }>(`/groups/${groupId}/members?$select=id`)).body.value.map(
    (m) => m.id,
  );
}

/** The object id of the user with this address. */
export async function guestId(h: Harness, email: string): Promise<string> {
  const res = await h.graph<{ value: Array<{ id: string }> }>(`/users?$filter=mail eq '${email}'&$select=id`);
  return res.body.value[0].id;
}

/** A harness on the test's clock whose review cards are recorded; `options` add to it (e.g. adminUserIds). */
export async function reviewHarness(
  clock: () => Date,
  options: HarnessOptions = {},
): Promise<{ h: Harness; reviews: RecordingReviews }> {
  const reviews = new RecordingReviews();
  const h = await createHarness({ ...options, clock, reviewMessenger: reviews.messenger });
  reviews.conversations = h.store.conversations;
  return { h, reviews };
}
