import { strict as assert } from 'node:assert';
import { openPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { COPIED_TABLES, copySqliteToPostgres, parseArguments, StoreCopyError } from '../../src/tools/storeCopy';
import { useStores } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** One record of every kind, with the shapes that are easy to lose (nulls, JSON, booleans, order, audit seq). */
async function fill(store: Store): Promise<void> {
  await store.state.write('conv/1', { dialog: { step: 2, text: 'é \u0000 😀' } });
  await store.state.write('rate/request/t1/u1/1', { count: 3, hour: 1 });
  const { record } = await store.operations.create(
    {
      id: 'invite:1',
      kind: 'invite',
      tenantId: 't1',
      actorId: 'u1',
      input: { email: 'g@example.com' },
      replyTo: { activityId: 'a1' },
    },
    T0,
  );
  await store.operations.update(
    record.id,
    record.version,
    { status: 'succeeded', result: { ok: true }, steps: { invite: { status: 'done', at: at(1).toISOString() } } },
    at(1),
  );
  await store.operations.create({ id: 'same-time-a', kind: 'invite', tenantId: 't1', actorId: 'u1', input: {} }, at(5));
  await store.operations.create({ id: 'same-time-b', kind: 'invite', tenantId: 't1', actorId: 'u1', input: {} }, at(5));
  await store.operations.acquireLease('same-time-a', 'old-process', 60_000, at(6));
  for (let i = 0; i < 450; i++)
    await store.audit.append({
      time: at(i).toISOString(),
      tenantId: 't1',
      actorId: 'u1',
      action: 'invite.succeeded',
      outcome: 'ok',
      detail: String(i),
    });
  await store.conversations.upsert('t1', 'u1', { serviceUrl: 'https://smba.example/' }, T0);
  const request = await store.requests.create(
    {
      id: 'r1',
      tenantId: 't1',
      requesterId: 'u1',
      requesterName: 'Ada',
      appId: 'app',
      appName: 'App',
      groupId: 'g1',
      groupName: 'G',
      justification: 'x',
      ownerIds: ['o1', 'o2'],
    },
    T0,
  );
  await store.requests.update(
    'r1',
    request.version,
    {
      ownerCards: [
        { ownerId: 'o1', ownerName: 'O', status: 'sent', location: { id: 'c' }, error: null, at: T0.toISOString() },
      ],
    },
    at(1),
  );
  await store.requests.create(
    {
      id: 'r2',
      tenantId: 't1',
      requesterId: 'u2',
      requesterName: 'Bo',
      appId: 'app',
      appName: 'App',
      groupId: 'g1',
      groupName: 'G',
      justification: '',
      ownerIds: ['o1'],
    },
    T0,
  );
  const alert = await store.alerts.recordOccurrence(
    {
      tenantId: 't1',
      key: 'groupDynamic:g9',
      kind: 'groupDynamic',
      summary: 's',
      fix: ['a', 'b'],
      lastBlocked: { userId: 'u1' },
    },
    T0,
  );
  await store.alerts.update('t1', alert.key, alert.version, { pendingDelivery: true }, at(1));
  await store.alerts.recordOccurrence(
    { tenantId: 't1', key: 'tenantInvites', kind: 'tenantInvites', summary: 's', fix: [] },
    at(2),
  );
  await store.jobs.tryClaim('requests.sweep', 'old-process', 1000, 1000, T0);
}

/** Everything the port can read, for comparing two stores. */
async function snapshot(store: Store): Promise<unknown> {
  return {
    state: [...(await store.state.read(['conv/1', 'rate/request/t1/u1/1'])).values()],
    operations: [await store.operations.get('invite:1'), ...(await store.operations.listUnfinished(10))],
    audit: await store.audit.list({ limit: 1000 }),
    conversation: await store.conversations.get('t1', 'u1'),
    requests: [
      await store.requests.listByRequester('t1', 'u1', 10),
      await store.requests.listPendingForOwner('t1', 'o1', 10),
    ],
    alerts: [await store.alerts.list('t1', ['open'], 10), await store.alerts.listPendingDelivery(10)],
  };
}

describe('npm run store:copy (SQLite to PostgreSQL)', () => {
  const sqlite = useStores('SQLite', 'guest-invite-copy-');
  const postgres = useStores('PostgreSQL', 'guest-invite-copy-');

  it('copies every table, row for row, and later writes continue after the copied ones', async () => {
    const source = await sqlite.open('bot.sqlite');
    await fill(source);
    const before = await snapshot(source);
    await source.close();

    const url = await postgres.location('target');
    const copied = await copySqliteToPostgres(await sqlite.location('bot.sqlite'), url);
    assert.deepEqual(Object.keys(copied), [...COPIED_TABLES]);
    assert.deepEqual(copied, {
      state_items: 2,
      operations: 3,
      audit_log: 450,
      conversation_refs: 1,
      access_requests: 2,
      access_request_owners: 3,
      alerts: 2,
    });

    const target = await postgres.open('target');
    assert.deepEqual(await snapshot(target), before);
    const next = await target.audit.append({
      time: T0.toISOString(),
      tenantId: 't1',
      actorId: 'u1',
      action: 'x',
      outcome: 'y',
    });
    assert.equal(next, 451);
    // The one-pending-request rule and compare-and-set hold on the copied rows.
    await assert.rejects(
      target.requests.create(
        {
          id: 'r3',
          tenantId: 't1',
          requesterId: 'u1',
          requesterName: 'Ada',
          appId: 'app',
          appName: 'App',
          groupId: 'g1',
          groupName: 'G',
          justification: 'x',
          ownerIds: ['o1'],
        },
        at(9),
      ),
      /already exists: r1/,
    );
    // Timer job leases of the old processes are not copied.
    assert.ok(await target.jobs.tryClaim('requests.sweep', 'new', 1000, 1000, T0));
  });

  it('refuses a target that already holds data, and changes nothing', async () => {
    const source = await sqlite.open('bot.sqlite');
    await fill(source);
    await source.close();
    const target = await postgres.open('target');
    await target.state.write('live', { keep: true });
    await assert.rejects(
      copySqliteToPostgres(await sqlite.location('bot.sqlite'), await postgres.location('target')),
      (err: unknown) => err instanceof StoreCopyError && /not empty: state_items \(1 rows\)/.test(err.message),
    );
    assert.equal((await target.audit.list()).length, 0);
    assert.deepEqual([...(await target.state.read(['live', 'conv/1'])).keys()], ['live']);
  });

  it('a second copy into the same database is refused', async () => {
    const source = await sqlite.open('bot.sqlite');
    await fill(source);
    await source.close();
    const url = await postgres.location('target');
    await copySqliteToPostgres(await sqlite.location('bot.sqlite'), url);
    await assert.rejects(copySqliteToPostgres(await sqlite.location('bot.sqlite'), url), StoreCopyError);
    const target = await openPostgresStore(url);
    postgres.track(target);
    assert.equal((await target.audit.list({ limit: 1000 })).length, 450);
  });

  it('reads --from sqlite:PATH and --to postgres://…, and explains a wrong argument', () => {
    assert.deepEqual(parseArguments(['--from', 'sqlite:/home/data/bot.sqlite', '--to', 'postgres://h/db']), {
      from: '/home/data/bot.sqlite',
      to: 'postgres://h/db',
    });
    assert.throws(
      () => parseArguments(['--from', '/home/data/bot.sqlite', '--to', 'postgres://h/db']),
      /--from must be sqlite:PATH/,
    );
    assert.throws(() => parseArguments(['--from', 'sqlite:x']), /--to must be a postgres:\/\/ URL/);
  });
});
