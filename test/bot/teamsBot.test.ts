import { strict as assert } from 'node:assert';
import sinon from 'sinon';
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

  it('saves the dialog state before a card goes out, so the user’s next activity finds it on any instance', async () => {
    const order: string[] = [];
    const write = h.store.state.write.bind(h.store.state);
    sinon.stub(h.store.state, 'write').callsFake(async (key, value, expected) => {
      if (key.includes('/conversations/')) order.push('dialog state');
      return write(key, value, expected);
    });
    const send = h.adapter.sendActivities.bind(h.adapter);
    sinon.stub(h.adapter, 'sendActivities').callsFake(async (context, activities) => {
      order.push(...activities.map((a) => ((a.attachments?.length ?? 0) > 0 ? 'card' : 'text')));
      return send(context, activities);
    });
    const chat = h.chat(users.megan);
    await chat.send('invite guest');
    assert.ok(order.includes('card'), `the app card was sent: ${JSON.stringify(order)}`);
    assert.ok(
      order.indexOf('dialog state') < order.indexOf('card'),
      `the card goes out after the state: ${JSON.stringify(order)}`,
    );
    order.length = 0;
    await chat.send('cancel');
    await chat.send('help');
    await chat.send('help');
    assert.deepEqual(
      order.slice(-2),
      ['card', 'card'],
      `a card without actions (help) adds no state write: ${JSON.stringify(order)}`,
    );
  });
});
