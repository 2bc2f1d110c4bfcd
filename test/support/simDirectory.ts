/** The Graph adapter over a running simulator, as the tests use it: a static token and no waits on Retry-After. */
import { createGraphClient } from '../../src/graph/client';
import { GraphDirectory } from '../../src/graph/graphDirectory';
import { GraphHttp } from '../../src/graph/graphHttp';
import type { Logger } from '../../src/logging';
import type { RunningSimulator } from '../../src/simulator';

export function simulatorDirectory(sim: RunningSimulator, logger: Logger, token = 'test'): GraphDirectory {
  const client = createGraphClient({
    baseUrl: sim.graphBaseUrl,
    auth: { kind: 'static', token },
    logger,
    retryDelaySeconds: 0,
  });
  return new GraphDirectory(new GraphHttp(client, { maxRetryAfterSeconds: 0 }));
}
