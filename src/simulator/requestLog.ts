/** The simulator's request log: one entry per Graph request (batch sub-requests and test-only redeems included). */
import type { SimRequest, SimResponse } from './pipeline';

export interface RequestLogEntry {
  id: string;
  method: string;
  /** Path and query as received, e.g. /v1.0/groups/{id}?$select=id */
  url: string;
  status: number;
  /** ISO time the request arrived. */
  time: string;
  durationMs: number;
  requestId: string;
  /** For sub-requests of a $batch: the log id of the enclosing batch. */
  batchId?: string;
  requestBody?: unknown;
  responseBody?: unknown;
  /**
   * Injected fault: '429', '500', '502', '503', '504', 'lag' (replication lag hid an object) or 'latency' (delay only).
   */
  fault?: string;
  /** Latency added by fault injection, in milliseconds. */
  injectedLatencyMs?: number;
  /**
   * For '504-after-write' and 'drop-after-write': the status the handlers answered before the gateway fault
   * replaced it (e.g. 201 for an invitation that took effect). `status` is 0 when the connection was dropped.
   */
  appliedStatus?: number;
}

/** When a request arrived: the clock reading for its duration and the ISO time for its entry. */
export interface Arrival {
  started: number;
  startedAt: string;
}

export function arrival(): Arrival {
  const started = Date.now();
  return { started, startedAt: new Date(started).toISOString() };
}

export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];

  /** @param recordBodies keep request and response bodies (for contract tests) */
  constructor(private readonly recordBodies: boolean) {}

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries.length = 0;
  }

  record(req: SimRequest, res: SimResponse, { started, startedAt }: Arrival): void {
    const entry: RequestLogEntry = {
      id: req.logId,
      method: req.method,
      url: req.url,
      status: res.status,
      time: startedAt,
      durationMs: Date.now() - started,
      requestId: req.requestId,
    };
    if (req.batchId) entry.batchId = req.batchId;
    if (req.fault) entry.fault = req.fault;
    if (req.injectedLatencyMs) entry.injectedLatencyMs = req.injectedLatencyMs;
    if (res.appliedStatus !== undefined) entry.appliedStatus = res.appliedStatus;
    if (res.dropConnection) entry.status = 0;
    if (this.recordBodies) {
      if (req.body !== undefined) entry.requestBody = req.body;
      if (res.body !== undefined) entry.responseBody = JSON.parse(JSON.stringify(res.body)) as unknown;
    }
    this.entries.push(entry);
  }
}
