import { strict as assert } from 'node:assert';
import Database from 'better-sqlite3';
import { ERASED, type ErasureSubject, type RetentionCutoffs } from '../../src/store/erasure';
import { ConflictError, type Store } from '../../src/store/store';
import { withPgClient } from '../support/postgres';
import { describeEachEngine, type TestStores } from '../support/stores';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const GUEST = {
  id: '6f1c2a55-1d2e-4c3b-9a8f-0b1c2d3e4f50',
  email: 'Gwen.Guest@fabrikam.example',
  name: 'Gwendolyn Guestworth',
};
const REQUESTER = {
  id: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f61',
  email: 'rutger@contoso.example',
  name: 'Rutger Requesterson',
};
const OTHER = { id: 'aa11bb22-cc33-4d44-8e55-ff6677889900', email: 'olga@fabrikam.example', name: 'Olga Otherguest' };
const OWNER = 'b0b0b0b0-0000-4000-8000-000000000001';

function subject(person: { id: string; email: string; name: string }): ErasureSubject {
  return { tenantId: 't1', ids: [person.id], addresses: [person.email], names: [person.name] };
}

/** Every table of the store's database, from its catalog, with every row as text. */
async function dumpAll(stores: TestStores, name: string): Promise<Map<string, string>> {
  const location = await stores.location(name);
  const dump = new Map<string, string>();
  if (stores.engine === 'SQLite') {
    const db = new Database(location, { readonly: true });
    try {
      const tables = db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .all();
      for (const { name: table } of tables)
        dump.set(table, JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).all()));
    } finally {
      db.close();
    }
    return dump;
  }
  await withPgClient(location, async (client) => {
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    );
    for (const { table_name: table } of rows)
      dump.set(table, JSON.stringify((await client.query(`SELECT * FROM "${table}"`)).rows));
  });
  return dump;
}

/** Puts the guest, the requester and another guest into every table the bot writes. */
async function populate(store: Store): Promise<void> {
  await store.state.write('msteams/conversations/a:conv-owner/', {
    dialogState: { email: GUEST.email, name: GUEST.name },
  });
  await store.state.write(`rate/invite/t1/${REQUESTER.id}/2026030110`, { count: 1, hour: '2026030110' });
  await store.state.write(`guestResend/t1/${GUEST.id}`, { at: T0.toISOString() });
  await store.state.write('guestReview/rev1', {
    guests: [
      { id: GUEST.id, email: GUEST.email, name: GUEST.name },
      { id: OTHER.id, email: OTHER.email },
    ],
  });
  await store.conversations.upsert(
    't1',
    REQUESTER.id,
    { user: { id: '29:r', aadObjectId: REQUESTER.id, name: REQUESTER.name } },
    T0,
  );
  await store.conversations.upsert('t1', OWNER, { user: { id: '29:o', aadObjectId: OWNER, name: 'Owen Owner' } }, T0);
  const own = await store.requests.create(
    {
      id: 'req-r',
      tenantId: 't1',
      requesterId: REQUESTER.id,
      requesterName: REQUESTER.name,
      appId: 'app1',
      appName: 'Payroll',
      groupId: 'g1',
      groupName: 'Payroll users',
      justification: 'I need it',
      ownerIds: [OWNER],
    },
    T0,
  );
  await store.requests.update(
    own.id,
    own.version,
    { state: 'denied', decidedBy: OWNER, decidedByName: 'Owen Owner', decidedAt: T0.toISOString(), comment: 'no' },
    T0,
  );
  const asked = await store.requests.create(
    {
      id: 'req-o',
      tenantId: 't1',
      requesterId: OTHER.id,
      requesterName: OTHER.name,
      appId: 'app1',
      appName: 'Payroll',
      groupId: 'g1',
      groupName: 'Payroll users',
      justification: `like ${GUEST.email}`,
      ownerIds: [REQUESTER.id, OWNER],
    },
    T0,
  );
  await store.requests.update(
    asked.id,
    asked.version,
    {
      ownerCards: [
        {
          ownerId: REQUESTER.id,
          ownerName: REQUESTER.name,
          status: 'sent',
          location: null,
          error: null,
          at: T0.toISOString(),
        },
      ],
    },
    T0,
  );
  await store.alerts.recordOccurrence(
    {
      tenantId: 't1',
      key: 'groupDynamic:g1',
      kind: 'groupDynamic',
      summary: 'Dynamic group',
      fix: ['Make it assigned'],
      lastBlocked: { userId: REQUESTER.id, name: REQUESTER.name, action: 'request' },
    },
    T0,
  );
  await store.operations.create(
    {
      id: 'op-invite',
      kind: 'bulkInvite',
      tenantId: 't1',
      actorId: OWNER,
      input: { addresses: [GUEST.email, OTHER.email], message: `Welcome ${GUEST.name}` },
    },
    T0,
  );
  const op = await store.operations.get('op-invite');
  await store.operations.update(
    'op-invite',
    op!.version,
    {
      status: 'succeeded',
      steps: { [`invite:${GUEST.email}`]: { status: 'done', at: T0.toISOString(), result: { userId: GUEST.id } } },
      result: { added: [GUEST.id] },
    },
    T0,
  );
  await store.operations.create(
    { id: 'op-request', kind: 'approveRequest', tenantId: 't1', actorId: REQUESTER.id, input: { requestId: 'req-r' } },
    T0,
  );
  const base = {
    tenantId: 't1',
    groupId: 'g1',
    appId: 'app1',
    appName: 'Payroll',
    groupName: 'Payroll users',
    how: 'invite' as const,
    sponsorIds: [OWNER],
    sponsorInEntra: false,
    redemption: 'PendingAcceptance',
  };
  await store.guests.recordAdded(
    {
      ...base,
      guestId: GUEST.id,
      guestEmail: GUEST.email,
      guestName: GUEST.name,
      invitedBy: OWNER,
      invitedByName: 'Owen Owner',
      operationId: 'op-invite',
    },
    T0,
  );
  await store.guests.recordAdded(
    {
      ...base,
      guestId: OTHER.id,
      guestEmail: OTHER.email,
      guestName: OTHER.name,
      invitedBy: REQUESTER.id,
      invitedByName: REQUESTER.name,
      sponsorIds: [REQUESTER.id, OWNER],
      operationId: 'op-invite',
    },
    T0,
  );
  const audit = { time: T0.toISOString(), tenantId: 't1', outcome: 'ok' };
  await store.audit.append({
    ...audit,
    actorId: OWNER,
    actorName: 'Owen Owner',
    action: 'invite.succeeded',
    guestEmail: GUEST.email,
    guestId: GUEST.id,
    detail: `invited ${GUEST.name}`,
  });
  await store.audit.append({
    ...audit,
    actorId: REQUESTER.id,
    actorName: REQUESTER.name,
    action: 'request.created',
    detail: `by ${REQUESTER.email}`,
  });
  await store.audit.append({
    ...audit,
    actorId: OWNER,
    actorName: 'Owen Owner',
    action: 'invite.succeeded',
    guestEmail: OTHER.email,
    guestId: OTHER.id,
  });
  // Proactive messages: a notice to the guest, and an approval card to the owner that names the requester.
  await store.outbox.enqueue(
    { id: 'out-guest', tenantId: 't1', recipient: GUEST.id, kind: 'notice', payload: { type: 'msg', to: GUEST.email } },
    T0,
  );
  await store.outbox.enqueue(
    {
      id: 'out-owner',
      tenantId: 't1',
      recipient: OWNER,
      kind: 'approval',
      payload: {
        request: { requesterId: REQUESTER.id, requesterName: REQUESTER.name, requesterEmail: REQUESTER.email },
      },
    },
    T0,
  );
}

function cutoffs(at: Date): RetentionCutoffs {
  return {
    audit: at,
    removedGuests: at,
    finishedOperations: at,
    closedRequests: at,
    dialogState: at,
    reviewState: at,
    rateKeys: at,
    alerts: at,
  };
}

describeEachEngine('privacy', 'guest-invite-privacy-', (stores) => {
  it('every table in the catalog is erased by a record module or declared free of personal data', async () => {
    const store = await stores.open('catalog');
    const tables = [...(await dumpAll(stores, 'catalog')).keys()].sort();
    const { covered, noPersonalData } = store.privacy.tables;
    const missing = tables.filter((t) => !covered.includes(t) && !noPersonalData.includes(t));
    assert.deepEqual(missing, [], `tables without erasure and retention: ${missing.join(', ')}`);
    assert.deepEqual(
      [...covered, ...noPersonalData].filter((t) => !tables.includes(t)),
      [],
      'no stale table names',
    );
  });

  it('after erasing a guest and a requester, no table holds their address, object id or display name', async () => {
    const store = await stores.open('erase');
    await populate(store);
    const before = [...(await dumpAll(stores, 'erase')).values()].join('\n').toLowerCase();
    for (const needle of [GUEST.id, GUEST.email, GUEST.name, REQUESTER.id, REQUESTER.email, REQUESTER.name]) {
      assert.ok(before.includes(needle.toLowerCase()), `the setup stores ${needle}`);
    }
    const opBefore = await store.operations.get('op-invite');
    const reviewBefore = (await store.state.read(['guestReview/rev1'])).get('guestReview/rev1');
    const guestCounts = await store.privacy.erase(subject(GUEST));
    const requesterCounts = await store.privacy.erase(subject(REQUESTER));
    const dump = await dumpAll(stores, 'erase');
    for (const [table, rows] of dump) {
      for (const needle of [GUEST.id, GUEST.email, GUEST.name, REQUESTER.id, REQUESTER.email, REQUESTER.name]) {
        assert.ok(!rows.toLowerCase().includes(needle.toLowerCase()), `${table} still holds ${needle}: ${rows}`);
      }
    }
    assert.ok(
      (guestCounts.guest_records ?? 0) >= 1 && (guestCounts.audit_log ?? 0) >= 1 && (guestCounts.operations ?? 0) >= 1,
    );
    assert.ok((requesterCounts.access_requests ?? 0) >= 1 && (requesterCounts.conversation_refs ?? 0) === 1);
    // The others' records stay, with the erased person pseudonymised in them.
    const other = await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: OTHER.id });
    assert.equal(other?.guestEmail, OTHER.email);
    assert.equal(other?.invitedBy, ERASED);
    assert.deepEqual(other?.sponsorIds, [ERASED, OWNER]);
    assert.equal(await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: GUEST.id }), undefined);
    const op = await store.operations.get('op-invite');
    assert.deepEqual(op?.input.addresses, [ERASED, OTHER.email]);
    assert.equal(op?.status, 'succeeded');
    // A writer holding a record from before the erasure conflicts instead of writing the person back.
    assert.ok(op!.version > opBefore!.version);
    await assert.rejects(
      store.operations.update('op-invite', opBefore!.version, { result: opBefore!.result }, T0),
      ConflictError,
    );
    await assert.rejects(
      store.state.write('guestReview/rev1', reviewBefore!.value, reviewBefore!.version),
      ConflictError,
    );
    assert.equal(await store.requests.get('req-r'), undefined);
    const asked = await store.requests.get('req-o');
    assert.deepEqual(asked?.ownerIds, [ERASED, OWNER]);
    assert.deepEqual(await store.requests.listPendingForOwner('t1', REQUESTER.id, 10), []);
    assert.equal((await store.requests.listPendingForOwner('t1', OWNER, 10)).length, 1);
    assert.ok(await store.conversations.get('t1', OWNER));
    assert.equal(await store.outbox.get('out-guest'), undefined, 'a message to the person goes');
    assert.equal(
      (await store.outbox.get('out-owner'))?.payload.request instanceof Object,
      true,
      'a message naming them stays, scrubbed',
    );
    assert.equal(
      (await store.audit.list({ tenantId: 't1' })).length,
      3,
      'audit entries are pseudonymised, not deleted',
    );
    assert.equal(
      (await store.state.read(['guestReview/rev1'])).get('guestReview/rev1')?.value.guests instanceof Array,
      true,
    );
    assert.equal((await store.state.read([`guestResend/t1/${GUEST.id}`])).size, 0);
  });

  it('erasure leaves other tenants alone and needs an id or an address', async () => {
    const store = await stores.open('tenant');
    await store.conversations.upsert('t2', GUEST.id, { user: { aadObjectId: GUEST.id } }, T0);
    await store.privacy.erase(subject(GUEST));
    assert.ok(await store.conversations.get('t2', GUEST.id));
    await assert.rejects(
      store.privacy.erase({ tenantId: 't1', ids: [], addresses: [], names: [GUEST.name] }),
      /needs an object id or an address/,
    );
  });

  it('matches whole addresses, ids and names only, and never deletes a row for a name alone', async () => {
    const store = await stores.open('whole');
    const base = {
      tenantId: 't1',
      groupId: 'g1',
      appId: 'app1',
      appName: 'Payroll',
      groupName: 'Payroll users',
      how: 'invite' as const,
      sponsorIds: [OWNER],
      sponsorInEntra: false,
      redemption: null,
      invitedBy: OWNER,
      invitedByName: 'Owen Owner',
      operationId: 'op',
    };
    await store.guests.recordAdded(
      { ...base, guestId: 'id-joann', guestEmail: 'joann@fabrikam.example', guestName: 'Olga Otherguestina' },
      T0,
    );
    await store.guests.recordAdded(
      { ...base, guestId: 'id-ann', guestEmail: 'ann@fabrikam.example', guestName: 'Ann Anders' },
      T0,
    );
    await store.audit.append({
      time: T0.toISOString(),
      tenantId: 't1',
      actorId: OWNER,
      action: 'x',
      outcome: 'ok',
      detail: 'joann@fabrikam.example and ann@fabrikam.example.',
    });
    await store.privacy.erase({
      tenantId: 't1',
      ids: [],
      addresses: ['ann@fabrikam.example'],
      names: ['Olga Otherguest'],
    });
    const joann = await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: 'id-joann' });
    assert.equal(joann?.guestEmail, 'joann@fabrikam.example');
    assert.equal(joann?.guestName, 'Olga Otherguestina');
    assert.equal(await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: 'id-ann' }), undefined);
    assert.equal((await store.audit.list({}))[0].detail, `joann@fabrikam.example and ${ERASED}.`);
  });

  it('the audit log still refuses updates and deletes outside retention and erasure', async () => {
    const store = await stores.open('append');
    await store.audit.append({ time: T0.toISOString(), tenantId: 't1', actorId: OWNER, action: 'x', outcome: 'ok' });
    const location = await stores.location('append');
    if (stores.engine === 'SQLite') {
      const db = new Database(location);
      try {
        assert.throws(() => db.prepare("UPDATE audit_log SET actor_id = 'x'").run(), /append-only/);
        assert.throws(() => db.prepare('DELETE FROM audit_log').run(), /append-only/);
      } finally {
        db.close();
      }
    } else {
      await withPgClient(location, async (c) => {
        await assert.rejects(c.query("UPDATE audit_log SET actor_id = 'x'"), /append-only/);
        await assert.rejects(c.query('DELETE FROM audit_log'), /append-only/);
      });
    }
  });

  describe('retention', () => {
    it('deletes each kind only past its cut-off, in bounded batches, and keeps what is live', async () => {
      let now = T0;
      const store = await stores.open('retention', { clock: () => now });
      await populate(store);
      await store.state.write('alert-channel/t1', { conversation: 'c' });
      now = at(10 * DAY);
      await store.state.write('msteams/conversations/a:fresh/', { dialogState: {} });
      await store.guests.update(
        { tenantId: 't1', groupId: 'g1', guestId: OTHER.id },
        1,
        { removedAt: at(DAY).toISOString(), removedBy: OWNER },
        at(DAY),
      );
      await store.audit.append({
        time: at(10 * DAY).toISOString(),
        tenantId: 't1',
        actorId: OWNER,
        action: 'new',
        outcome: 'ok',
      });

      // Nothing is older than a cut-off before T0.
      const none = await store.privacy.prune(cutoffs(at(-DAY)), 100);
      assert.equal(
        Object.values(none).reduce((a, b) => a + b, 0),
        0,
      );

      // One row per table at most with limit 1.
      const first = await store.privacy.prune(cutoffs(at(5 * DAY)), 1);
      assert.equal(first.audit_log, 1);
      assert.equal(first.operations, 1);
      assert.equal(first.access_requests, 1);
      assert.equal(first.guest_records, 1);
      let total = first;
      for (let batch = first; Object.values(batch).some((n) => n > 0);) {
        batch = await store.privacy.prune(cutoffs(at(5 * DAY)), 1);
        for (const [t, n] of Object.entries(batch)) total[t] = (total[t] ?? 0) + n;
      }
      total = { ...total };
      assert.equal(total.audit_log, 3, 'the three old audit entries, not the new one');
      assert.equal(total.operations, 1, 'the succeeded operation, not the pending one');
      assert.equal(total.access_requests, 1, 'the denied request, not the pending one');
      assert.equal(total.guest_records, 1, 'the removed guest, not the one still in the group');
      assert.equal(total.state_items, 4, 'old dialog state, rate and resend keys, review view');
      assert.equal((await store.audit.list({})).map((e) => e.action).join(), 'new');
      assert.ok(await store.operations.get('op-request'));
      assert.ok(await store.requests.get('req-o'));
      assert.equal(await store.requests.get('req-r'), undefined);
      assert.ok(await store.guests.get({ tenantId: 't1', groupId: 'g1', guestId: GUEST.id }));
      const left = await store.state.read([
        'alert-channel/t1',
        'msteams/conversations/a:fresh/',
        'msteams/conversations/a:conv-owner/',
      ]);
      assert.deepEqual([...left.keys()].sort(), ['alert-channel/t1', 'msteams/conversations/a:fresh/']);
      assert.ok(await store.alerts.get('t1', 'groupDynamic:g1'), 'an open alert stays');
    });

    it('deletes resolved alerts not seen since the cut-off', async () => {
      const store = await stores.open('alerts');
      const alert = await store.alerts.recordOccurrence(
        { tenantId: 't1', key: 'k1', kind: 'x', summary: 's', fix: [] },
        T0,
      );
      await store.alerts.update(
        't1',
        'k1',
        alert.version,
        { state: 'resolved', resolvedAt: at(DAY).toISOString() },
        at(DAY),
      );
      await store.alerts.recordOccurrence({ tenantId: 't1', key: 'k2', kind: 'x', summary: 's', fix: [] }, T0);
      assert.equal((await store.privacy.prune(cutoffs(at(2 * DAY)), 10)).alerts, 1);
      assert.equal(await store.alerts.get('t1', 'k1'), undefined);
      assert.ok(await store.alerts.get('t1', 'k2'));
    });
  });
});
