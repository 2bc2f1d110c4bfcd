import { strict as assert } from 'node:assert';
import { createHarness, TENANT_ID, users, type Harness } from '../support/botHarness';
import { ACTIVITY_MARKER_TTL_MS, pruneActivityMarkers } from '../../src/bot/teamsBot';

describe('Teams bot: per-turn writes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('forgets de-duplication markers a day old, so the store does not grow with every turn; a recent re-send is still caught', async () => {
    const chat = h.chat(users.megan);
    await chat.send('help');
    const pruned = await pruneActivityMarkers(h.store, new Date(Date.now() + ACTIVITY_MARKER_TTL_MS + 60_000));
    assert.ok(pruned >= 1, 'the marker of that turn was removed');
    assert.equal(await pruneActivityMarkers(h.store, new Date()), 0, 'nothing younger than a day is removed');
  });

  it('keeps the same conversation reference from one activity to the next (no activity id in it)', async () => {
    const chat = h.chat(users.megan);
    await chat.send('help');
    const first = await h.store.conversations.get(TENANT_ID, users.megan.aadObjectId);
    await chat.send('help');
    const second = await h.store.conversations.get(TENANT_ID, users.megan.aadObjectId);
    assert.ok(first);
    assert.equal(first.activityId, undefined);
    assert.deepEqual(second, first);
    assert.deepEqual((first.conversation as { id?: string }).id, chat.conversationId);
  });
});
