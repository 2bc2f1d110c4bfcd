/** The Graph the bot talks to: the embedded simulator, an external one, or Microsoft Graph, with its credentials. */
import type { Settings } from '../config';
import type { Logger } from '../logging';
import { createAuthProvider, createGraphClient, type GraphAuth } from '../graph/client';
import { GraphDirectory } from '../graph/graphDirectory';
import { GraphHttp } from '../graph/graphHttp';
import type { RunningSimulator } from '../simulator';

export interface GraphEndpoint {
  baseUrl: string;
  auth: GraphAuth;
  simulator: RunningSimulator | null;
}

export interface GraphConnection {
  endpoint: GraphEndpoint;
  /** Gets a token (also the readiness probe of Graph). */
  authProvider: ReturnType<typeof createAuthProvider>;
  http: GraphHttp;
  directory: GraphDirectory;
}

async function graphEndpoint(settings: Pick<Settings, 'graph'>, logger: Logger): Promise<GraphEndpoint> {
  const graph = settings.graph;
  switch (graph.mode) {
    case 'embedded': {
      // Loaded only here: a bot on an external simulator or on Microsoft Graph does not carry it.
      const { loadDemoSeed, loadSeed, startSimulator } = await import('../simulator/index.js');
      const seed = graph.tenantFile ? loadSeed(graph.tenantFile) : loadDemoSeed();
      const simulator = await startSimulator({ seed, port: 0, host: '127.0.0.1', token: graph.token });
      logger.info('graph.simulator.started', { url: simulator.graphBaseUrl, tenant: seed.tenant.displayName });
      return { baseUrl: simulator.graphBaseUrl, auth: { kind: 'static', token: graph.token }, simulator };
    }
    case 'simulator':
      return { baseUrl: graph.baseUrl, auth: { kind: 'static', token: graph.token }, simulator: null };
    case 'live':
      return {
        baseUrl: graph.baseUrl,
        auth:
          graph.clientSecret && graph.clientId
            ? {
                kind: 'clientSecret',
                tenantId: graph.tenantId,
                clientId: graph.clientId,
                clientSecret: graph.clientSecret,
              }
            : { kind: 'managedIdentity', clientId: graph.clientId },
        simulator: null,
      };
  }
}

/** Starts the embedded simulator when the settings ask for it, and builds the Graph client and directory. */
export async function connectGraph(settings: Pick<Settings, 'graph'>, logger: Logger): Promise<GraphConnection> {
  const endpoint = await graphEndpoint(settings, logger);
  const authProvider = createAuthProvider(endpoint.auth);
  const client = createGraphClient({ baseUrl: endpoint.baseUrl, auth: endpoint.auth, authProvider, logger });
  const http = new GraphHttp(client);
  return { endpoint, authProvider, http, directory: new GraphDirectory(http) };
}
