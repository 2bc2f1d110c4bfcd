import { strict as assert } from 'node:assert';
import { AdminAlertService, type AlertMessenger, type AlertNotice } from '../../../src/domain/admin/alerts';
import { msg } from '../../../src/domain/shared/message';
import type { BlockedReport } from '../../../src/domain/shared/model';
import type { SetupCheckService } from '../../../src/domain/admin/setupCheck';
import type { Directory } from '../../../src/graph/directory';
import { silentLogger } from '../../../src/logging';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { JsonObject, Store } from '../../../src/store/store';
import { SERVICE_SETTINGS } from '../../support/settings';

const TENANT = 't1';
const KEY = 'groupDynamic:g1';

const blockedBy = (name: string): BlockedReport => ({
  tenantId: TENANT,
  actor: { tenantId: TENANT, userId: name.toLowerCase(), displayName: name },
  doing: msg('admin:doing.sharing', { app: 'Partner Portal' }),
  kind: 'groupDynamic',
  app: { id: 'a1', displayName: 'Partner Portal' },
  group: { id: 'g1', displayName: 'Dynamic Partners' },
});

/** Delivers to one admin's chat (unless `down`) and records updates. */
class FakeMessenger implements AlertMessenger {
  down = false;
  readonly sent: AlertNotice[] = [];
  readonly updates: Array<{ locations: readonly JsonObject[]; notice: AlertNotice }> = [];
  async sendToChannel(): Promise<JsonObject | null> {
    return null;
  }
  async sendToUser(_tenantId: string, userId: string, notice: AlertNotice): Promise<JsonObject | null> {
    if (this.down) throw new Error('503 Service Unavailable');
    this.sent.push(notice);
    return { activityId: `card-${this.sent.length}`, userId };
  }
  async updateAlertCards(locations: readonly JsonObject[], notice: AlertNotice): Promise<number> {
    this.updates.push({ locations, notice });
    return locations.length;
  }
}

describe('AdminAlertService: card updates and delivery claims', () => {
  let store: Store;
  let now: number;
  let messenger: FakeMessenger;
  let deferred: Array<{ ms: number; task: () => Promise<void>; cancelled: boolean }>;
  let alerts: AdminAlertService;

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    now = Date.parse('2026-11-24T09:00:00Z');
    messenger = new FakeMessenger();
    deferred = [];
    alerts = new AdminAlertService({
      ...SERVICE_SETTINGS,
      store,
      directory: { listRoleMembers: async () => new Set<string>() } as unknown as Directory,
      setup: {} as SetupCheckService,
      messenger,
      logger: silentLogger,
      adminUserIds: ['patti'],
      clock: () => new Date(now),
      defer: (ms, task) => {
        const entry = { ms, task, cancelled: false };
        deferred.push(entry);
        return () => (entry.cancelled = true);
      },
    });
  });
  afterEach(async () => {
    alerts.stop();
    await store.close();
  });

  it("updates one alert's cards at most every 5 s (Teams rate limits); a block in between is shown by a deferred update", async () => {
    await alerts.reportBlocked(blockedBy('Adele'));
    assert.equal(messenger.sent.length, 1);
    now += 1_000;
    await alerts.reportBlocked(blockedBy('Megan'));
    now += 1_000;
    await alerts.reportBlocked(blockedBy('Alex'));
    assert.equal(messenger.updates.length, 0, 'rendered 2 s ago: not yet');
    assert.deepEqual(
      deferred.map((d) => d.ms),
      [4_000],
      'one deferred update per alert, due 5 s after the card was sent',
    );

    now += 3_000;
    await deferred[0].task();
    assert.equal(messenger.updates.length, 1);
    assert.equal(messenger.updates[0].notice.blocks, 3);
    assert.equal(messenger.updates[0].notice.alert.lastBlocked?.name, 'Alex');
    assert.deepEqual(messenger.updates[0].locations, [{ activityId: 'card-1', userId: 'patti' }]);

    now += 10_000;
    await alerts.reportBlocked(blockedBy('Lee'));
    assert.equal(messenger.updates.length, 2, 'past the interval: at once');
    assert.equal(messenger.updates[1].notice.blocks, 4);
    assert.equal(messenger.sent.length, 1);
  });

  it('stop() cancels deferred card updates', async () => {
    await alerts.reportBlocked(blockedBy('Adele'));
    await alerts.reportBlocked(blockedBy('Megan'));
    assert.equal(deferred.length, 1);
    alerts.stop();
    assert.equal(deferred[0].cancelled, true);
  });

  it('a pending alert whose delivery fails goes back to pending, with no last-alerted time', async () => {
    messenger.down = true;
    await alerts.reportBlocked(blockedBy('Adele'));
    let stored = await store.alerts.get(TENANT, KEY);
    assert.equal(stored?.pendingDelivery, true);
    assert.equal(await alerts.deliverPending(), 0);
    stored = await store.alerts.get(TENANT, KEY);
    assert.equal(stored?.pendingDelivery, true);
    assert.equal(stored?.lastAlertedAt, null);
    messenger.down = false;
    now += 60_000;
    assert.equal(await alerts.deliverPending(), 1);
    stored = await store.alerts.get(TENANT, KEY);
    assert.equal(stored?.pendingDelivery, false);
    assert.equal(stored?.lastAlertedAt, new Date(now).toISOString());
  });
});
