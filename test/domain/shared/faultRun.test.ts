import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InviteGuestService } from '../../../src/domain/invite/inviteGuest';
import type { InviteOutcome } from '../../../src/domain/invite/model';
import { RequestAccessService } from '../../../src/domain/requests/requestAccess';
import type { ApprovalMessenger } from '../../../src/domain/requests/model';
import { reopenFailedOperations, reopenOperation } from '../../../src/domain/shared/operations';
import { openSqliteStore } from '../../../src/store/sqlite';
import { createLogger } from '../../../src/logging';
import { loadDemoSeed, startSimulator } from '../../../src/simulator';
import { validateLog } from '../../support/graphContract';
import { apps, groups, users, TENANT_ID } from '../../support/botHarness';
import { SERVICE_SETTINGS } from '../../support/settings';
import { simulatorDirectory } from '../../support/simDirectory';

/**
 * 200 confirmed invitations while Graph throttles 30% of requests, fails 5% with 5xx, answers some writes with a 504
 * or a dropped connection *after* they took effect, and does not show new guests to membership writes for two
 * seconds (in all three documented forms): every guest is invited once and added once; none lost, none duplicated,
 * and no guest gets a second invitation email.
 */
describe('exactly-once directory writes under Graph faults', function () {
  this.timeout(240_000);

  it('200 invitations with 30% throttling, 5% 5xx, 504s and dropped connections after writes, and replication lag: none lost, none duplicated, no second email', async () => {
    const count = Number(process.env.FAULT_RUN_INVITES ?? 200);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-faults-'));
    const sim = await startSimulator({
      seed: loadDemoSeed(),
      port: 0,
      recordBodies: true,
      faults: {
        seed: 20261124,
        replicationLagMs: 2000,
        replicationLagForms: ['Request_ResourceNotFound', 'Directory_ObjectNotFound', 'Request_BadRequest'],
        rules: [
          // A gateway answers 504 (or drops the connection) after the write took effect (field notes, Graph section).
          {
            method: 'POST',
            path: '/invitations',
            rate429: 0.3,
            rate500: 0.02,
            rate502: 0.01,
            rate504AfterWrite: 0.04,
            rateDropAfterWrite: 0.03,
            retryAfterSeconds: 0,
            topLevelOnly: true,
          },
          {
            method: 'POST',
            path: '/groups/*/members/$ref',
            rate429: 0.3,
            rate500: 0.02,
            rate503: 0.01,
            rate504AfterWrite: 0.04,
            rateDropAfterWrite: 0.03,
            retryAfterSeconds: 0,
            topLevelOnly: true,
          },
          { path: '*', rate429: 0.3, rate500: 0.02, rate502: 0.01, rate503: 0.01, rate504: 0.01, retryAfterSeconds: 0 },
        ],
      },
    });
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => logs.push(line) });
    const store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    try {
      const directory = simulatorDirectory(sim, logger);
      const service = new InviteGuestService({
        ...SERVICE_SETTINGS,
        directory,
        store,
        logger,
        defaultRedirectUrl: 'https://myapps.microsoft.com',
        replicationBackoffMs: [250, 500, 1000, 1000, 1000],
        confirmBackoffMs: [300, 1000, 2000],
        transientRetries: 8,
      });
      const actor = { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };
      const offered = [{ appId: apps.expenses, groupIds: [groups.expenses] }];
      const emails = Array.from({ length: count }, (_, i) => `fault.run.${i}@adatum.com`);
      const outcomes: InviteOutcome[] = new Array(count);
      const queue = emails.map((email, i) => ({ email, i }));
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const command = {
            operationId: `invite:fault-run-${next.i}`,
            actor,
            appId: apps.expenses,
            groupId: groups.expenses,
            email: next.email,
            message: 'Welcome',
            offered,
          };
          let outcome = await service.invite(command);
          // A confirmation whose budget ran out is confirmed again (same operation): it resumes, never repeats.
          for (let again = 0; outcome.kind === 'failed' && again < 3; again++) {
            await reopenOperation(store.operations, command.operationId, new Date());
            outcome = await service.invite(command);
          }
          outcomes[next.i] = outcome;
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      const stats = sim.faultStats();
      sim.setFaults(null);

      const lost = outcomes.filter((o) => o.kind !== 'done').length;
      const requests = sim.requests();
      const created = new Map<string, number>();
      for (const r of requests) {
        if (r.method === 'POST' && r.url.endsWith('/invitations') && r.status === 201) {
          const email = String((r.requestBody as { invitedUserEmailAddress: string }).invitedUserEmailAddress);
          created.set(email, (created.get(email) ?? 0) + 1);
        }
      }
      const members = new Map<string, number>();
      let next: string | null = `${sim.graphBaseUrl}/groups/${groups.expenses}/members?$select=id,mail&$top=999`;
      while (next) {
        const page = (await (await fetch(next, { headers: { Authorization: 'Bearer test' } })).json()) as {
          value: Array<{ mail: string | null }>;
          '@odata.nextLink'?: string;
        };
        for (const m of page.value) if (m.mail) members.set(m.mail, (members.get(m.mail) ?? 0) + 1);
        next = page['@odata.nextLink'] ?? null;
      }
      // What took effect in the directory, whatever the client saw (a 504 or a dropped connection after the write).
      const emailsSent = sim.invitationCounts();
      const secondEmails = Object.values(emailsSent).filter((n) => n > 1).length;
      for (const [email, n] of Object.entries(emailsSent)) created.set(email, Math.max(created.get(email) ?? 0, n));
      const invitedTwice = [...created.values()].filter((n) => n > 1).length;
      const notInvited = emails.filter((e) => !created.has(e)).length;
      const notMember = emails.filter((e) => members.get(e) !== 1).length;
      const retries = logs.filter((l) => l.includes('"graph.retry"') || l.includes('"invite.replication.wait"')).length;
      const topLevel = requests.filter((r) => !r.batchId).length;
      console.log(
        `      fault run: ${count} invitations attempted; ${requests.length} Graph requests (${topLevel} top-level); faults injected: ` +
          `${JSON.stringify(stats.injected)}; retries by the bot: ${retries} (plus the Graph client's own); ambiguous writes confirmed by reading: ` +
          `${logs.filter((l) => l.includes('"graph.write.confirmed"')).length}; lost: ${lost}; duplicated: ${invitedTwice}; second invitation emails: ${secondEmails}`,
      );
      assert.equal(secondEmails, 0, 'POST /invitations took effect once per guest');
      assert.equal(lost, 0, 'every confirmed invitation finished');
      assert.equal(notInvited, 0, 'every guest was invited');
      assert.equal(invitedTwice, 0, 'no guest was invited twice');
      assert.equal(notMember, 0, 'every guest is in the group exactly once');
      assert.ok(
        stats.injected['429'] > 0 &&
          stats.injected['500'] + stats.injected['502'] + stats.injected['503'] + stats.injected['504'] > 0,
      );
      assert.ok(
        (stats.injected['504-after-write'] ?? 0) > 0 && (stats.injected['drop-after-write'] ?? 0) > 0,
        'writes answered 504 or dropped after they took effect',
      );
      assert.deepEqual(validateLog(requests), []);
    } finally {
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('100 approvals with 30% throttling and 5% 5xx: every requester added once, none lost, none duplicated', async () => {
    const count = Number(process.env.FAULT_RUN_APPROVALS ?? 100);
    const seed = loadDemoSeed();
    const requesters = Array.from({ length: count }, (_, i) => ({
      id: `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: `Requester ${i}`,
      userPrincipalName: `requester${i}@contoso.com`,
      mail: `requester${i}@contoso.com`,
      userType: 'Member' as const,
    }));
    seed.users.push(...requesters);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-approval-faults-'));
    const sim = await startSimulator({ seed, port: 0, recordBodies: true });
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => logs.push(line) });
    const store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    const notices = new Map<string, number>();
    const messenger: ApprovalMessenger = {
      sendApprovalCard: async (request, owner) => ({
        ok: true,
        location: { requestId: request.id, ownerId: owner.id },
      }),
      updateApprovalCards: async () => undefined,
      notifyRequester: async (request) => {
        notices.set(request.id, (notices.get(request.id) ?? 0) + 1);
        return true;
      },
    };
    try {
      const directory = simulatorDirectory(sim, logger);
      const service = new RequestAccessService({
        ...SERVICE_SETTINGS,
        directory,
        store,
        messenger,
        logger,
        transientRetries: 8,
        sleep: async () => undefined,
      });
      const offered = [{ appId: apps.expenses, groupIds: [groups.expenses] }];
      const requests = [];
      for (const r of requesters) {
        const created = await service.createRequest({
          actor: { tenantId: TENANT_ID, userId: r.id, displayName: r.displayName },
          appId: apps.expenses,
          groupId: groups.expenses,
          justification: 'Audit',
          offered,
        });
        assert.equal(created.kind, 'created');
        if (created.kind === 'created') requests.push(created.request);
      }

      sim.setFaults({
        seed: 20261130,
        rules: [
          { path: '*', rate429: 0.3, rate500: 0.02, rate502: 0.01, rate503: 0.01, rate504: 0.01, retryAfterSeconds: 0 },
        ],
      });
      const owners = [
        { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' },
        { tenantId: TENANT_ID, userId: users.alex.aadObjectId, displayName: 'Alex Wilber' },
      ];
      let clicksAgain = 0;
      const queue = requests.map((request, i) => ({ request, i }));
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          // Both owners approve every request at the same moment; a click whose reads failed is clicked again.
          const approveAs = async (owner: (typeof owners)[number]): Promise<void> => {
            for (let attempt = 0; ; attempt++) {
              try {
                await service.decide(owner, next!.request.id, true, null);
                return;
              } catch (err) {
                if (attempt >= 5) throw err;
                clicksAgain++;
              }
            }
          };
          await Promise.all(owners.map(approveAs));
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      // What the periodic resumer does: failed writes are reopened and finished.
      for (let round = 0; round < 3; round++) {
        await reopenFailedOperations(store.operations, {
          retryAfterMs: 1,
          maxAttempts: 3,
          now: new Date(Date.now() + 1000),
        });
        await service.resumeUnfinished();
      }
      const stats = sim.faultStats();
      sim.setFaults(null);

      // Membership writes that reached the directory (an injected fault answers before it): one per requester.
      const writes = sim
        .requests()
        .filter((r) => r.method === 'POST' && r.url.endsWith(`/groups/${groups.expenses}/members/$ref`) && !r.fault);
      const addedTimes = new Map<string, number>();
      for (const w of writes) {
        const id = String((w.requestBody as { '@odata.id': string })['@odata.id'])
          .split('/')
          .pop()!;
        addedTimes.set(id, (addedTimes.get(id) ?? 0) + 1);
      }
      const memberIds = new Set<string>();
      let next: string | null = `${sim.graphBaseUrl}/groups/${groups.expenses}/members?$select=id&$top=999`;
      while (next) {
        const page = (await (await fetch(next, { headers: { Authorization: 'Bearer test' } })).json()) as {
          value: Array<{ id: string }>;
          '@odata.nextLink'?: string;
        };
        for (const m of page.value) memberIds.add(m.id);
        next = page['@odata.nextLink'] ?? null;
      }
      const finals = await Promise.all(requests.map((r) => store.requests.get(r.id)));
      const lost = finals.filter((r) => r?.state !== 'approved' || r.outcome?.membership !== 'added').length;
      const duplicated = [...addedTimes.values()].filter((n) => n > 1).length;
      const retries = logs.filter((l) => l.includes('"graph.retry"')).length;
      console.log(
        `      approval fault run: ${count} requests approved by two owners at once; faults injected: ${JSON.stringify(stats.injected)}; ` +
          `retries by the bot: ${retries}; clicks repeated after a failed read: ${clicksAgain}; lost: ${lost}; duplicated: ${duplicated}`,
      );
      assert.equal(lost, 0, 'every approval ended with the requester added');
      assert.equal(duplicated, 0, 'no requester was added twice');
      assert.equal(requesters.filter((r) => !memberIds.has(r.id)).length, 0, 'every requester is a member');
      assert.equal(
        requesters.filter((r) => addedTimes.get(r.id) !== 1).length,
        0,
        'one membership write per requester reached the directory',
      );
      assert.ok(
        writes.every((w) => w.status === 204),
        'and each added the requester',
      );
      assert.ok(
        requests.every((r) => (notices.get(r.id) ?? 0) >= 1),
        'every requester was told',
      );
      assert.ok(stats.injected['429'] > 0);
      assert.deepEqual(validateLog(sim.requests()), []);
    } finally {
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
