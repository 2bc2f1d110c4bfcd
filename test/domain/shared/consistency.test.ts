import { strict as assert } from 'node:assert';
import { createGraphClient } from '../../../src/graph/client';
import { GraphDirectory } from '../../../src/graph/graphDirectory';
import { GraphHttp } from '../../../src/graph/graphHttp';
import { InviteGuestService } from '../../../src/domain/invite/inviteGuest';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';
import { silentLogger } from '../../../src/logging';
import { loadDemoSeed, startSimulator, type RunningSimulator } from '../../../src/simulator';
import { apps, groups, users, TENANT_ID } from '../../support/botHarness';
import { SERVICE_SETTINGS } from '../../support/settings';

/**
 * group-list-owners.md: the advanced-query index ("ConsistencyLevel: eventual") "might not be up-to-date with recent
 * changes". With a minute of index lag in the simulator, ownership at the moment of acting must still be the truth.
 */
describe('authorization reads the truth, not the lagging advanced-query index (group-list-owners.md)', () => {
  let sim: RunningSimulator;
  let store: Store;
  let service: InviteGuestService;
  let t = Date.parse('2026-12-01T09:00:00Z');

  beforeEach(async () => {
    const seed = loadDemoSeed();
    seed.indexLag = 60_000;
    sim = await startSimulator({ seed, port: 0, recordBodies: true, now: () => t });
    store = openSqliteStore(':memory:');
    const client = createGraphClient({
      baseUrl: sim.graphBaseUrl,
      auth: { kind: 'static', token: 't' },
      logger: silentLogger,
      retryDelaySeconds: 0,
    });
    service = new InviteGuestService({
      ...SERVICE_SETTINGS,
      directory: new GraphDirectory(new GraphHttp(client)),
      store,
      logger: silentLogger,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      sleep: async () => undefined,
    });
  });
  afterEach(async () => {
    await sim.close();
    await store.close();
  });

  /** An admin changes the owners (Group.ReadWrite.All, which the bot itself is not granted). */
  async function asAdmin(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<number> {
    sim.setApplicationPermissions(null);
    try {
      const response = await fetch(`${sim.graphBaseUrl}${path}`, {
        method,
        headers: { Authorization: 'Bearer admin', 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      return response.status;
    } finally {
      sim.setApplicationPermissions(loadDemoSeed().applicationPermissions ?? null);
    }
  }

  async function eventualOwnerIds(): Promise<string[]> {
    const response = await fetch(`${sim.graphBaseUrl}/groups/${groups.expenses}/owners?$select=id&$count=true`, {
      headers: { Authorization: 'Bearer t', ConsistencyLevel: 'eventual' },
    });
    return ((await response.json()) as { value: Array<{ id: string }> }).value.map((o) => o.id);
  }

  const invite = (actor: { aadObjectId: string; name: string }, n: number) =>
    service.invite({
      operationId: `invite:lag-${n}`,
      actor: { tenantId: TENANT_ID, userId: actor.aadObjectId, displayName: actor.name },
      appId: apps.expenses,
      groupId: groups.expenses,
      email: `lagged.${n}@adatum.com`,
      message: null,
      offered: [{ appId: apps.expenses, groupIds: [groups.expenses] }],
    });

  it('an owner removed a moment ago is refused at once', async () => {
    assert.equal(await asAdmin('DELETE', `/groups/${groups.expenses}/owners/${users.megan.aadObjectId}/$ref`), 204);
    t += 1_000;
    assert.ok((await eventualOwnerIds()).includes(users.megan.aadObjectId), 'the index still lists her');
    const outcome = await invite(users.megan, 1);
    assert.ok(outcome.kind === 'refused' && outcome.reason === 'notOwner', JSON.stringify(outcome));
    assert.equal(sim.invitationCounts()['lagged.1@adatum.com'] ?? 0, 0);
  });

  it('an owner added a moment ago is accepted at once', async () => {
    assert.equal(
      await asAdmin('POST', `/groups/${groups.expenses}/owners/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${users.adele.aadObjectId}`,
      }),
      204,
    );
    t += 1_000;
    assert.ok(!(await eventualOwnerIds()).includes(users.adele.aadObjectId), 'the index does not list her yet');
    const outcome = await invite(users.adele, 2);
    assert.ok(outcome.kind === 'done' && outcome.invited && outcome.added, JSON.stringify(outcome));
  });
});
