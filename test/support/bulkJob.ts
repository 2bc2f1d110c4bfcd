/** Shared by the bulk invitation tests and the benchmark: a job service over the simulator, and counts from its log. */
import { BulkInviteService, type BulkInviteOptions } from '../../src/domain/bulk/bulkJob';
import type { Logger } from '../../src/logging';
import type { Store } from '../../src/store/store';
import type { RequestLogEntry, RunningSimulator } from '../../src/simulator';
import { SERVICE_SETTINGS } from './settings';
import { simulatorDirectory } from './simDirectory';

export function bulkService(
  sim: RunningSimulator,
  store: Store,
  logger: Logger,
  overrides: Partial<BulkInviteOptions> = {},
): BulkInviteService {
  const directory = simulatorDirectory(sim, logger);
  return new BulkInviteService({
    ...SERVICE_SETTINGS,
    directory,
    store,
    logger,
    defaultRedirectUrl: 'https://myapps.microsoft.com',
    replicationBackoffMs: [250, 500, 1000, 1000],
    confirmBackoffMs: [300, 1000, 2000],
    transientRetries: 8,
    tenantDomains: async () => ({ domains: ['contoso.com', 'contoso.onmicrosoft.com'], name: 'Contoso' }),
    ...overrides,
  });
}

/** Successful membership writes per user id (a PATCH bind or a single add that took effect, even if answered 504). */
export function memberWritesPerUser(requests: readonly RequestLogEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  const took = (r: RequestLogEntry): boolean => r.status === 204 || r.appliedStatus === 204;
  const idOf = (ref: unknown): string => String(ref).split('/').pop()!.toLowerCase();
  for (const r of requests) {
    if (!took(r)) continue;
    const body = (r.requestBody ?? {}) as Record<string, unknown>;
    if (r.method === 'PATCH' && /\/groups\/[^/?]+(\?|$)/.test(r.url) && Array.isArray(body['members@odata.bind'])) {
      for (const ref of body['members@odata.bind']) out.set(idOf(ref), (out.get(idOf(ref)) ?? 0) + 1);
    } else if (r.method === 'POST' && /\/members\/\$ref/.test(r.url)) {
      out.set(idOf(body['@odata.id']), (out.get(idOf(body['@odata.id'])) ?? 0) + 1);
    }
  }
  return out;
}

export const jordan = { email: 'jordan.rivera@fabrikam.com', id: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10' };
export const sam = { email: 'sam@northwindtraders.com', id: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f11' };

/**
 * 97 new addresses, an existing guest who is not a member of Expenses External Reviewers, one who is, and a blocked
 * domain.
 */
export function hundredAddresses(prefix = 'bulk'): string[] {
  return [
    ...Array.from({ length: 97 }, (_, i) => `${prefix}.${i}@adatum.com`),
    jordan.email,
    sam.email,
    'someone@tailspintoys.com',
  ];
}
