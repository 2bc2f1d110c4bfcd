import { strict as assert } from 'node:assert';
import { createHarness, TENANT_ID, users, type Harness } from '../support/botHarness';

describe('Teams bot: per-turn writes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });

  afterEach(async () => {
    await h.close();
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
