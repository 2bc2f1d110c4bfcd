import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BulkSummary, PersonalInvitation } from '../../../src/domain/bulk/model';
import { openSqliteStore } from '../../../src/store/sqlite';
import { createLogger } from '../../../src/logging';
import { loadDemoSeed, startSimulator } from '../../../src/simulator';
import { apps, groups, users, TENANT_ID } from '../../support/botHarness';
import { bulkService } from '../../support/bulkJob';

const actor = { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };
type Body = {
  invitedUserEmailAddress: string;
  sendInvitationMessage: boolean;
  invitedUserMessageInfo?: { customizedMessageBody?: string };
};

describe('bulk job: per-guest welcome messages and send flags (from a file) are kept in the job record', function () {
  this.timeout(60_000);

  it('a job resumed after a crash sends the rest with their own message and send flag (invitation-post.md: sendInvitationMessage)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-personal-'));
    const sim = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true });
    const store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    try {
      const logger = createLogger({ level: 'error', write: () => undefined });
      const addresses = Array.from({ length: 30 }, (_, i) => `own${i}@adatum.com`);
      const personal: Array<PersonalInvitation | null> = addresses.map((_, i) =>
        i % 3 === 0 ? { message: `Hello ${i}`, send: true } : i % 3 === 1 ? { message: null, send: false } : null,
      );
      let calls = 0;
      const first = bulkService(sim, store, logger, { leaseMs: 200 });
      const directory = (
        first as unknown as { options: { directory: { inviteGuests: (...a: unknown[]) => Promise<unknown> } } }
      ).options.directory;
      const original = directory.inviteGuests.bind(directory);
      directory.inviteGuests = async (...args: unknown[]) => {
        if (++calls === 2) throw new Error('process died');
        return original(...args);
      };
      await assert.rejects(
        first.run({
          operationId: 'bulk:personal',
          actor,
          appId: apps.expenses,
          groupId: groups.expenses,
          addresses,
          message: 'For everyone else',
          personal,
        }),
      );
      await new Promise((r) => setTimeout(r, 250));
      const reports: BulkSummary[] = [];
      assert.equal(
        await bulkService(sim, store, logger).resumeUnfinished(async (_record, outcome) => void reports.push(outcome)),
        1,
      );
      assert.equal(reports[0].status, 'finished');

      const bodies = sim
        .requests()
        .filter((r) => r.method === 'POST' && r.url.includes('/invitations'))
        .map((r) => r.requestBody as Body);
      const sent = sim.invitationCounts();
      addresses.forEach((address, i) => {
        assert.equal(sent[address], 1, address);
        const body = bodies.find((b) => b.invitedUserEmailAddress === address)!;
        const expected = personal[i];
        assert.equal(body.sendInvitationMessage, expected ? expected.send : true, address);
        assert.equal(
          body.invitedUserMessageInfo?.customizedMessageBody,
          expected?.message ?? 'For everyone else',
          address,
        );
      });
      assert.ok(
        bodies.filter((b) => addresses.indexOf(b.invitedUserEmailAddress) >= 20).length === 10,
        'the second batch was sent by the resumed run',
      );
    } finally {
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
