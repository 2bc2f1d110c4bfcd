/**
 * A bulk invitation survives SIGKILL halfway (@e2e: child processes). A process runs a 100-address job against
 * the simulator (this process; each `$batch` held 400 ms); once two invitation batches went out, its whole process
 * group gets SIGKILL. Then the bot itself (node dist/src/index.js) starts on the same store: its resumer picks the
 * job up after the lease and finishes it. Every new guest is invited exactly once and added exactly once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDemoSeed, startSimulator, type RunningSimulator } from '../../src/simulator';
import { startProcess, projectRoot, type ManagedProcess } from './support';
import { startBot, type BotProcess } from './support/bot';
import { killGroup, waitUntil } from './support/crash';
import { storedOperations } from './support/operationStore';
import { hundredAddresses, memberWritesPerUser, sam } from '../support/bulkJob';
import { counts, type BulkSummary } from '../../src/domain/bulk/model';
import { validateLog } from '../support/graphContract';

describe('bulk invitation: SIGKILL halfway, then the bot resumes it @e2e', function () {
  this.timeout(120_000);
  let sim: RunningSimulator;
  let dir: string;
  let job: ManagedProcess | undefined;
  let bot: BotProcess | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-crash-'));
    sim = await startSimulator({
      seed: loadDemoSeed(),
      port: 0,
      recordBodies: true,
      faults: { rules: [{ path: '/$batch', latencyMs: 400 }] },
    });
  });
  after(async () => {
    await job?.stop().catch(() => undefined);
    await bot?.stop().catch(() => undefined);
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the job with every guest invited once and added once', async () => {
    const storePath = path.join(dir, 'bot.sqlite');
    const addresses = hundredAddresses('crash');
    job = startProcess(
      'bulk-job',
      process.execPath,
      [path.join(projectRoot(), 'dist', 'test', 'support', 'bulkJobMain.js')],
      {
        cwd: projectRoot(),
        env: {
          ...process.env,
          GRAPH_BASE_URL: sim.graphBaseUrl,
          STORE_PATH: storePath,
          BULK_ADDRESSES: addresses.join(','),
          BULK_OPERATION_ID: 'bulk:crash',
          OPERATION_LEASE_MS: '2000',
        },
      },
    );
    const invitationItems = (): number =>
      sim.requests().filter((r) => r.batchId && r.method === 'POST' && r.url.startsWith('/v1.0/invitations')).length;
    await waitUntil('two invitation batches', () => invitationItems() >= 40, { timeoutMs: 30_000 });
    await killGroup(job);
    const before = storedOperations(storePath, 'bulkInvite')[0];
    assert.equal(before.status, 'running', 'killed halfway');
    const sentBefore = Object.keys(sim.invitationCounts()).length;
    assert.ok(sentBefore >= 40 && sentBefore < 97, `killed after ${sentBefore} invitations`);

    sim.setFaults(null);
    bot = await startBot({
      graphBaseUrl: sim.graphBaseUrl,
      storePath,
      logLevel: 'info',
      env: { OPERATION_LEASE: '2s', OPERATION_RESUME_INTERVAL: '1s', SETUP_SCAN_INTERVAL: '24h' },
    });
    const done = await waitUntil(
      'the resumed job to finish',
      () => storedOperations(storePath, 'bulkInvite').find((op) => op.status === 'succeeded'),
      { timeoutMs: 60_000 },
    );
    const outcome = done.result as unknown as BulkSummary;
    assert.deepEqual(counts(outcome.entries), { done: 98, waiting: 0, failed: 1, skipped: 1, pending: 0 });
    const sent = sim.invitationCounts();
    for (const address of addresses.slice(0, 97)) assert.equal(sent[address], 1, `one invitation for ${address}`);
    const writes = memberWritesPerUser(sim.requests());
    for (const e of outcome.entries.filter((x) => x.state === 'added'))
      assert.equal(writes.get(e.userId!.toLowerCase()), 1, `added once: ${e.address}`);
    assert.equal(writes.get(sam.id), undefined);
    assert.deepEqual(validateLog(sim.requests()), []);
  });
});
