/** Sample admin alerts for tests and the benchmark of proactive delivery. */
import type { AlertNotice } from '../../src/domain/admin/alerts';
import { TENANT } from './teamsConnector';

/** An admin alert about group `g{i}` (dynamic membership), as the outbox carries it. */
export const alertNotice = (i: number, groupName = `Wiki Partners ${i}`): AlertNotice => ({
  alert: {
    tenantId: TENANT,
    key: `groupDynamic:g${i}`,
    kind: 'groupDynamic',
    appId: 'sp9',
    appName: 'Contoso Wiki',
    groupId: `g${i}`,
    groupName,
    summary: `${groupName} has dynamic membership.`,
    fix: ['Create an assigned group.'],
    state: 'open',
    count: 1,
    countSinceAlert: 1,
    lastBlocked: null,
    firstSeen: '2026-12-07T09:00:00.000Z',
    lastSeen: '2026-12-07T09:00:00.000Z',
    lastAlertedAt: null,
    pendingDelivery: false,
    acknowledgedBy: null,
    resolvedAt: null,
    version: 1,
  },
  event: 'problem',
  blocks: 0,
  at: '2026-12-07T09:00:00.000Z',
});
