import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { GuestLifecycleService } from '../../../src/domain/guests/lifecycle';
import { GuestReviewService, type ReviewMessenger } from '../../../src/domain/guests/review';
import { Catalog } from '../../../src/domain/shared/catalog';
import type { CatalogApp, Directory } from '../../../src/graph/directory';
import { createLogger } from '../../../src/logging';
import { describeEachEngine } from '../../support/stores';
import { SERVICE_SETTINGS } from '../../support/settings';

const DAY = 86_400_000;
const GROUPS = 200;
const GUESTS = 10_000;

/** A directory that counts every call: the review sweep must not read guests from Graph. */
function countingDirectory(calls: string[], catalog: CatalogApp[]): Directory {
  return new Proxy({} as Directory, {
    get: (_target, name) => async () => {
      calls.push(String(name));
      if (name === 'listCatalog') return catalog;
      throw new Error(`unexpected Graph call ${String(name)}`);
    },
  });
}

describeEachEngine('guest review sweep at 10,000 guests across 200 groups', 'guest-invite-review-scale-', (stores) => {
  it('opens every due review from the store, one card per owner and group, without reading guests from Graph', async function () {
    this.timeout(300_000);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = (): Date => new Date(now);
    const store = await stores.open('scale.db', { clock });
    const groupId = (g: number): string => `00000000-0000-4000-8000-${String(g).padStart(12, '0')}`;
    const apps: CatalogApp[] = [
      {
        id: 'app-1',
        displayName: 'Contoso Wiki',
        groups: Array.from({ length: GROUPS }, (_, g) => ({
          group: {
            id: groupId(g),
            displayName: `Group ${g}`,
            groupTypes: [],
            mailEnabled: false,
            securityEnabled: true,
            onPremisesSyncEnabled: null,
            isAssignableToRole: false,
          },
          ownerIds: [`owner-a-${g}`, `owner-b-${g}`],
          ownerCount: 2,
        })),
      },
    ];
    for (let n = 0; n < GUESTS; n++) {
      const g = n % GROUPS;
      await store.guests.recordAdded(
        {
          tenantId: 't1',
          groupId: groupId(g),
          guestId: `guest-${n}`,
          guestEmail: `guest${n}@fabrikam.com`,
          guestName: `Guest ${n}`,
          appId: 'app-1',
          appName: 'Contoso Wiki',
          groupName: `Group ${g}`,
          invitedBy: `owner-a-${g}`,
          invitedByName: 'Owner',
          how: 'invite',
          operationId: `op-${n}`,
          sponsorIds: [`owner-a-${g}`],
          sponsorInEntra: false,
          redemption: 'Accepted',
        },
        new Date(now + n),
      );
    }
    const calls: string[] = [];
    const directory = countingDirectory(calls, apps);
    const logger = createLogger({ level: 'error', write: () => undefined });
    const catalog = new Catalog(directory, clock);
    const cards: string[] = [];
    const messenger: ReviewMessenger = {
      sendReviewCard: async (review, owner) => {
        cards.push(`${review.groupId}/${owner.id}/${review.entries.length}`);
        return { ok: true, location: { activityId: `${review.reviewId}/${owner.id}` } };
      },
      updateReviewCards: async () => undefined,
      notifyUser: async () => true,
    };
    const lifecycle = new GuestLifecycleService({
      ...SERVICE_SETTINGS,
      directory,
      store,
      logger,
      catalog,
      defaultRedirectUrl: 'https://myapps.microsoft.com',
      clock,
    });
    const review = new GuestReviewService({ ...SERVICE_SETTINGS, store, logger, catalog, lifecycle, messenger, clock });

    const quiet = performance.now();
    assert.deepEqual(await review.sweep(), { opened: 0, reminded: 0, defaulted: 0 });
    const quietMs = performance.now() - quiet;

    now += 90 * DAY + GUESTS;
    const started = performance.now();
    const result = await review.sweep();
    const ms = performance.now() - started;
    assert.equal(result.opened, GUESTS);
    assert.equal(cards.length, GROUPS * 2, 'one card per owner per group');
    assert.ok(cards.every((c) => c.endsWith(`/${GUESTS / GROUPS}`)));
    assert.deepEqual(calls, ['listCatalog'], 'the only Graph read is the (cached, shared) catalog');
    assert.deepEqual(await review.sweep(), { opened: 0, reminded: 0, defaulted: 0 }, 'nothing opened twice');
    console.log(
      `      ${stores.engine}: sweep with nothing due ${quietMs.toFixed(0)} ms; opening 10,000 due reviews in 200 groups ${ms.toFixed(0)} ms; Graph calls: ${calls.length} (${calls.join(', ')})`,
    );
  });
});
