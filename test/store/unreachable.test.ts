/** The store contract for people the bot cannot reach in Teams: both engines, across processes and restarts. */
import { strict as assert } from 'node:assert';
import { describeEachEngine } from '../support/stores';

const T0 = new Date('2026-12-01T10:00:00.000Z');

describeEachEngine('unreachable people', 'unreach', (stores) => {
  it('records why a person cannot be reached, replaces the mark, and clears it once', async () => {
    const store = await stores.open();
    assert.equal(await store.conversations.unreachable('t1', 'u1'), undefined);
    await store.conversations.markUnreachable('t1', 'u1', 'permissionMissing', 'POST installedApps answered 403', T0);
    await store.conversations.markUnreachable('t2', 'u1', 'blockedByUser', null, T0);
    assert.deepEqual(await store.conversations.unreachable('t1', 'u1'), {
      reason: 'permissionMissing',
      detail: 'POST installedApps answered 403',
      since: T0.toISOString(),
    });
    const later = new Date(T0.getTime() + 60_000);
    await store.conversations.markUnreachable('t1', 'u1', 'blockedByUser', null, later);
    assert.deepEqual(await store.conversations.unreachable('t1', 'u1'), {
      reason: 'blockedByUser',
      detail: null,
      since: later.toISOString(),
    });
    assert.equal(await store.conversations.clearUnreachable('t1', 'u1'), true);
    assert.equal(await store.conversations.clearUnreachable('t1', 'u1'), false);
    assert.equal(await store.conversations.unreachable('t1', 'u1'), undefined);
    assert.equal((await store.conversations.unreachable('t2', 'u1'))?.reason, 'blockedByUser', 'per tenant');
  });

  it('keeps the mark apart from the conversation reference, and shares it between processes', async () => {
    const [a, b] = await stores.openTwo();
    await a.conversations.upsert('t1', 'u1', { serviceUrl: 'https://smba.example/' }, T0);
    await a.conversations.markUnreachable('t1', 'u1', 'disabledByAdmin', null, T0);
    assert.equal((await b.conversations.unreachable('t1', 'u1'))?.reason, 'disabledByAdmin');
    assert.deepEqual(await b.conversations.get('t1', 'u1'), { serviceUrl: 'https://smba.example/' });
    await b.conversations.delete('t1', 'u1');
    assert.equal(
      (await a.conversations.unreachable('t1', 'u1'))?.reason,
      'disabledByAdmin',
      'forgetting the chat keeps the mark',
    );
  });
});
