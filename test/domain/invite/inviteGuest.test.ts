import { strict as assert } from 'node:assert';
import { localizer } from '../../../src/i18n';
import sinon from 'sinon';
import { InviteGuestService } from '../../../src/domain/invite/inviteGuest';
import type { InviteCommand } from '../../../src/domain/invite/model';
import { DirectoryError, type Directory, type GroupInfo, type InviteContext } from '../../../src/graph/directory';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';
import { silentLogger } from '../../../src/logging';
import { SERVICE_SETTINGS } from '../../support/settings';

const actor = { tenantId: 't1', userId: 'owner-1', displayName: 'Megan Bowen' };
const group: GroupInfo = {
  id: 'g1',
  displayName: 'Wiki Partner Readers',
  groupTypes: [],
  mailEnabled: false,
  securityEnabled: true,
  onPremisesSyncEnabled: null,
  isAssignableToRole: false,
};
const app = {
  id: 'sp1',
  appId: 'app1',
  displayName: 'Contoso Wiki',
  homepage: null,
  loginUrl: 'https://wiki.contoso.com/login',
};

function context(overrides: Partial<InviteContext> = {}): InviteContext {
  return {
    group,
    app,
    actorIsOwner: true,
    groupAssignedToApp: true,
    existingUser: null,
    allowInvitesFrom: 'everyone',
    tenant: { id: 't1', displayName: 'Contoso', verifiedDomains: ['contoso.com', 'contoso.onmicrosoft.com'] },
    requestId: 'req-check',
    ...overrides,
  };
}

function fakeDirectory() {
  return {
    getTenantInfo: sinon
      .stub<[], ReturnType<Directory['getTenantInfo']>>()
      .resolves({ id: 't1', displayName: 'Contoso', verifiedDomains: ['contoso.com'] }),
    getInviteContext: sinon
      .stub<Parameters<Directory['getInviteContext']>, ReturnType<Directory['getInviteContext']>>()
      .resolves(context()),
    inviteGuest: sinon.stub<Parameters<Directory['inviteGuest']>, ReturnType<Directory['inviteGuest']>>().resolves({
      userId: 'guest-1',
      redeemUrl: 'https://login.example/redeem',
      status: 'PendingAcceptance',
      requestId: 'req-invite',
    }),
    addGroupMember: sinon
      .stub<Parameters<Directory['addGroupMember']>, ReturnType<Directory['addGroupMember']>>()
      .resolves({ added: true, requestId: 'req-add' }),
    getAllowInvitesFrom: sinon
      .stub<[], ReturnType<Directory['getAllowInvitesFrom']>>()
      .rejects(new Error('not used by invitations')),
    listRoleMembers: sinon
      .stub<[readonly string[]], ReturnType<Directory['listRoleMembers']>>()
      .rejects(new Error('not used by invitations')),
    listCatalog: sinon.stub<[], ReturnType<Directory['listCatalog']>>().resolves([]),
    checkMemberGroups: sinon
      .stub<Parameters<Directory['checkMemberGroups']>, ReturnType<Directory['checkMemberGroups']>>()
      .resolves(new Set()),
    findUserByEmail: sinon
      .stub<Parameters<Directory['findUserByEmail']>, ReturnType<Directory['findUserByEmail']>>()
      .resolves(null),
    listGroupOwners: sinon
      .stub<[string], ReturnType<Directory['listGroupOwners']>>()
      .rejects(new Error('not used by invitations')),
    getDecisionContext: sinon
      .stub<Parameters<Directory['getDecisionContext']>, ReturnType<Directory['getDecisionContext']>>()
      .rejects(new Error('not used by invitations')),
    findUsersByEmails: sinon
      .stub<Parameters<Directory['findUsersByEmails']>, ReturnType<Directory['findUsersByEmails']>>()
      .rejects(new Error('not used by single invitations')),
    membersAmong: sinon
      .stub<Parameters<Directory['membersAmong']>, ReturnType<Directory['membersAmong']>>()
      .rejects(new Error('not used by single invitations')),
    inviteGuests: sinon
      .stub<Parameters<Directory['inviteGuests']>, ReturnType<Directory['inviteGuests']>>()
      .rejects(new Error('not used by single invitations')),
    addGroupMembers: sinon
      .stub<Parameters<Directory['addGroupMembers']>, ReturnType<Directory['addGroupMembers']>>()
      .rejects(new Error('not used by single invitations')),
    removeGroupMember: sinon
      .stub<Parameters<Directory['removeGroupMember']>, ReturnType<Directory['removeGroupMember']>>()
      .rejects(new Error('not used by invitations')),
    listGuestMembers: sinon
      .stub<Parameters<Directory['listGuestMembers']>, ReturnType<Directory['listGuestMembers']>>()
      .resolves([]),
    getUser: sinon.stub<Parameters<Directory['getUser']>, ReturnType<Directory['getUser']>>().resolves(null),
    listSponsors: sinon
      .stub<Parameters<Directory['listSponsors']>, ReturnType<Directory['listSponsors']>>()
      .resolves([]),
    addSponsor: sinon
      .stub<Parameters<Directory['addSponsor']>, ReturnType<Directory['addSponsor']>>()
      .resolves({ added: true, requestId: null }),
  };
}

describe('InviteGuestService', () => {
  let store: Store;
  let directory: ReturnType<typeof fakeDirectory>;
  let service: InviteGuestService;
  let n = 0;

  const command = (overrides: Partial<InviteCommand> = {}): InviteCommand => ({
    operationId: `op-${++n}`,
    actor,
    appId: 'sp1',
    groupId: 'g1',
    email: 'pat.partner@adatum.com',
    message: 'Welcome!',
    offered: [{ appId: 'sp1', groupIds: ['g1'] }],
    ...overrides,
  });

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    directory = fakeDirectory();
    service = new InviteGuestService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger: silentLogger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      sleep: async () => undefined,
      confirmBackoffMs: [0],
    });
  });
  afterEach(async () => store.close());

  it('invites a new guest with the app URL and welcome message, then adds them, and audits it', async () => {
    const outcome = await service.invite(command());
    assert.equal(outcome.kind, 'done');
    if (outcome.kind !== 'done') return;
    assert.equal(outcome.invited, true);
    assert.equal(outcome.added, true);
    assert.deepEqual(directory.inviteGuest.firstCall.args[0], {
      email: 'pat.partner@adatum.com',
      redirectUrl: 'https://wiki.contoso.com/login',
      message: 'Welcome!',
      language: null,
    });
    assert.deepEqual(directory.addGroupMember.firstCall.args, ['g1', 'guest-1']);
    const [entry] = await store.audit.list({ action: 'invite.succeeded' });
    assert.equal(entry.outcome, 'invitedAndAdded');
    assert.equal(entry.guestEmail, 'pat.partner@adatum.com');
    assert.equal(entry.graphRequestId, 'req-add');
    assert.equal(entry.actorId, 'owner-1');
  });

  it('falls back to My Apps when the app has no URL', async () => {
    directory.getInviteContext.resolves(context({ app: { ...app, loginUrl: null, homepage: null } }));
    await service.invite(command());
    assert.equal(directory.inviteGuest.firstCall.args[0].redirectUrl, 'https://myapps.microsoft.com');
  });

  it('adds an existing guest without inviting again', async () => {
    directory.getInviteContext.resolves(
      context({
        existingUser: {
          id: 'guest-9',
          displayName: 'Jordan',
          mail: 'pat.partner@adatum.com',
          userPrincipalName: 'x#EXT#@contoso.com',
          userType: 'Guest',
          externalUserState: 'Accepted',
        },
      }),
    );
    const outcome = await service.invite(command());
    assert.equal(directory.inviteGuest.callCount, 0);
    assert.deepEqual(directory.addGroupMember.firstCall.args, ['g1', 'guest-9']);
    assert.ok(outcome.kind === 'done' && !outcome.invited && outcome.added && outcome.guest.redemption === 'Accepted');
  });

  it('says "already a member" and writes nothing when a plain membership read (checkMemberGroups) finds the guest in the group', async () => {
    directory.getInviteContext.resolves(
      context({
        existingUser: {
          id: 'guest-9',
          displayName: 'Sam',
          mail: 'x',
          userPrincipalName: 'x',
          userType: 'Guest',
          externalUserState: 'PendingAcceptance',
        },
      }),
    );
    directory.checkMemberGroups.resolves(new Set(['g1']));
    const outcome = await service.invite(command());
    assert.ok(outcome.kind === 'done' && !outcome.added && !outcome.invited);
    assert.deepEqual(directory.checkMemberGroups.firstCall.args, ['guest-9', ['g1']]);
    assert.equal(directory.inviteGuest.callCount + directory.addGroupMember.callCount, 0);
  });

  const refusals: Array<[string, Partial<InviteContext>, string, RegExp]> = [
    ['the actor is no longer an owner', { actorIsOwner: false }, 'notOwner', /not an owner/],
    ['the group is no longer assigned to the app', { groupAssignedToApp: false }, 'notAssigned', /no longer assigned/],
    [
      'the group became dynamic',
      { group: { ...group, groupTypes: ['DynamicMembership'] } },
      'groupBlocked',
      /dynamic membership/,
    ],
    [
      'the group is synced from on-premises',
      { group: { ...group, onPremisesSyncEnabled: true } },
      'groupBlocked',
      /on-premises/,
    ],
    ['the group is mail-enabled', { group: { ...group, mailEnabled: true } }, 'groupBlocked', /mail-enabled/],
    [
      'the group is role-assignable (writes would need RoleManagement.ReadWrite.Directory, learn group-post-members)',
      { group: { ...group, isAssignableToRole: true } },
      'groupBlocked',
      /assigned Microsoft Entra roles/,
    ],
    // group-list-owners.md: Graph lists no owners for synced groups, so the owner check cannot pass; say what the group
    // is.
    [
      'the group is synced, whose owners Graph does not list',
      { group: { ...group, onPremisesSyncEnabled: true }, actorIsOwner: false },
      'groupBlocked',
      /on-premises/,
    ],
    ['the group is gone', { group: null }, 'groupNotFound', /no longer exists/],
    [
      'invitations are limited to admins',
      { allowInvitesFrom: 'adminsAndGuestInviters' },
      'invitesNotAllowed',
      /allowInvitesFrom = adminsAndGuestInviters/,
    ],
    ['nobody may invite', { allowInvitesFrom: 'none' }, 'invitesNotAllowed', /allowInvitesFrom = none/],
  ];
  for (const [name, overrides, reason, text] of refusals) {
    it(`refuses and changes nothing when ${name}`, async () => {
      directory.getInviteContext.resolves(context(overrides));
      const outcome = await service.invite(command());
      assert.equal(outcome.kind, 'refused');
      if (outcome.kind !== 'refused') return;
      assert.equal(outcome.reason, reason);
      assert.match(localizer().msg(outcome.message), text);
      assert.equal(directory.inviteGuest.callCount + directory.addGroupMember.callCount, 0);
      const [entry] = await store.audit.list({ action: 'invite.refused' });
      assert.equal(entry.outcome, reason);
    });
  }

  it('still adds an existing guest when the tenant limits who may invite (no invitation needed)', async () => {
    directory.getInviteContext.resolves(
      context({
        allowInvitesFrom: 'none',
        existingUser: {
          id: 'guest-9',
          displayName: 'J',
          mail: 'x',
          userPrincipalName: 'x',
          userType: 'Guest',
          externalUserState: 'Accepted',
        },
      }),
    );
    const outcome = await service.invite(command());
    assert.equal(outcome.kind, 'done');
    assert.equal(directory.addGroupMember.callCount, 1);
  });

  it("refuses addresses of the tenant's own domains at confirmation", async () => {
    const outcome = await service.invite(command({ email: 'AdeleV@Contoso.com' }));
    assert.ok(outcome.kind === 'refused' && outcome.reason === 'ownDomain');
    assert.equal(directory.inviteGuest.callCount, 0);
  });

  it('refuses an app or group that was not offered, audits it as forged, and reads nothing from Graph', async () => {
    const a = await service.invite(command({ appId: 'sp-other' }));
    const b = await service.invite(command({ groupId: 'g-other' }));
    assert.ok(a.kind === 'refused' && a.reason === 'notOffered');
    assert.ok(b.kind === 'refused' && b.reason === 'notOffered');
    assert.equal(directory.getInviteContext.callCount, 0);
    assert.equal((await store.audit.list({ action: 'invite.forged' })).length, 2);
  });

  it('refuses invalid addresses and too long messages before any Graph call', async () => {
    const bad = await service.invite(command({ email: 'not an address' }));
    const long = await service.invite(command({ message: 'x'.repeat(1001) }));
    assert.ok(bad.kind === 'refused' && bad.reason === 'invalidEmail');
    assert.ok(long.kind === 'refused' && long.reason === 'messageTooLong');
    assert.equal(directory.getInviteContext.callCount, 0);
  });

  it("explains a 403 from POST /invitations as the tenant's guest invite setting", async () => {
    directory.inviteGuest.rejects(
      new DirectoryError('forbidden', 403, 'Authorization_RequestDenied', 'Insufficient privileges', 'req-403'),
    );
    const outcome = await service.invite(command());
    assert.ok(outcome.kind === 'refused' && outcome.reason === 'invitesNotAllowed');
    assert.match(outcome.kind === 'refused' ? localizer().msg(outcome.message) : '', /External collaboration settings/);
    assert.equal(directory.addGroupMember.callCount, 0);
    const [entry] = await store.audit.list({ action: 'invite.refused' });
    assert.equal(entry.graphRequestId, 'req-403');
  });

  it('waits for replication when the new guest is not visible to the membership write yet', async () => {
    directory.addGroupMember
      .onFirstCall()
      .rejects(new DirectoryError('notFound', 404, 'Request_ResourceNotFound', 'Resource does not exist'));
    directory.addGroupMember
      .onSecondCall()
      .rejects(new DirectoryError('badRequest', 400, 'Request_BadRequest', 'Not a valid reference update.'));
    const outcome = await service.invite(command());
    assert.equal(outcome.kind, 'done');
    assert.equal(directory.addGroupMember.callCount, 3);
    assert.equal(directory.inviteGuest.callCount, 1);
  });

  it('reports a failure with a reference when Graph stays unavailable, and keeps the record', async () => {
    directory.inviteGuest.rejects(new DirectoryError('unavailable', 503, 'ServiceUnavailable', 'down', 'req-503'));
    const cmd = command();
    const outcome = await service.invite(cmd);
    assert.ok(outcome.kind === 'failed');
    assert.equal(outcome.kind === 'failed' ? outcome.reference : '', 'req-503');
    const record = await store.operations.get(cmd.operationId);
    assert.equal(record?.status, 'failed');
  });

  it('carries out a confirmation once: the same operation id again returns the stored outcome', async () => {
    const cmd = command();
    const first = await service.invite(cmd);
    const second = await service.invite(cmd);
    assert.deepEqual(second, first);
    assert.equal(directory.inviteGuest.callCount, 1);
    assert.equal(directory.addGroupMember.callCount, 1);
    const record = await store.operations.get(cmd.operationId);
    assert.equal(record?.status, 'succeeded');
    assert.deepEqual(Object.keys(record?.steps ?? {}).sort(), ['addMember', 'check', 'invite']);
  });

  it('two concurrent deliveries of one confirmation write once', async () => {
    const cmd = command();
    const [a, b] = await Promise.all([service.invite(cmd), service.invite(cmd)]);
    assert.equal(directory.inviteGuest.callCount, 1);
    assert.ok([a.kind, b.kind].includes('done'));
  });

  it('lists shareable apps from the catalog (walked from the apps), sorted, and the owned assigned groups that cannot take guests', async () => {
    const owned = (g: GroupInfo, owners = ['owner-1']) => ({ group: g, ownerIds: owners, ownerCount: owners.length });
    directory.listCatalog.resolves([
      {
        id: 'sp1',
        displayName: 'Contoso Wiki',
        groups: [
          owned({ ...group, id: 'g2', displayName: 'Zeta' }),
          owned(group),
          owned({ ...group, id: 'g6', displayName: 'Not mine' }, ['someone-else']),
        ],
      },
      { id: 'sp2', displayName: 'Contoso Expenses', groups: [owned({ ...group, id: 'g3', displayName: 'Expenses' })] },
      {
        id: 'sp3',
        displayName: 'Partner Portal',
        groups: [owned({ ...group, id: 'g4', displayName: 'Dyn', groupTypes: ['DynamicMembership'] })],
      },
      { id: 'sp4', displayName: 'Other', groups: [owned({ ...group, id: 'g7', displayName: 'Theirs' }, [])] },
    ]);
    const result = await service.findShareableApps(actor);
    assert.deepEqual(
      result.apps.map((a) => [a.displayName, a.groups.map((g) => g.displayName)]),
      [
        ['Contoso Expenses', ['Expenses']],
        ['Contoso Wiki', ['Wiki Partner Readers', 'Zeta']],
      ],
    );
    assert.deepEqual(
      result.blocked.map((b) => [b.appName, b.groupName, b.blockers]),
      [['Partner Portal', 'Dyn', ['dynamic']]],
    );
  });

  it('resumes an invitation left unfinished after the invitation step: adds the guest, never invites again', async () => {
    const t0 = new Date('2026-11-24T09:00:00Z');
    await store.operations.create(
      {
        id: 'invite:crashed',
        kind: 'inviteGuest',
        tenantId: 't1',
        actorId: 'owner-1',
        input: { appId: 'sp1', groupId: 'g1', email: 'pat@adatum.com', message: null, actorName: 'Megan Bowen' },
        replyTo: { activityId: 'card-1' },
      },
      t0,
    );
    const leased = await store.operations.acquireLease('invite:crashed', 'dead-process', 1_000, t0);
    await store.operations.update(
      'invite:crashed',
      leased!.version,
      {
        status: 'running',
        steps: {
          check: { status: 'done', at: t0.toISOString() },
          invite: { status: 'done', at: t0.toISOString(), result: { userId: 'guest-7', status: 'PendingAcceptance' } },
        },
      },
      t0,
    );
    directory.getInviteContext.resolves(
      context({
        existingUser: {
          id: 'guest-7',
          displayName: '',
          mail: 'pat@adatum.com',
          userPrincipalName: 'x',
          userType: 'Guest',
          externalUserState: 'PendingAcceptance',
        },
      }),
    );
    const reported: Array<[string, string]> = [];
    const resumed = await service.resumeUnfinished(async (record, outcome) => {
      reported.push([String(record.replyTo?.activityId), outcome.kind]);
    });
    assert.equal(resumed, 1);
    assert.equal(directory.inviteGuest.callCount, 0);
    assert.deepEqual(directory.addGroupMember.firstCall.args, ['g1', 'guest-7']);
    assert.deepEqual(reported, [['card-1', 'done']]);
    const record = await store.operations.get('invite:crashed');
    assert.equal(record?.status, 'succeeded');
    assert.equal((record?.result as { invited?: boolean }).invited, true);
    assert.equal(await service.resumeUnfinished(async () => undefined), 0, 'nothing left to resume');
  });

  it('does not resume an operation whose lease another process still holds', async () => {
    const now = new Date();
    await store.operations.create(
      {
        id: 'invite:busy',
        kind: 'inviteGuest',
        tenantId: 't1',
        actorId: 'owner-1',
        input: { appId: 'sp1', groupId: 'g1', email: 'pat@adatum.com', message: null, actorName: 'M' },
      },
      now,
    );
    await store.operations.acquireLease('invite:busy', 'other-process', 60_000, now);
    assert.equal(await service.resumeUnfinished(async () => undefined), 0);
    assert.equal(directory.getInviteContext.callCount, 0);
  });

  it('retries throttling and 5xx within a budget, honouring Retry-After', async () => {
    const waits: number[] = [];
    service = new InviteGuestService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger: silentLogger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      sleep: async (ms) => void waits.push(ms),
      confirmBackoffMs: [0],
    });
    directory.inviteGuest
      .onFirstCall()
      .rejects(new DirectoryError('throttled', 429, 'TooManyRequests', 'slow down', null, 3));
    directory.inviteGuest.onSecondCall().rejects(new DirectoryError('unavailable', 502, 'BadGateway', 'gateway'));
    directory.addGroupMember
      .onFirstCall()
      .rejects(new DirectoryError('unavailable', 503, 'serviceNotAvailable', 'busy', null, 1));
    const outcome = await service.invite(command());
    assert.equal(outcome.kind, 'done');
    assert.equal(directory.inviteGuest.callCount, 3);
    assert.equal(directory.addGroupMember.callCount, 2);
    // After the 502 and the 503 the bot first read whether the write had taken effect (a 0 ms settle, then the read).
    assert.equal(directory.findUserByEmail.callCount, 1);
    assert.equal(directory.checkMemberGroups.callCount, 1);
    assert.deepEqual(waits, [3000, 0, 500, 1000]);
  });

  it('keeps its lease while a step is slow, so a resume pass does not run the same operation again', async () => {
    service = new InviteGuestService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger: silentLogger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      leaseMs: 100,
    });
    directory.addGroupMember.callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 450));
      return { added: true, requestId: 'req-slow' };
    });
    const running = service.invite(command({ operationId: 'invite:slow' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await service.resumeUnfinished(async () => undefined), 0, 'the lease is still held');
    const outcome = await running;
    assert.equal(outcome.kind, 'done');
    assert.equal(directory.addGroupMember.callCount, 1);
    assert.equal((await store.operations.get('invite:slow'))?.status, 'succeeded');
  });

  it('counts "already a member" as its own add when this operation invited the guest (an interrupted earlier run wrote it)', async () => {
    directory.addGroupMember.resolves({ added: false, requestId: 'req-dup' });
    const outcome = await service.invite(command());
    assert.ok(outcome.kind === 'done' && outcome.invited && outcome.added);
  });

  describe('ambiguous failures are checked before repeating (a guest never gets two invitation emails)', () => {
    it('a 504 after POST /invitations took effect: the guest is found by address and not invited again', async () => {
      directory.inviteGuest.rejects(
        new DirectoryError('unavailable', 504, 'GatewayTimeout', 'gateway timed out', 'req-504'),
      );
      directory.findUserByEmail.resolves({
        id: 'guest-new',
        displayName: 'Pat',
        mail: 'pat.partner@adatum.com',
        userPrincipalName: 'pat#EXT#',
        userType: 'Guest',
        externalUserState: 'PendingAcceptance',
      });
      const cmd = command();
      const outcome = await service.invite(cmd);
      assert.ok(outcome.kind === 'done' && outcome.invited && outcome.added);
      assert.equal(directory.inviteGuest.callCount, 1);
      assert.deepEqual(directory.addGroupMember.firstCall.args, ['g1', 'guest-new']);
      assert.equal((await store.operations.get(cmd.operationId))?.steps.invite?.result?.userId, 'guest-new');
    });

    it('a dropped connection before the invitation took effect: nobody has the address, so it is sent again', async () => {
      directory.inviteGuest
        .onFirstCall()
        .rejects(new DirectoryError('unavailable', 0, 'NetworkError', 'socket hang up'));
      const outcome = await service.invite(command());
      assert.ok(outcome.kind === 'done' && outcome.invited);
      assert.equal(directory.inviteGuest.callCount, 2);
      assert.equal(directory.findUserByEmail.callCount, 1);
    });

    it('a 504 after the membership write took effect: membership is read, the add is not repeated', async () => {
      directory.addGroupMember.rejects(new DirectoryError('unavailable', 504, 'GatewayTimeout', 'gateway timed out'));
      directory.checkMemberGroups.resolves(new Set(['g1']));
      const outcome = await service.invite(command());
      assert.ok(outcome.kind === 'done' && outcome.added);
      assert.equal(directory.addGroupMember.callCount, 1);
    });
  });

  describe('replication lag is waited out (REPLICATION_WAIT), not reported as a refusal', () => {
    const lagging = (): DirectoryError =>
      new DirectoryError('badRequest', 400, 'Request_BadRequest', 'Not a valid reference update.');
    let now: Date;
    beforeEach(() => {
      now = new Date('2026-12-01T10:00:00Z');
      service = new InviteGuestService({
        ...SERVICE_SETTINGS,
        directory,
        store,
        logger: silentLogger,
        defaultRedirectUrl: 'https://myapps.microsoft.com',
        sleep: async () => undefined,
        clock: () => now,
        replicationWaitMs: 15 * 60_000,
        confirmBackoffMs: [0],
      });
    });

    it('says invited and adding shortly, keeps the operation unfinished until its retry time, then adds once the guest shows', async () => {
      directory.addGroupMember.rejects(lagging());
      const cmd = command({ operationId: 'invite:lag', replyTo: { activityId: 'card-9' } });
      const first = await service.invite(cmd);
      assert.equal(first.kind, 'waiting');
      assert.equal(directory.inviteGuest.callCount, 1);
      let record = await store.operations.get('invite:lag');
      assert.equal(record?.status, 'running');
      assert.ok(
        record?.leaseExpiresAt && Date.parse(record.leaseExpiresAt) > now.getTime(),
        'held until the retry time',
      );
      assert.equal(await service.resumeUnfinished(async () => undefined), 0, 'not before its retry time');

      now = new Date(now.getTime() + 60_000);
      directory.addGroupMember.reset();
      directory.addGroupMember.resolves({ added: true, requestId: 'req-late' });
      directory.getInviteContext.resolves(
        context({
          existingUser: {
            id: 'guest-1',
            displayName: '',
            mail: 'pat.partner@adatum.com',
            userPrincipalName: 'x',
            userType: 'Guest',
            externalUserState: 'PendingAcceptance',
          },
        }),
      );
      const reported: string[] = [];
      assert.equal(
        await service.resumeUnfinished(
          async (r, outcome) => void reported.push(`${String(r.replyTo?.activityId)}:${outcome.kind}`),
        ),
        1,
      );
      assert.deepEqual(reported, ['card-9:done']);
      assert.equal(directory.inviteGuest.callCount, 1, 'never invited twice');
      record = await store.operations.get('invite:lag');
      assert.equal(record?.status, 'succeeded');
    });

    it('a definite refusal (403) ends it as refused at once', async () => {
      directory.addGroupMember.rejects(
        new DirectoryError(
          'forbidden',
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          null,
          null,
          'GroupMember.ReadWrite.All',
        ),
      );
      const outcome = await service.invite(command());
      assert.ok(outcome.kind === 'refused' && outcome.reason === 'writeRefused');
      assert.match(outcome.kind === 'refused' ? localizer().msg(outcome.message) : '', /GroupMember\.ReadWrite\.All/);
    });

    it('after REPLICATION_WAIT the operation fails (an admin or the automatic retry takes it from there)', async () => {
      directory.addGroupMember.rejects(lagging());
      await service.invite(command({ operationId: 'invite:long' }));
      now = new Date(now.getTime() + 16 * 60_000);
      await service.resumeUnfinished(async () => undefined);
      const record = await store.operations.get('invite:long');
      assert.equal(record?.status, 'failed');
      assert.equal(directory.inviteGuest.callCount, 1);
    });
  });

  it('a missing application permission on the check says "not set up" and tells the admins which permission', async () => {
    const blocked: Array<{ kind: string; detail?: string }> = [];
    service = new InviteGuestService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger: silentLogger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      sleep: async () => undefined,
      onBlocked: async (r) => void blocked.push(r),
    });
    directory.getInviteContext.rejects(
      new DirectoryError(
        'forbidden',
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
        null,
        null,
        'Application.Read.All',
      ),
    );
    const outcome = await service.invite(command());
    assert.ok(outcome.kind === 'refused' && outcome.reason === 'notSetUp');
    assert.match(outcome.kind === 'refused' ? localizer().msg(outcome.message) : '', /isn't set up completely yet/);
    assert.deepEqual(
      blocked.map((b) => [b.kind, b.detail]),
      [['missingPermission', 'Application.Read.All']],
    );
    assert.equal(directory.inviteGuest.callCount + directory.addGroupMember.callCount, 0);
  });
});
