import { msg } from '../../../src/domain/shared/message';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cardOf, cardText, createHarness, textOf, users, type Harness } from '../../support/botHarness';
import { validateLog } from '../../support/graphContract';
import { loadDemoSeed, type TenantSeed } from '../../../src/simulator';
import { ADMIN_ROLES } from '../../../src/domain/admin/roles';
import { setupReportCard, reportPages } from '../../../src/bot/admin/cards';
import { localizer } from '../../../src/i18n';

const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
const patti = users.patti;

function seedWith(change: (seed: TenantSeed) => void): TenantSeed {
  const seed = loadDemoSeed();
  change(seed);
  return seed;
}

describe('setup checks and admin alerts (bot + domain + Graph client + simulator)', () => {
  let h: Harness;
  let dir: string;
  let now: number;

  async function start(seed?: TenantSeed, adminUserIds?: string[]): Promise<void> {
    h = await createHarness({
      seed,
      storePath: path.join(dir, 'bot.sqlite'),
      clock: () => new Date(now),
      adminUserIds,
    });
  }

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-alerts-'));
    now = Date.parse('2026-11-24T09:00:00Z');
    await start();
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
  });

  it('finds each misconfiguration of the demo tenant, names it and says how to fix it', async () => {
    const report = await h.setup.scan();
    const kinds = report.problems.map((p) => `${p.kind}:${p.appName}`).sort();
    assert.deepEqual(kinds, [
      'appNoUsableGroup:Contoso Newsletter',
      'appNoUsableGroup:Field Service',
      'appNoUsableGroup:Legacy HR',
      'appNoUsableGroup:Partner Portal',
      'groupDynamic:Partner Portal',
      'groupMailEnabled:Contoso Newsletter',
      'groupNoOwners:Field Service',
      'groupSynced:Legacy HR',
    ]);
    assert.deepEqual(report.counts, { apps: 7, healthyApps: 3, appsWithProblems: 4, problems: 8 });
    assert.deepEqual(
      report.apps.slice(4).map((a) => a.displayName),
      ['Contoso Expenses', 'Contoso Wiki', 'Sales Insights'],
      'problems before healthy apps',
    );
    const text = cardText(setupReportCard(localizer(), report, 1).content);
    assert.match(text, /Partner Portal Dynamic Partners \(assigned to Partner Portal\) has dynamic membership/);
    assert.match(text, /membership type Assigned/);
    assert.match(text, /synchronized from on-premises Active Directory/);
    assert.match(text, /mail-enabled/);
    assert.match(text, /has no owners/);
    assert.match(text, /Add the app owner as an owner/);
    assert.match(text, /Guest invitations: {2}\| allowed for the bot \(allowInvitesFrom = everyone\)/);
    assert.equal(text.split('membership type Assigned').length - 1, 4, 'the shared fix is shown once per app');
  });

  it('shows a role-assignable group as such, with the fix (its members need RoleManagement.ReadWrite.Directory: learn group-post-members)', async () => {
    await h.close();
    await start(
      seedWith((s) => {
        const group = s.groups.find((g) => g.displayName === 'Expenses External Reviewers')!;
        (group as { isAssignableToRole?: boolean }).isAssignableToRole = true;
      }),
    );
    const report = await h.setup.scan();
    const problem = report.problems.find((p) => p.kind === 'groupRoleAssignable');
    assert.equal(problem?.appName, 'Contoso Expenses');
    assert.ok(report.problems.some((p) => p.kind === 'appNoUsableGroup' && p.appName === 'Contoso Expenses'));
    const text = cardText(setupReportCard(localizer(), report, 1).content);
    assert.match(text, /role-assignable/);
    assert.match(text, /RoleManagement\.ReadWrite\.Directory, which the bot does not hold by design/);
  });

  it('reports a tenant whose invite setting blocks the bot, and a healthy tenant', async () => {
    await h.close();
    await start(seedWith((s) => (s.authorizationPolicy = { allowInvitesFrom: 'adminsAndGuestInviters' })));
    const blocked = await h.setup.scan();
    assert.ok(
      blocked.problems.some(
        (p) => p.kind === 'invitesNotAllowed' && /External collaboration settings/.test(p.fix.join(' ')),
      ),
    );
    await h.close();
    await start(
      seedWith((s) => {
        s.servicePrincipals = s.servicePrincipals.filter((sp) =>
          ['Contoso Expenses', 'Contoso Wiki'].includes(sp.displayName),
        );
      }),
    );
    const healthy = await h.setup.scan();
    assert.equal(healthy.counts.problems, 0);
    assert.match(cardText(setupReportCard(localizer(), healthy, 1).content), /everything is ready/);
  });

  it("keeps a 200-app report readable and within Teams' message size: summary first, problems first, paged", async () => {
    await h.close();
    await start(
      seedWith((s) => {
        for (let i = 0; i < 200; i++) {
          const n = String(i).padStart(12, '0');
          const groupId = `bbbbbbbb-0000-4000-8000-${n}`;
          s.groups.push({
            id: groupId,
            displayName: `App ${i} access group with a fairly long descriptive name`,
            securityEnabled: true,
            mailEnabled: false,
            groupTypes: i % 3 === 0 ? ['DynamicMembership'] : [],
            membershipRule: i % 3 === 0 ? 'user.userType -eq "Guest"' : null,
            owners: i % 5 === 0 ? [] : [users.megan.aadObjectId],
            members: [],
          });
          s.servicePrincipals.push({
            id: `cccccccc-0000-4000-8000-${n}`,
            appId: `dddddddd-0000-4000-8000-${n}`,
            displayName: `Line of business app ${String(i).padStart(3, '0')}`,
            appRoleAssignedTo: [{ principalId: groupId, principalType: 'Group' }],
            tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
          });
        }
      }),
    );
    await h.chat(patti).send('help');
    const report = await h.setup.scan();
    assert.equal(report.counts.apps, 207);
    const pages = reportPages(report);
    assert.equal(pages, 21);
    let sawHealthy = false;
    for (let page = 1; page <= pages; page++) {
      const json = JSON.stringify(setupReportCard(localizer(), report, page).content);
      assert.ok(Buffer.byteLength(json) < 28 * 1024, `page ${page} is ${Buffer.byteLength(json)} bytes`);
      const apps = report.apps.slice((page - 1) * 10, page * 10);
      for (const app of apps) {
        if (app.problems.length === 0) sawHealthy = true;
        else assert.ok(!sawHealthy, 'no app with problems after a healthy one');
      }
    }
    const turn = await h.chat(patti).send('setup check page 3');
    assert.match(textOf(turn), /page 3 of 21/);
    assert.match(textOf(turn), /setup check page 4/);
  });

  it('detects admins by each listed directory role and by ADMIN_USER_IDS; others are refused, also with forged submits', async () => {
    await h.close();
    const holders = Object.keys(ADMIN_ROLES).map((templateId, i) => ({
      templateId,
      userId: `eeeeeeee-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    await start(
      seedWith((s) => {
        for (const { userId } of holders)
          s.users.push({
            id: userId,
            displayName: `Admin ${userId.slice(-2)}`,
            userPrincipalName: `admin${userId.slice(-2)}@contoso.com`,
            userType: 'Member',
          });
        s.directoryRoles = Object.entries(ADMIN_ROLES).map(([roleTemplateId, role], i) => ({
          roleTemplateId,
          displayName: localizer({ locale: 'en-US' }).t(`admin:role.${role}`),
          members: [holders[i].userId],
        }));
      }),
      [users.lee.aadObjectId],
    );
    for (const { userId } of holders) {
      assert.equal(await h.alerts.isAdmin({ tenantId: TENANT, userId, displayName: '' }), true, userId);
    }
    assert.equal(
      await h.alerts.isAdmin({ tenantId: TENANT, userId: users.lee.aadObjectId, displayName: 'Lee' }),
      true,
      'ADMIN_USER_IDS',
    );
    assert.equal(
      await h.alerts.isAdmin({ tenantId: TENANT, userId: users.megan.aadObjectId, displayName: 'Megan' }),
      false,
    );
    const megan = h.chat(users.megan);
    assert.match(
      textOf(await megan.send('setup check')),
      /That is for admins: people with one of the roles Global Administrator, Privileged Role Administrator, .*, or Groups Administrator, or listed/,
    );
    assert.match(textOf(await megan.send('alerts')), /That is for admins/);
    assert.match(
      textOf(await megan.submit({ verb: 'alert.ack', key: 'groupDynamic:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04' })),
      /That is for admins/,
    );
    const channel = megan.activity({
      text: 'alerts here',
      conversation: {
        id: '19:channel@thread.tacv2',
        conversationType: 'channel',
        tenantId: TENANT,
        isGroup: true,
        name: '',
      },
      channelData: { tenant: { id: TENANT }, channel: { id: '19:channel@thread.tacv2' } },
    });
    assert.match(textOf(await megan.deliver(channel)), /That is for admins/);
    assert.equal(await h.alerts.channel(TENANT), null);
  });

  it('an owner blocked by a dynamic group: one alert reaches the admin; a repeat within the quiet period updates that card', async () => {
    await h.chat(patti).send('help');
    const adele = h.chat(users.adele);
    const first = await adele.send('invite guest');
    assert.match(textOf(first), /dynamic membership/);
    assert.equal(h.messenger.alerts.length, 1);
    const [alert] = h.messenger.alerts;
    assert.equal(alert.to, patti.aadObjectId);
    assert.equal(alert.key, 'groupDynamic:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04');
    assert.match(alert.text, /Adele Vance while sharing Partner Portal with a guest/);
    assert.match(alert.text, /How to fix it/);
    now += 3600_000;
    await adele.send('invite guest');
    assert.equal(h.messenger.alerts.length, 1, 'quiet period');
    assert.deepEqual(
      h.messenger.alertUpdates.map((u) => u.activityId),
      [alert.activityId],
      'the card is updated in place',
    );
    const [stored] = (await h.alerts.listOpen(TENANT)).filter((a) => a.key === alert.key);
    assert.equal(stored.count, 2);
    now += 24 * 3600_000;
    await adele.send('invite guest');
    assert.equal(h.messenger.alerts.length, 2, 'alerted again after the quiet period');
    assert.equal(h.messenger.alerts[1].count, 3);
    const list = await h.chat(patti).send('alerts');
    assert.match(textOf(list), /Seen 3 times/);
  });

  it('keeps an alert while no admin is reachable and delivers it when an admin installs the bot (unless the setup report shows it)', async () => {
    await h.chat(users.adele).send('invite guest');
    const adele = { tenantId: TENANT, userId: users.adele.aadObjectId, displayName: 'Adele Vance' };
    await h.alerts.reportBlocked({
      tenantId: TENANT,
      actor: adele,
      doing: msg('admin:doing.invitingAny'),
      kind: 'missingPermission',
      app: null,
      group: null,
      detail: 'User.Invite.All',
    });
    assert.equal(h.messenger.alerts.length, 0);
    assert.equal((await h.store.alerts.listPendingDelivery(10)).length, 2);
    const install = h.chat(patti).activity({ type: 'installationUpdate', action: 'add', text: undefined });
    const turn = await h.chat(patti).deliver(install);
    assert.match(textOf(turn), /Setup check: 8 problems to fix/);
    assert.deepEqual(
      h.messenger.alerts.map((a) => `${a.to}:${a.key}`),
      [`${patti.aadObjectId}:missingPermission:User.Invite.All`],
      'the dynamic group is in the report',
    );
    assert.equal((await h.store.alerts.listPendingDelivery(10)).length, 0);
  });

  it('an admin who installs gets the welcome and one setup report; the problems it lists are not sent again as cards', async () => {
    // A scan while no admin could be reached: the 8 problems of the demo tenant wait for one.
    const scanned = await h.alerts.scanAndAlert(TENANT);
    assert.equal(scanned.report.counts.problems, 8);
    assert.equal((await h.store.alerts.listPendingDelivery(100)).length, 8);
    const turn = await h
      .chat(patti)
      .deliver(h.chat(patti).activity({ type: 'installationUpdate', action: 'add', text: undefined }));
    const messages = turn.replies.filter((a) => a.type === 'message');
    assert.equal(messages.length + h.messenger.alerts.length, 2, 'the welcome and the report, nothing else (was 10)');
    assert.match(textOf(turn), /Setup check: 8 problems to fix/);
    assert.equal((await h.store.alerts.listPendingDelivery(100)).length, 0, 'told by the report');
    assert.equal((await h.alerts.listOpen(TENANT)).length, 8, 'the problems stay open');
    // Later changes alert as today: a problem fixed is reported fixed, on a card.
    const again = await h.alerts.scanAndAlert(TENANT);
    assert.equal(again.alerted, 0, 'the report counts as the alert (quiet period)');
  });

  it('a fresh tenant: the problems listed by the welcome report are not alerted again by the next scan', async () => {
    await h.chat(patti).deliver(h.chat(patti).activity({ type: 'installationUpdate', action: 'add', text: undefined }));
    const scanned = await h.alerts.scanAndAlert(TENANT);
    assert.equal(scanned.alerted, 0);
    assert.equal(h.messenger.alerts.length, 0);
  });

  it('several processes reporting the same problem at once send one alert', async () => {
    await h.chat(patti).send('help');
    const report = {
      tenantId: TENANT,
      actor: { tenantId: TENANT, userId: users.adele.aadObjectId, displayName: 'Adele Vance' },
      doing: msg('admin:doing.invitingAny'),
      kind: 'groupSynced' as const,
      app: { id: 'a', displayName: 'Legacy HR' },
      group: { id: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c05', displayName: 'HR Legacy Access' },
    };
    const other = await createHarness({ storePath: path.join(dir, 'bot.sqlite'), clock: () => new Date(now) });
    try {
      await Promise.all([
        h.alerts.reportBlocked(report),
        other.alerts.reportBlocked(report),
        h.alerts.reportBlocked(report),
      ]);
      const delivered = h.messenger.alerts.length + other.messenger.alerts.length;
      assert.equal(delivered, 1);
      const stored = await h.store.alerts.get(TENANT, 'groupSynced:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c05');
      assert.equal(stored?.count, 3);
    } finally {
      await other.close();
    }
  });

  it('two processes delivering pending alerts at once send each alert once', async () => {
    await h.chat(users.adele).send('invite guest');
    assert.equal((await h.store.alerts.listPendingDelivery(10)).length, 1);
    await h.chat(patti).send('help');
    const other = await createHarness({ storePath: path.join(dir, 'bot.sqlite'), clock: () => new Date(now) });
    try {
      const [a, b] = await Promise.all([h.alerts.deliverPending(), other.alerts.deliverPending()]);
      assert.equal(a + b, 1);
      assert.equal(h.messenger.alerts.length + other.messenger.alerts.length, 1);
      const stored = await h.store.alerts.get(TENANT, 'groupDynamic:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04');
      assert.equal(stored?.pendingDelivery, false);
      assert.ok(stored?.lastAlertedAt, 'the quiet period starts when an admin was told');
    } finally {
      await other.close();
    }
  });

  it('a scan during the delivery of a pending alert does not send it a second time', async () => {
    // A problem the setup report does not list (those count as told by the report, and are not sent as cards).
    const key = 'missingPermission:User.Invite.All';
    const adele = { tenantId: TENANT, userId: users.adele.aadObjectId, displayName: 'Adele Vance' };
    await h.alerts.reportBlocked({
      tenantId: TENANT,
      actor: adele,
      doing: msg('admin:doing.invitingAny'),
      kind: 'missingPermission',
      app: null,
      group: null,
      detail: 'User.Invite.All',
    });
    assert.equal((await h.store.alerts.listPendingDelivery(10)).length, 1);
    // The first send (the install turn delivering the pending alert) waits until the scan below is done.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const sending = new Promise<void>((resolve) => (entered = resolve));
    const send = h.messenger.sendToUser.bind(h.messenger);
    let first = true;
    h.messenger.sendToUser = async (...args: Parameters<typeof send>) => {
      if (first) {
        first = false;
        entered();
        await gate;
      }
      return send(...args);
    };
    const install = h
      .chat(patti)
      .deliver(h.chat(patti).activity({ type: 'installationUpdate', action: 'add', text: undefined }));
    await sending;
    await h.alerts.scanAndAlert(TENANT);
    release();
    await install;
    assert.equal(h.messenger.alerts.filter((a) => a.key === key).length, 1, 'the alert went out once');
    const stored = await h.store.alerts.get(TENANT, key);
    assert.equal(stored?.pendingDelivery, false);
    assert.ok(stored?.lastAlertedAt);
  });

  it('a periodic scan alerts new problems once, and reports problems that got fixed since the last scan', async () => {
    await h.chat(patti).send('help');
    const first = await h.alerts.scanAndAlert(TENANT);
    assert.equal(first.alerted, 8);
    const again = await h.alerts.scanAndAlert(TENANT);
    assert.equal(again.alerted, 0);
    assert.equal(h.messenger.alerts.length, 8);
    await h.close();
    await start(
      seedWith((s) => {
        const g = s.groups.find((x) => x.id.endsWith('9c04'))!;
        g.groupTypes = [];
        g.membershipRule = null;
        g.membershipRuleProcessingState = null;
      }),
    );
    const fixed = await h.alerts.scanAndAlert(TENANT);
    assert.equal(fixed.fixed, 2);
    assert.deepEqual(
      h.messenger.alerts
        .filter((a) => a.event === 'fixed')
        .map((a) => a.key)
        .sort(),
      ['appNoUsableGroup:0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f03', 'groupDynamic:6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c04'],
    );
  });

  it('lets an admin send alerts to a channel with "alerts here", acknowledge problems, and stop with "alerts off"', async () => {
    const p = h.chat(patti);
    const inChannel = (text: string) =>
      p.deliver(
        p.activity({
          text,
          conversation: {
            id: '19:admins@thread.tacv2;messageid=1',
            conversationType: 'channel',
            tenantId: TENANT,
            isGroup: true,
            name: '',
          },
          channelData: { tenant: { id: TENANT }, channel: { id: '19:admins@thread.tacv2' } },
        }),
      );
    assert.match(textOf(await p.send('alerts here')), /Type that in the team channel/);
    assert.match(textOf(await inChannel('<at>Guest Invite</at> alerts here')), /will be posted in this channel/);
    await h.chat(users.adele).send('invite guest');
    assert.deepEqual(
      h.messenger.alerts.map((a) => a.to),
      ['channel:19:admins@thread.tacv2'],
    );
    const list = await p.send('alerts');
    const card = cardOf(list.replies[0]);
    const ack = JSON.stringify(card).match(/"verb":"alert.ack","key":"([^"]+)"/);
    assert.ok(ack);
    assert.match(textOf(await p.submit({ verb: 'alert.ack', key: ack[1] })), /Acknowledged/);
    assert.match(textOf(await p.send('alerts')), /\(acknowledged\)/);
    assert.match(textOf(await p.submit({ verb: 'alert.ack', key: '../../etc' })), /cannot accept/);
    assert.match(textOf(await inChannel('alerts off')), /no longer go to this channel/);
    assert.equal(await h.alerts.channel(TENANT), null);
  });

  it('lets an admin finish a failed invitation with "retry operation <id>"; others are refused', async () => {
    const megan = { tenantId: TENANT, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };
    h.sim.setFaults({ rules: [{ method: 'POST', path: '/invitations', rate503: 1, retryAfterSeconds: 0 }] });
    const failed = await h.service.invite({
      operationId: 'invite:retry-me',
      actor: megan,
      appId: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01',
      groupId: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01',
      email: 'retry.me@adatum.com',
      message: null,
      offered: [{ appId: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01', groupIds: ['6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01'] }],
    });
    assert.equal(failed.kind, 'failed');
    h.sim.setFaults(null);
    assert.match(textOf(await h.chat(users.megan).send('retry operation invite:retry-me')), /That is for admins/);
    assert.match(textOf(await h.chat(patti).send('retry operation invite:nothing')), /no failed operation/);
    assert.match(textOf(await h.chat(patti).send('retry operation invite:retry-me')), /is done now/);
    const members = await h.graph<{ value: Array<{ mail: string | null }> }>(
      '/groups/6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01/members?$select=id,mail',
    );
    assert.equal(members.body.value.filter((m) => m.mail === 'retry.me@adatum.com').length, 1);
  });
});
