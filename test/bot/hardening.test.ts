/** Issue 17, item 7: the smaller gaps (malformed activities, invitation redirects, rate windows, ...). */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBot, type RunningBot } from '../../src/index';
import { loadSettings } from '../../src/config';
import { createLogger } from '../../src/logging';
import { invitationRedirect } from '../../src/domain/invite/redirect';
import { cardText, createHarness, groups, requestExpenses, textOf, TENANT_ID, users } from '../support/botHarness';
import { APPROVAL_OPERATION_KIND } from '../../src/domain/requests/approval';
import { loadDemoSeed, startSimulator } from '../../src/simulator';

describe('malformed activities get 400 and one warning line, not 500 and a stack', () => {
  let bot: RunningBot | undefined;
  let dir: string;
  const lines: string[] = [];
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-malformed-'));
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    bot = await startBot(loadSettings({ PORT: '0', STORE_PATH: path.join(dir, 'bot.sqlite') }), logger);
  });
  after(async () => {
    await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const good = {
    type: 'message',
    id: 'a1',
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: '29:1', aadObjectId: users.megan.aadObjectId, name: 'Megan' },
    recipient: { id: '28:bot' },
    conversation: { id: 'a:1', conversationType: 'personal', tenantId: TENANT_ID },
    text: 'help',
  };
  let deep = '1';
  for (let i = 0; i < 20_000; i++) deep = `{"a":${deep}}`;
  const cases: Array<[string, string]> = [
    ['type is not a string', JSON.stringify({ ...good, type: { x: 1 } })],
    ['type is missing', JSON.stringify({ ...good, type: undefined })],
    ['no conversation.id', JSON.stringify({ ...good, conversation: { conversationType: 'personal' } })],
    ['no conversation', JSON.stringify({ ...good, conversation: undefined })],
    ['no from.id', JSON.stringify({ ...good, from: { aadObjectId: users.megan.aadObjectId } })],
    ['an array', '[1,2,3]'],
    ['JSON nested 20,000 deep', `{"type":"message","conversation":{"id":"a:1"},"from":{"id":"29:1"},"value":${deep}}`],
  ];
  for (const [name, body] of cases) {
    it(`${name}: 400, one warning, no error line`, async () => {
      lines.length = 0;
      const response = await fetch(`${bot!.url}/api/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      assert.equal(response.status, 400);
      const text = await response.text();
      assert.ok(!/at .*\.js|Error:/.test(text), text);
      const parsed = lines.map((l) => JSON.parse(l) as { level: string; event?: string; msg?: string });
      assert.equal(parsed.filter((l) => l.level === 'error').length, 0, lines.join('\n'));
      assert.equal(parsed.filter((l) => l.level === 'warn').length, 1, lines.join('\n'));
    });
  }
});

describe('the invitation redirect URL from the app is checked', () => {
  it('takes only an https homepage or login URL with a host and no credentials; else the default', () => {
    const fallback = 'https://myapps.microsoft.com';
    assert.equal(
      invitationRedirect({ homepage: 'https://wiki.contoso.com/start', loginUrl: null }, fallback),
      'https://wiki.contoso.com/start',
    );
    assert.equal(
      invitationRedirect({ homepage: 'http://wiki.contoso.com', loginUrl: 'https://login.contoso.com' }, fallback),
      'https://login.contoso.com',
    );
    for (const bad of [
      'http://wiki.contoso.com',
      'javascript:alert(1)',
      'https://user:pw@evil.example',
      'not a url',
      'data:text/html,x',
    ]) {
      assert.equal(invitationRedirect({ homepage: bad, loginUrl: null }, fallback), fallback, bad);
    }
  });
});

describe('the simulator routes take a token', () => {
  it('with a token set, /_simulator routes (but the health probe) refuse requests without it', async () => {
    const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, token: 'sim-secret' });
    try {
      assert.equal((await fetch(`${sim.url}/_simulator/requests`)).status, 401);
      assert.equal(
        (await fetch(`${sim.url}/_simulator/requests`, { headers: { Authorization: 'Bearer wrong' } })).status,
        401,
      );
      assert.equal((await fetch(`${sim.url}/_simulator/faults`, { method: 'POST', body: '{}' })).status, 401);
      assert.equal((await fetch(`${sim.url}/_simulator/users/x/redeem`, { method: 'POST' })).status, 401);
      assert.equal(
        (await fetch(`${sim.url}/_simulator/requests`, { headers: { Authorization: 'Bearer sim-secret' } })).status,
        200,
      );
      assert.equal((await fetch(`${sim.url}/_simulator/health`)).status, 200);
    } finally {
      await sim.close();
    }
  });
});

describe('limits on commands that read much of the directory (READS_PER_USER_PER_HOUR, sliding hour)', () => {
  it('request access, my guests (and its pages) and guest report count against one allowance; then the user hears when to try again', async () => {
    let now = new Date('2026-12-03T10:59:00Z');
    const h = await createHarness({ readsPerUserPerHour: 3, clock: () => now });
    try {
      const megan = h.chat(users.megan);
      assert.doesNotMatch(textOf(await megan.send('my guests')), /try again in/);
      assert.doesNotMatch(textOf(await megan.send('request access')), /try again in/);
      assert.doesNotMatch(textOf(await megan.send('my guests')), /try again in/);
      const graphCalls = h.sim.requests().length;
      assert.match(textOf(await megan.send('request access')), /many times in the last hour.*try again in 60 minutes/);
      assert.equal(h.sim.requests().length, graphCalls, 'nothing read once the limit is reached');
      // A new clock hour does not reset it: the window slides.
      now = new Date('2026-12-03T11:01:00Z');
      assert.match(textOf(await megan.send('my guests')), /try again in 58 minutes/);
      assert.doesNotMatch(textOf(await h.chat(users.alex).send('my guests')), /try again in/, 'per user');
      // Paging or filtering the guest list reads the guests again: it counts too.
      assert.match(
        JSON.stringify(await megan.invoke('guests.list', { page: '0', pending: 'true', appId: 'all' })),
        /many times in the last hour/,
      );
      now = new Date('2026-12-03T12:00:00Z');
      assert.doesNotMatch(textOf(await megan.send('my guests')), /try again in/);
    } finally {
      await h.close();
    }
  });
});

describe('an approval finished later checks that the approver still owns the group', () => {
  it('resumed after the approver lost ownership: nobody is added, the cards say why', async () => {
    const at = new Date('2026-11-24T09:00:00Z');
    const h = await createHarness({ clock: () => at });
    try {
      await requestExpenses(h.chat(users.adele));
      const [request] = await h.store.requests.listByRequester(TENANT_ID, users.adele.aadObjectId, 1);
      // Megan approved; the process stopped before the membership write.
      await h.store.operations.create(
        {
          id: `approve:${request.id}`,
          kind: APPROVAL_OPERATION_KIND,
          tenantId: TENANT_ID,
          actorId: users.megan.aadObjectId,
          input: { requestId: request.id, groupId: request.groupId, userId: request.requesterId },
        },
        at,
      );
      await h.store.requests.update(
        request.id,
        request.version,
        {
          state: 'approved',
          decidedBy: users.megan.aadObjectId,
          decidedByName: users.megan.name,
          decidedAt: at.toISOString(),
        },
        at,
      );
      // Meanwhile Megan is no longer an owner of the group.
      h.sim.setApplicationPermissions(null);
      assert.equal(
        (await h.graph(`/groups/${groups.expenses}/owners/${users.megan.aadObjectId}/$ref`, { method: 'DELETE' }))
          .status,
        204,
      );
      h.sim.setApplicationPermissions(loadDemoSeed().applicationPermissions ?? null);
      assert.equal(await h.resumeOperations(), 1);
      assert.deepEqual(
        h.sim.requests().filter((r) => r.method === 'POST' && r.url.includes('/members/$ref')),
        [],
      );
      const final = await h.store.requests.get(request.id);
      assert.equal(final?.outcome?.membership, 'approverNotOwner');
      for (const card of h.messenger.cards.values()) assert.match(cardText(card.card), /no longer owns the group/);
      assert.ok((await h.store.audit.list({ action: 'request.approval.refused' })).length === 1);
    } finally {
      await h.close();
    }
  });
});
