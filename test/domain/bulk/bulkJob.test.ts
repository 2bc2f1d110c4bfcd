import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { counts, type BulkSummary } from '../../../src/domain/bulk/model';
import { openSqliteStore } from '../../../src/store/sqlite';
import { createLogger } from '../../../src/logging';
import { loadDemoSeed, startSimulator } from '../../../src/simulator';
import { validateLog } from '../../support/graphContract';
import { apps, groups, users, TENANT_ID } from '../../support/botHarness';
import { bulkService, hundredAddresses, jordan, memberWritesPerUser, sam } from '../../support/bulkJob';

const actor = { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };
describe('bulk invitation job', function () {
  this.timeout(180_000);

  it('100 addresses with throttled batch items, 5xx, 504s after writes and replication lag: every new guest invited once, every guest added once (group-post-members.md, concepts/json-batching.md)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-job-'));
    const sim = await startSimulator({
      seed: loadDemoSeed(),
      port: 0,
      recordBodies: true,
      faults: {
        seed: 7,
        replicationLagMs: 1500,
        replicationLagForms: ['Request_ResourceNotFound', 'Directory_ObjectNotFound', 'Request_BadRequest'],
        rules: [
          {
            method: 'POST',
            path: '/invitations',
            rate429: 0.3,
            rate500: 0.03,
            rate504AfterWrite: 0.05,
            retryAfterSeconds: 0,
            inBatchOnly: true,
          },
          {
            method: 'PATCH',
            path: '/groups/*',
            rate429: 0.3,
            rate503: 0.05,
            rate504AfterWrite: 0.1,
            retryAfterSeconds: 0,
          },
          {
            method: 'POST',
            path: '/groups/*/members/$ref',
            rate429: 0.3,
            rate504AfterWrite: 0.05,
            retryAfterSeconds: 0,
          },
          { path: '*', rate429: 0.2, rate503: 0.03, retryAfterSeconds: 0 },
        ],
      },
    });
    const logs: string[] = [];
    const store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    try {
      const service = bulkService(sim, store, createLogger({ level: 'info', write: (line) => logs.push(line) }));
      const addresses = hundredAddresses();
      const progress: BulkSummary[] = [];
      let outcome = await service.run({
        operationId: 'bulk:faults',
        actor,
        appId: apps.expenses,
        groupId: groups.expenses,
        addresses,
        message: 'Welcome',
        onProgress: (s) => progress.push(s),
      });
      // Still waiting for replication after the in-run retries: the resumer carries on after retryAt (no lease wait
      // here).
      for (let round = 0; outcome.kind === 'bulk' && outcome.status === 'running' && round < 5; round++) {
        await store.operations.releaseLease(
          'bulk:faults',
          (await store.operations.get('bulk:faults'))!.leaseOwner ?? '',
        );
        outcome = await service.run({
          operationId: 'bulk:faults',
          actor,
          appId: apps.expenses,
          groupId: groups.expenses,
          addresses,
          message: 'Welcome',
        });
      }
      assert.equal(outcome.kind, 'bulk');
      if (outcome.kind !== 'bulk') return;
      const stats = sim.faultStats();
      sim.setFaults(null);
      const byAddress = new Map(outcome.entries.map((e) => [e.address, e]));
      assert.equal(outcome.status, 'finished');
      assert.deepEqual(counts(outcome.entries), { done: 98, waiting: 0, failed: 1, skipped: 1, pending: 0 });
      assert.equal(byAddress.get(sam.email)?.state, 'member');
      assert.equal(byAddress.get(jordan.email)?.state, 'added');
      assert.equal(byAddress.get('someone@tailspintoys.com')?.state, 'refused');

      const sent = sim.invitationCounts();
      for (const address of addresses.slice(0, 97)) assert.equal(sent[address], 1, `one invitation for ${address}`);
      assert.equal(sent[jordan.email], undefined, 'an existing guest is not invited again');
      const writes = memberWritesPerUser(sim.requests());
      for (const e of outcome.entries.filter((x) => x.state === 'added'))
        assert.equal(writes.get(e.userId!.toLowerCase()), 1, `added once: ${e.address}`);
      assert.equal(writes.get(sam.id), undefined);
      assert.ok(
        stats.injected['429'] > 0 && (stats.injected['504-after-write'] ?? 0) > 0,
        JSON.stringify(stats.injected),
      );
      assert.ok(progress.length > 3 && progress.every((p) => p.entries.length === 100));
      assert.deepEqual(validateLog(sim.requests()), []);
    } finally {
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a job resumed after it stopped halfway (intent recorded, invitations out) invites nobody twice', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-resume-'));
    const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true });
    const store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    try {
      const logger = createLogger({ level: 'error', write: () => undefined });
      const addresses = hundredAddresses('resume');
      let calls = 0;
      // The first run dies after its second invitation batch went out (before its results were recorded).
      const first = bulkService(sim, store, logger, { leaseMs: 200 });
      const directory = (
        first as unknown as { options: { directory: { inviteGuests: (...a: unknown[]) => Promise<unknown> } } }
      ).options.directory;
      const original = directory.inviteGuests.bind(directory);
      directory.inviteGuests = async (...args: unknown[]) => {
        const result = await original(...args);
        if (++calls === 2) throw new Error('process died');
        return result;
      };
      await assert.rejects(
        first.run({
          operationId: 'bulk:resume',
          actor,
          appId: apps.expenses,
          groupId: groups.expenses,
          addresses,
          message: null,
        }),
      );
      await new Promise((r) => setTimeout(r, 250));
      const second = bulkService(sim, store, logger);
      const reports: BulkSummary[] = [];
      assert.equal(await second.resumeUnfinished(async (_record, outcome) => void reports.push(outcome)), 1);
      assert.equal(reports[0].status, 'finished');
      assert.deepEqual(counts(reports[0].entries), { done: 98, waiting: 0, failed: 1, skipped: 1, pending: 0 });
      const sent = sim.invitationCounts();
      for (const address of addresses.slice(0, 97)) assert.equal(sent[address], 1, address);
    } finally {
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bulk invitation job: the owner check again before adding', function () {
  this.timeout(30_000);

  for (const [recheckAfterMs, expectAdded] of [
    [5 * 60_000, true],
    [0, false],
  ] as const) {
    it(`${expectAdded ? 'does not read' : 'reads'} the owners again before the membership writes when the job ${expectAdded ? 'is younger than' : 'outlived'} BULK_RECHECK_AFTER (group-list-owners.md, plain read)`, async () => {
      const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true });
      const store = openSqliteStore(':memory:');
      try {
        const service = bulkService(sim, store, createLogger({ level: 'error', write: () => undefined }), {
          recheckAfterMs,
        });
        // Megan stops being an owner while the invitations go out (as the owners read after them would show).
        const directory = (
          service as unknown as { options: { directory: { listGroupOwners: (id: string) => Promise<unknown[]> } } }
        ).options.directory;
        let ownerReads = 0;
        directory.listGroupOwners = async () => {
          ownerReads++;
          return [];
        };
        const addresses = ['recheck.1@adatum.com', 'recheck.2@adatum.com'];
        const outcome = await service.run({
          operationId: `bulk:recheck:${recheckAfterMs}`,
          actor,
          appId: apps.expenses,
          groupId: groups.expenses,
          addresses,
          message: null,
        });
        assert.equal(outcome.kind, 'bulk');
        if (outcome.kind !== 'bulk') return;
        assert.equal(ownerReads, expectAdded ? 0 : 1);
        assert.deepEqual(
          outcome.entries.map((e) => e.state),
          expectAdded ? ['added', 'added'] : ['refused', 'refused'],
        );
        assert.equal(outcome.status, expectAdded ? 'finished' : 'stopped');
        assert.equal(memberWritesPerUser(sim.requests()).size, expectAdded ? 2 : 0);
      } finally {
        await sim.close();
        await store.close();
      }
    });
  }
});
