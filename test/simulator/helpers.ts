import { validateLog } from '../support/graphContract';
import {
  loadDemoSeed,
  startSimulator,
  type RequestLogEntry,
  type RunningSimulator,
  type SimulatorOptions,
  type TenantSeed,
} from '../../src/simulator';

export const TOKEN = 'test-token';

export const ids = {
  tenant: '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
  megan: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01',
  adele: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f02',
  alex: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f03',
  lee: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f04',
  patti: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f05',
  jordan: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f10',
  sam: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f11',
  group: (n: number): string => `6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c${String(n).padStart(2, '0')}`,
  sp: (n: number): string => `0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f${String(n).padStart(2, '0')}`,
  appId: (n: number): string => `5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a${String(n).padStart(2, '0')}`,
  globalAdminRole: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e01',
};

export type GraphItem = { [key: string]: unknown; id?: string };

export interface GraphBody {
  [key: string]: unknown;
  '@odata.context'?: string;
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
  value?: GraphItem[];
  error?: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
  responses?: Array<{ id: string; status: number; headers: Record<string, string>; body?: GraphBody }>;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: GraphBody;
}

export class Client {
  constructor(
    readonly sim: RunningSimulator,
    private readonly token: string | null = TOKEN,
  ) {}

  async call(
    method: string,
    pathOrUrl: string,
    options: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<Reply> {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.sim.graphBaseUrl}${pathOrUrl}`;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.token !== null) headers.Authorization = `Bearer ${this.token}`;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(url, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as GraphBody };
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.call('GET', path, { headers });
  }

  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
    return this.call('POST', path, { body, headers });
  }

  /** Follows @odata.nextLink to the end and returns all items and the pages' sizes. */
  async all(path: string, headers?: Record<string, string>): Promise<{ items: GraphItem[]; pages: number[] }> {
    const items: GraphItem[] = [];
    const pages: number[] = [];
    let next: string | undefined = path;
    while (next) {
      const r = await this.get(next, headers);
      if (r.status !== 200) throw new Error(`GET ${next} -> ${r.status} ${JSON.stringify(r.body)}`);
      const value = r.body.value ?? [];
      items.push(...value);
      pages.push(value.length);
      next = r.body['@odata.nextLink'];
    }
    return { items, pages };
  }
}

/**
 * The demo tenant without its permission grant: every endpoint allowed, as the seed format says of an absent
 * `applicationPermissions`. The simulator's read and write behaviour is tested on it, endpoints the bot never calls
 * included (ownedObjects is never allowed app-only); permissions themselves are the fidelity suite's
 * (fidelity.permissions.test.ts), and the bot's tests run with the demo tenant's grant.
 */
export function ungrantedDemoSeed(): TenantSeed {
  const seed = loadDemoSeed();
  delete seed.applicationPermissions;
  return seed;
}

export async function start(
  options: Partial<SimulatorOptions> = {},
  seed: TenantSeed = ungrantedDemoSeed(),
): Promise<Client> {
  const sim = await startSimulator({ seed, port: 0, recordBodies: true, ...options });
  return new Client(sim);
}

export function q(text: string): string {
  return encodeURIComponent(text);
}

/** Contract problems of the simulator's log (entries whose URL `skip` accepts are left out). */
export function contractProblems(c: Client, skip: (entry: RequestLogEntry) => boolean = () => false): string[] {
  return validateLog(c.sim.requests().filter((e) => !skip(e)));
}
