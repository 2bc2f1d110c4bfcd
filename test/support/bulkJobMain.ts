/**
 * A process that runs one bulk invitation job and exits (the crash test kills it halfway):
 * GRAPH_BASE_URL, STORE_PATH, BULK_ADDRESSES (comma-separated), BULK_OPERATION_ID, OPERATION_LEASE_MS.
 */
import { openSqliteStore } from '../../src/store/sqlite';
import { createLogger } from '../../src/logging';
import { createGraphClient } from '../../src/graph/client';
import { GraphDirectory } from '../../src/graph/graphDirectory';
import { GraphHttp } from '../../src/graph/graphHttp';
import { BulkInviteService } from '../../src/domain/bulk/bulkJob';
import { apps, groups, users, TENANT_ID } from './botHarness';
import { SERVICE_SETTINGS } from './settings';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const logger = createLogger({ level: 'info' });
  const store = openSqliteStore(env('STORE_PATH'));
  const client = createGraphClient({
    baseUrl: env('GRAPH_BASE_URL'),
    auth: { kind: 'static', token: 'crash' },
    logger,
  });
  const directory = new GraphDirectory(new GraphHttp(client));
  const service = new BulkInviteService({
    ...SERVICE_SETTINGS,
    directory,
    store,
    logger,
    defaultRedirectUrl: 'https://myapps.microsoft.com',
    tenantDomains: async () => ({ domains: ['contoso.com'], name: 'Contoso' }),
    leaseMs: Number(env('OPERATION_LEASE_MS')),
  });
  const outcome = await service.run({
    operationId: env('BULK_OPERATION_ID'),
    actor: { tenantId: TENANT_ID, userId: users.megan.aadObjectId, displayName: users.megan.name },
    appId: apps.expenses,
    groupId: groups.expenses,
    addresses: env('BULK_ADDRESSES').split(','),
    message: null,
  });
  logger.info('bulkJob.finished', { kind: outcome.kind });
  await store.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
