/**
 * JSON batching (`POST /v1.0/$batch`, concepts/json-batching.md): the payload's checks, the order its `dependsOn`
 * asks for, and the run of its sub-requests through the same stages and handlers as top-level requests.
 */
import { randomUUID } from 'node:crypto';
import { GraphError, badRequest } from './errors';
import { JSON_CONTENT_TYPE } from './api/support';
import { isJsonObject, type JsonObject } from './json';
import { splitUrl } from './httpMessages';
import type { Handler, SimRequest, SimResponse } from './pipeline';
import { arrival, type RequestLog } from './requestLog';
import { errorResponse } from './stages';

const MAX_BATCH_REQUESTS = 20;
const BATCH_METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

interface BatchResponseItem {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function invalid(detail: string): GraphError {
  return badRequest(`Invalid batch payload format: ${detail}`);
}

function itemHeaders(raw: JsonObject, id: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw.headers === undefined) return headers;
  if (!isJsonObject(raw.headers)) throw invalid(`headers of request '${id}' must be an object.`);
  for (const [k, v] of Object.entries(raw.headers)) headers[k.toLowerCase()] = String(v);
  return headers;
}

function itemDependsOn(raw: JsonObject, id: string): string[] {
  if (raw.dependsOn === undefined) return [];
  if (!Array.isArray(raw.dependsOn) || raw.dependsOn.some((d) => typeof d !== 'string')) {
    throw invalid(`dependsOn of request '${id}' must be an array of ids.`);
  }
  return raw.dependsOn as string[];
}

function parseItem(raw: unknown, index: number): BatchItem {
  if (!isJsonObject(raw)) throw invalid(`request ${index} is not an object.`);
  const { id, method, url } = raw;
  if (typeof id !== 'string' || id === '') throw invalid(`request ${index} has no id.`);
  if (typeof method !== 'string' || !BATCH_METHODS.has(method.toUpperCase())) {
    throw invalid(`request '${id}' has an invalid method.`);
  }
  if (typeof url !== 'string' || url === '') throw invalid(`request '${id}' has no url.`);
  const headers = itemHeaders(raw, id);
  const dependsOn = itemDependsOn(raw, id);
  const hasBody = raw.body !== undefined && raw.body !== null;
  const isWrite = ['POST', 'PATCH', 'PUT'].includes(method.toUpperCase());
  if ((hasBody || isWrite) && (!hasBody || !headers['content-type'])) {
    throw badRequest(`Write request id : ${id} does not contain Content-Type header or body.`);
  }
  return { id, method: method.toUpperCase(), url, headers, body: raw.body, dependsOn };
}

function parseBatchItems(body: unknown): BatchItem[] {
  if (!isJsonObject(body) || !Array.isArray(body.requests)) {
    throw badRequest("Invalid batch payload format: the body must be a JSON object with a 'requests' array.");
  }
  if (body.requests.length > MAX_BATCH_REQUESTS) throw badRequest('Number of requests inside batch exceed the limit.');
  const items = body.requests.map(parseItem);
  const seen = new Set<string>();
  for (const item of items) {
    const key = item.id.toLowerCase();
    if (seen.has(key)) throw badRequest(`Batch request contains duplicate request id '${item.id}'.`);
    seen.add(key);
  }
  for (const item of items) {
    for (const d of item.dependsOn) {
      if (!seen.has(d.toLowerCase()))
        throw badRequest(`Request '${item.id}' depends on '${d}', which is not in the batch.`);
    }
  }
  return items;
}

/** Orders batch items so that each comes after its dependencies; refuses cycles. */
function executionOrder(items: BatchItem[]): BatchItem[] {
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: BatchItem[] = [];
  const visit = (item: BatchItem): void => {
    const key = item.id.toLowerCase();
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting') throw badRequest(`The dependsOn chain of request '${item.id}' is circular.`);
    state.set(key, 'visiting');
    for (const d of item.dependsOn) {
      const dep = byId.get(d.toLowerCase());
      if (dep) visit(dep);
    }
    state.set(key, 'done');
    order.push(item);
  };
  for (const item of items) visit(item);
  return order;
}

/** A batch item as a request of its own, logged under the enclosing batch. */
function subRequestOf(item: BatchItem, batch: SimRequest): SimRequest {
  const url = `/v1.0/${item.url.replace(/^\/+/, '')}`;
  return {
    logId: randomUUID(),
    method: item.method,
    url,
    ...splitUrl(url),
    headers: { ...item.headers, authorization: batch.headers.authorization ?? '' },
    body: item.body,
    baseUrl: batch.baseUrl,
    requestId: randomUUID(),
    clientRequestId: item.headers['client-request-id'] ?? batch.clientRequestId,
    batchId: batch.logId,
  };
}

/** Runs the items of a `$batch` one by one through `subRequest`, logging each; answers in Graph's envelope. */
export class BatchRunner {
  constructor(
    private readonly subRequest: Handler,
    private readonly log: RequestLog,
  ) {}

  async run(req: SimRequest): Promise<SimResponse> {
    const order = executionOrder(parseBatchItems(req.body));
    const results = new Map<string, BatchResponseItem>();
    for (const item of order) {
      const when = arrival();
      const sub = subRequestOf(item, req);
      const res = await this.answer(item, sub, results);
      this.log.record(sub, res, when);
      const out: BatchResponseItem = { id: item.id, status: res.status, headers: res.headers };
      if (res.body !== undefined) out.body = res.body;
      results.set(item.id.toLowerCase(), out);
    }
    const responses = [...results.values()].reverse();
    return { status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: { responses } };
  }

  /** 424 when a dependency failed, 400 for an absolute URL, else the sub-request's own answer. */
  private async answer(
    item: BatchItem,
    sub: SimRequest,
    results: Map<string, BatchResponseItem>,
  ): Promise<SimResponse> {
    const failed = item.dependsOn.find((d) => {
      const r = results.get(d.toLowerCase());
      return !r || r.status >= 400;
    });
    if (failed !== undefined) {
      const message = `The request could not be processed because dependent request '${failed}' failed.`;
      return errorResponse(new GraphError(424, 'FailedDependency', message), sub);
    }
    if (/^https?:/i.test(item.url)) {
      return errorResponse(badRequest(`The URL of request '${item.id}' must be relative to the $batch endpoint.`), sub);
    }
    return this.subRequest(sub);
  }
}
