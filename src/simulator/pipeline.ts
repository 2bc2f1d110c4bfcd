import type { GraphError } from './errors';

/** A request as the simulator's handlers see it (batch sub-requests have the same shape). */
export interface SimRequest {
  /** Log entry id of this request. */
  logId: string;
  method: string;
  /** Path and query as received, e.g. /v1.0/groups/{id}?$select=id */
  url: string;
  /** Path without the query, percent-encoding kept. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** Scheme, host and port the client used, for absolute links such as @odata.nextLink. */
  baseUrl: string;
  requestId: string;
  clientRequestId: string;
  /** Log id of the enclosing $batch, for sub-requests. */
  batchId?: string;
  /** Set by the fault stage: the fault injected into this request ('429', '503', 'lag', 'latency', ...). */
  fault?: string;
  /** Set by the fault stage: latency added to this request, in milliseconds. */
  injectedLatencyMs?: number;
  /** Set by the fault stage during replication lag: objects the handlers must treat as absent. */
  visibility?: Visibility;
}

/** Which directory objects a request may see (replication lag hides freshly created users). */
export interface Visibility {
  isHidden(objectId: string): boolean;
  /** The error a write naming a hidden object gets (one of the forms Graph answers during replication lag). */
  writeRefusal(objectId: string): GraphError;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** Directory objects this request created (never sent to the client; read by stages). */
  createdObjects?: Array<{ kind: 'user'; id: string }>;
  /** Destroy the connection instead of answering (top-level requests only; a fault stage sets it). */
  dropConnection?: boolean;
  /** The status the handlers answered when a fault stage replaced the answer after the write took effect. */
  appliedStatus?: number;
}

export type Handler = (req: SimRequest) => Promise<SimResponse>;

/**
 * A step in front of the handlers. It may answer by itself (e.g. an injected fault)
 * or pass the request on with `next`, possibly delaying or altering it.
 */
export type Stage = (req: SimRequest, next: Handler) => Promise<SimResponse>;

export function compose(stages: readonly Stage[], terminal: Handler): Handler {
  return stages.reduceRight<Handler>((next, stage) => (req) => stage(req, next), terminal);
}

export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  return headers[name.toLowerCase()];
}

/** Looks a query option up by name, ignoring case (Graph accepts $Select as $select). */
export function queryValue(query: URLSearchParams, name: string): string | null {
  const direct = query.get(name);
  if (direct !== null) return direct;
  const lowerName = name.toLowerCase();
  for (const [k, v] of query) if (k.toLowerCase() === lowerName) return v;
  return null;
}

/**
 * Path segments after /v1.0, percent-decoded. `undecodable` gives what a segment that is not valid
 * percent-encoding becomes (or throws).
 */
export function versionSegments(path: string, undecodable: (segment: string) => string): string[] {
  return path
    .replace(/^\/v1\.0(?=\/|$)/i, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return undecodable(s);
      }
    });
}
