import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHarness, textOf, users, apps, groups, TENANT_ID, type Harness } from '../support/botHarness';
import { startBot, type RunningBot } from '../../src/index';
import { loadSettings } from '../../src/config';
import { silentLogger } from '../../src/logging';

describe('abuse limits and access restrictions', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('limits new invitations per user and hour (INVITES_PER_USER_PER_HOUR); a repeated confirmation does not count twice', async () => {
    h = await createHarness({ actionsPerUserPerHour: 2 });
    const actor = { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };
    const offered = [{ appId: apps.expenses, groupIds: [groups.expenses] }];
    const invite = (operationId: string, email: string) =>
      h!.service.invite({
        operationId,
        actor,
        appId: apps.expenses,
        groupId: groups.expenses,
        email,
        message: null,
        offered,
      });
    assert.equal((await invite('op-1', 'one@adatum.com')).kind, 'done');
    assert.equal(
      (await invite('op-1', 'one@adatum.com')).kind,
      'done',
      'the same confirmation again is not a new invitation',
    );
    assert.equal((await invite('op-2', 'two@adatum.com')).kind, 'done');
    const third = await invite('op-3', 'three@adatum.com');
    assert.ok(third.kind === 'refused' && third.reason === 'rateLimited');
    assert.equal(h.sim.requests().filter((r) => r.url.endsWith('/invitations')).length, 2);
  });

  it('refuses and logs activities from tenants not in ALLOWED_TENANT_IDS, before any Graph call', async () => {
    h = await createHarness({ allowedTenantIds: ['11111111-2222-4333-8444-555555555555'] });
    const turn = await h.chat(users.megan).send('invite guest');
    assert.match(textOf(turn), /not available for your organization/);
    assert.equal(h.sim.requests().length, 0);
    assert.ok(h.logs.some((l) => l.includes('"tenant.refused"')));
  });
});

describe('the HTTP endpoint', () => {
  let bot: RunningBot | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-http-'));
  });
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const activity = {
    type: 'message',
    id: 'a1',
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: '29:1', aadObjectId: users.megan.aadObjectId, name: 'Megan' },
    recipient: { id: '28:bot' },
    conversation: { id: 'a:1', conversationType: 'personal', tenantId: TENANT_ID },
    text: 'help',
  };

  it('with bot credentials configured, refuses /api/messages without a valid Bot Framework token (401) before any bot code runs', async () => {
    const settings = loadSettings({
      PORT: '0',
      STORE_PATH: path.join(dir, 'bot.sqlite'),
      MicrosoftAppId: 'a2b5d1f0-1111-4222-8333-944445555666',
      MicrosoftAppPassword: 'not-a-real-secret',
      HOST: '127.0.0.1',
    });
    bot = await startBot(settings, silentLogger);
    const none = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(activity),
    });
    assert.equal(none.status, 401);
    const forged = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.' },
      body: JSON.stringify(activity),
    });
    assert.equal(forged.status, 401);
    const health = await fetch(`${bot.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(((await health.json()) as { checks: Record<string, { ok: boolean }> }).checks, {
      store: { ok: true },
      graph: { ok: true },
    });
  });

  it('refuses request bodies over the size limit', async () => {
    bot = await startBot(loadSettings({ PORT: '0', STORE_PATH: path.join(dir, 'bot.sqlite') }), silentLogger);
    const huge = await fetch(`${bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...activity, text: 'x'.repeat(300 * 1024) }),
    });
    assert.equal(huge.status, 413);
  });
});
