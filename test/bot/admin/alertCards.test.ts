import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHarness, textOf, users, type Harness } from '../../support/botHarness';
import { loadDemoSeed, type TenantSeed } from '../../../src/simulator';
import { msg } from '../../../src/domain/shared/message';
import type { BlockedReport } from '../../../src/domain/shared/model';

const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
const DYNAMIC = 'groupDynamic:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04';
const patti = users.patti;

/** Megan blocked by the same problem as Adele (Partner Portal's dynamic group). */
const meganBlocked: BlockedReport = {
  tenantId: TENANT,
  actor: { tenantId: TENANT, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' },
  doing: msg('admin:doing.sharing', { app: 'Partner Portal' }),
  kind: 'groupDynamic',
  app: { id: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f03', displayName: 'Partner Portal' },
  group: { id: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04', displayName: 'Partner Portal Dynamic Partners' },
};

describe('admin alert cards: every block counts and updates the card in place', () => {
  let h: Harness;
  let dir: string;
  let now: number;

  async function start(seed?: TenantSeed): Promise<Harness> {
    return createHarness({ seed, storePath: path.join(dir, 'bot.sqlite'), clock: () => new Date(now) });
  }

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-alert-cards-'));
    now = Date.parse('2026-11-24T09:00:00Z');
    h = await start();
  });
  afterEach(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second and third block within the quiet period update the same card: one message, two updates', async () => {
    await h.chat(patti).send('help');
    const adele = h.chat(users.adele);
    await adele.send('invite guest');
    assert.equal(h.messenger.alerts.length, 1);
    const [sent] = h.messenger.alerts;
    assert.equal(sent.key, DYNAMIC);
    assert.match(sent.text, /Blocked 1 time; last: Adele Vance while sharing Partner Portal with a guest, just now\./);

    now += 60_000;
    await adele.send('invite guest');
    now += 120_000;
    await h.alerts.reportBlocked(meganBlocked);

    assert.equal(h.messenger.alerts.length, 1, 'no new message within the quiet period');
    assert.deepEqual(
      h.messenger.alertUpdates.map((u) => `${u.activityId}:${u.blocks}`),
      [`${sent.activityId}:2`, `${sent.activityId}:3`],
    );
    assert.match(
      h.messenger.alertUpdates[0].text,
      /Blocked 2 times; last: Adele Vance while sharing Partner Portal with a guest/,
    );
    assert.match(
      h.messenger.alertCards.get(sent.activityId)!.text,
      /Blocked 3 times; last: Megan Bowen while sharing Partner Portal with a guest, just now\./,
    );

    // Acknowledging it updates the card once more: who acknowledged it, no button, and the last block 2 minutes ago.
    now += 120_000;
    assert.match(textOf(await h.chat(patti).submit({ verb: 'alert.ack', key: DYNAMIC })), /Acknowledged/);
    const card = h.messenger.alertCards.get(sent.activityId)!.text;
    assert.match(card, /Blocked 3 times; last: Megan Bowen while sharing Partner Portal with a guest, 2 minutes ago\./);
    assert.match(card, /Acknowledged by: +\| Patti Fernandez/);
    assert.doesNotMatch(card, /(^|\| )Acknowledge( \||$)/, 'no Acknowledge button');
  });

  it('after the quiet period a block sends a new alert, and later blocks update that one', async () => {
    await h.chat(patti).send('help');
    const adele = h.chat(users.adele);
    await adele.send('invite guest');
    now += 25 * 3600_000;
    await adele.send('invite guest');
    assert.equal(h.messenger.alerts.length, 2, 'a new message after the quiet period');
    const [first, second] = h.messenger.alerts;
    assert.notEqual(first.activityId, second.activityId);
    assert.match(second.text, /Blocked 2 times; last: Adele Vance/);
    assert.equal(h.messenger.alertUpdates.length, 0);
    now += 60_000;
    await adele.send('invite guest');
    assert.deepEqual(
      h.messenger.alertUpdates.map((u) => `${u.activityId}:${u.blocks}`),
      [`${second.activityId}:3`],
    );
    assert.match(h.messenger.alertCards.get(first.activityId)!.text, /Blocked 1 time;/, 'the old card stays as it was');
  });

  it('updates the card in the alert channel too', async () => {
    const p = h.chat(patti);
    const inChannel = p.activity({
      text: 'alerts here',
      conversation: {
        id: '19:admins@thread.tacv2;messageid=1',
        conversationType: 'channel',
        tenantId: TENANT,
        isGroup: true,
        name: '',
      },
      channelData: { tenant: { id: TENANT }, channel: { id: '19:admins@thread.tacv2' } },
    });
    assert.match(textOf(await p.deliver(inChannel)), /will be posted in this channel/);
    await h.chat(users.adele).send('invite guest');
    now += 30_000;
    await h.alerts.reportBlocked(meganBlocked);
    assert.deepEqual(
      h.messenger.alerts.map((a) => a.to),
      ['channel:19:admins@thread.tacv2'],
    );
    assert.deepEqual(
      h.messenger.alertUpdates.map((u) => u.activityId),
      [h.messenger.alerts[0].activityId],
    );
    assert.match(h.messenger.alertUpdates[0].text, /Blocked 2 times; last: Megan Bowen/);
  });

  it('an alert delivered late (no admin reachable at first) says how long ago the person was blocked', async () => {
    await h.chat(users.adele).send('invite guest');
    assert.equal(h.messenger.alerts.length, 0);
    now += 2 * 60_000;
    // Patti writes to the bot; the pending alert goes out (an install would show it in the setup report instead).
    await h.chat(patti).send('help');
    await h.alerts.deliverPending();
    assert.equal(h.messenger.alerts.length, 1);
    assert.match(
      h.messenger.alerts[0].text,
      /Blocked 1 time; last: Adele Vance while sharing Partner Portal with a guest, 2 minutes ago\./,
    );
  });

  it("a fixed problem's cards are updated to the fixed state, and a fixed message goes out", async () => {
    await h.chat(patti).send('help');
    await h.chat(users.adele).send('invite guest');
    const [sent] = h.messenger.alerts;
    await h.close();
    const fixedSeed = loadDemoSeed();
    const group = fixedSeed.groups.find((g) => g.id.endsWith('9c04'))!;
    group.groupTypes = [];
    group.membershipRule = null;
    group.membershipRuleProcessingState = null;
    h = await start(fixedSeed);
    now += 3600_000;
    await h.alerts.scanAndAlert(TENANT);
    const update = h.messenger.alertUpdates.find((u) => u.activityId === sent.activityId);
    assert.ok(update, 'the card already sent is updated');
    assert.equal(update.event, 'fixed');
    assert.match(update.text, /Setup problem fixed/);
    assert.match(update.text, /It blocked people 1 time\./);
    assert.doesNotMatch(update.text, /Acknowledge/);
    assert.ok(h.messenger.alerts.some((a) => a.key === DYNAMIC && a.event === 'fixed'));
    const cards = await h.store.state.read([`alert-cards/${TENANT}/${DYNAMIC}`]);
    assert.deepEqual(
      cards.get(`alert-cards/${TENANT}/${DYNAMIC}`)?.value.locations,
      [],
      'a reopened problem starts with new cards',
    );
  });

  it('two processes reporting blocks at once send one alert, count every block, and update that card', async () => {
    await h.chat(patti).send('help');
    const other = await start();
    try {
      const adele: BlockedReport = {
        ...meganBlocked,
        actor: { tenantId: TENANT, userId: users.adele.aadObjectId, displayName: 'Adele Vance' },
      };
      await Promise.all([
        h.alerts.reportBlocked(adele),
        other.alerts.reportBlocked(meganBlocked),
        h.alerts.reportBlocked(adele),
        other.alerts.reportBlocked(adele),
      ]);
      const sent = [...h.messenger.alerts, ...other.messenger.alerts];
      assert.equal(sent.length, 1);
      const key = `alert-cards/${TENANT}/${DYNAMIC}`;
      assert.equal((await h.store.state.read([key])).get(key)?.value.blocks, 4);
      now += 60_000;
      await other.alerts.reportBlocked(meganBlocked);
      const updates = [...h.messenger.alertUpdates, ...other.messenger.alertUpdates];
      const last = updates[updates.length - 1];
      assert.equal(last.activityId, sent[0].activityId);
      assert.equal(last.blocks, 5);
      assert.match(last.text, /Blocked 5 times; last: Megan Bowen/);
      assert.equal(h.messenger.alerts.length + other.messenger.alerts.length, 1);
    } finally {
      await other.close();
    }
  });

  it('an alert about a missing permission names the permission and how to grant admin consent', async () => {
    await h.chat(patti).send('help');
    await h.alerts.reportBlocked({
      tenantId: TENANT,
      actor: meganBlocked.actor,
      doing: msg('admin:doing.invitingAny'),
      kind: 'missingPermission',
      app: null,
      group: null,
      detail: 'User.Invite.All',
    });
    const [sent] = h.messenger.alerts;
    assert.equal(sent.key, 'missingPermission:User.Invite.All');
    assert.match(sent.text, /lacks the application permission User\.Invite\.All/);
    assert.match(sent.text, /add User\.Invite\.All/);
    assert.match(sent.text, /Grant admin consent for/);
    assert.match(sent.text, /Blocked 1 time; last: Megan Bowen while inviting a guest/);
  });
});
