/** Thin typed transport on the Graph client: raw responses, one error mapping, paging and JSON batching. */
import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import { DirectoryError } from './directory';
import { fromODataResponse, refusal, toDirectoryError } from './errors';
import { event, metrics } from '../telemetry/telemetry';
import { routeTemplate } from '../telemetry/route';

const MAX_BATCH = 20;

export interface GraphResponse {
  status: number;
  body: unknown;
  requestId: string | null;
  headers: Record<string, string>;
}

export interface BatchStep {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root, starting with '/'. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function values(body: unknown): unknown[] {
  const v = asRecord(body).value;
  return Array.isArray(v) ? v : [];
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

/**
 * A nextLink is absolute; the Graph client only treats https:// URLs as absolute, so it is sent as a path
 * relative to the version root (the same request against the same host).
 */
function relativeToVersion(link: string): string {
  const url = new URL(link);
  return `${url.pathname.replace(/^\/(v1\.0|beta)(?=\/)/, '')}${url.search}`;
}

const nextLink = (body: unknown): string | null => str(asRecord(body)['@odata.nextLink']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class GraphHttp {
  constructor(
    private readonly client: Client,
    private readonly options: { batchRetries?: number; maxRetryAfterSeconds?: number } = {},
  ) {}

  async send(
    method: BatchStep['method'],
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<GraphResponse> {
    let response: Response;
    try {
      const request = this.client.api(url).headers(headers).responseType(ResponseType.RAW);
      response = (await (method === 'GET'
        ? request.get()
        : method === 'POST'
          ? request.post(body ?? {})
          : method === 'PATCH'
            ? request.patch(body ?? {})
            : request.delete())) as Response;
    } catch (err) {
      throw toDirectoryError(err);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const responseHeaders = headerRecord(response.headers);
    if (!response.ok) throw fromODataResponse(response.status, parsed, responseHeaders);
    return {
      status: response.status,
      body: parsed,
      requestId: responseHeaders['request-id'] ?? null,
      headers: responseHeaders,
    };
  }

  async get(url: string, headers?: Record<string, string>): Promise<GraphResponse> {
    return this.send('GET', url, undefined, headers);
  }

  /** Follows @odata.nextLink to the end. */
  async getAll(url: string, headers?: Record<string, string>): Promise<unknown[]> {
    const items: unknown[] = [];
    let next: string | null = url;
    while (next) {
      const page: GraphResponse = await this.get(next, headers);
      items.push(...values(page.body));
      const link = nextLink(page.body);
      next = link === null ? null : relativeToVersion(link);
    }
    return items;
  }

  /**
   * Sends independent requests as JSON batches of at most 20, in parallel. Sub-requests answered with
   * 429/503/504 are sent again after their Retry-After (the SDK's retry handler does not look inside a batch),
   * so batches carry reads only (a GET, or a read action such as checkMemberGroups). A GET item whose page has an
   * `@odata.nextLink` is followed in the next batch round and its pages are joined, so each id's body holds the
   * whole collection (concepts/json-batching.md: each item is answered as if sent alone, paging included).
   * Returns each step's response by id; failed steps come back as their status and OData error body.
   */
  async batch(
    steps: readonly BatchStep[],
  ): Promise<{ responses: Map<string, GraphResponse>; requestId: string | null }> {
    const responses = new Map<string, GraphResponse>();
    const pages = new Map<string, unknown[]>();
    let requestId: string | null = null;
    let pending = [...steps];
    const retries = this.options.batchRetries ?? 3;
    const attempts = new Map<string, number>();
    while (pending.length > 0) {
      const chunks: BatchStep[][] = [];
      for (let i = 0; i < pending.length; i += MAX_BATCH) chunks.push(pending.slice(i, i + MAX_BATCH));
      const answers = await Promise.all(
        chunks.map((chunk) => this.send('POST', '/$batch', { requests: chunk.map(toBatchItem) })),
      );
      requestId ??= answers[0]?.requestId ?? null;
      const again: BatchStep[] = [];
      let waitSeconds = 0;
      for (const answer of answers) {
        for (const raw of (asRecord(answer.body).responses as unknown[]) ?? []) {
          const item = asRecord(raw);
          const id = String(item.id);
          const status = Number(item.status);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(asRecord(item.headers))) headers[k.toLowerCase()] = String(v);
          const step = pending.find((s) => s.id === id);
          const attempt = attempts.get(id) ?? 0;
          if (step) countBatchItem(step, status, headers);
          if (step && (status === 429 || status === 503 || status === 504) && attempt < retries) {
            attempts.set(id, attempt + 1);
            event('graph.batch.retry', {
              'url.template': routeTemplate(step.url),
              'http.response.status_code': status,
              attempt: attempt + 1,
            });
            again.push(step);
            waitSeconds = Math.max(waitSeconds, Number(headers['retry-after']) || 2 ** attempt);
            continue;
          }
          const link = status < 300 && step?.method === 'GET' ? nextLink(item.body) : null;
          if (link !== null || pages.has(id)) pages.set(id, [...(pages.get(id) ?? []), ...values(item.body)]);
          if (link !== null && step) {
            again.push({ ...step, url: relativeToVersion(link) });
            continue;
          }
          const body =
            pages.has(id) && status < 300
              ? { ...asRecord(item.body), value: pages.get(id), '@odata.nextLink': undefined }
              : item.body;
          responses.set(id, { status, body, requestId: headers['request-id'] ?? answer.requestId, headers });
        }
      }
      if (waitSeconds > 0) await sleep(Math.min(waitSeconds, this.options.maxRetryAfterSeconds ?? 30) * 1000);
      pending = again;
    }
    return { responses, requestId };
  }
}

/**
 * Sends at most 20 requests as one JSON batch and answers each item as it came, retrying nothing: for writes,
 * where an item answered 504 (or missing) may have taken effect and only the caller can confirm it
 * (concepts/json-batching.md). The envelope's own failure is thrown as a DirectoryError.
 */
export async function batchOnce(http: GraphHttp, steps: readonly BatchStep[]): Promise<Map<string, GraphResponse>> {
  if (steps.length > MAX_BATCH) throw new Error(`batchOnce takes at most ${MAX_BATCH} requests`);
  const answer = await http.send('POST', '/$batch', { requests: steps.map(toBatchItem) });
  const responses = new Map<string, GraphResponse>();
  for (const raw of (asRecord(answer.body).responses as unknown[]) ?? []) {
    const item = asRecord(raw);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(item.headers))) headers[k.toLowerCase()] = String(v);
    const step = steps.find((s) => s.id === String(item.id));
    if (step) countBatchItem(step, Number(item.status), headers);
    responses.set(String(item.id), {
      status: Number(item.status),
      body: item.body,
      requestId: headers['request-id'] ?? answer.requestId,
      headers,
    });
  }
  return responses;
}

/** Batch items count as Graph requests in the metrics, with their own status and Retry-After. */
function countBatchItem(step: BatchStep, status: number, headers: Record<string, string>): void {
  const retryAfter = headers['retry-after'];
  metrics.graphAnswer(
    step.method,
    routeTemplate(step.url),
    status,
    retryAfter === undefined ? undefined : Number(retryAfter),
    true,
  );
}

function toBatchItem(step: BatchStep): Record<string, unknown> {
  const item: Record<string, unknown> = { id: step.id, method: step.method, url: step.url };
  if (step.body !== undefined) {
    item.body = step.body;
    item.headers = { 'Content-Type': 'application/json', ...(step.headers ?? {}) };
  } else if (step.headers) {
    item.headers = step.headers;
  }
  return item;
}

/** The successful body of a batch step, or the mapped error (naming the permission the call needs, on a 403). */
export function ok(responses: Map<string, GraphResponse>, id: string, permission: string): unknown {
  const response = responses.get(id);
  if (!response) throw new DirectoryError('unknown', 0, 'MissingBatchResponse', `No response for batch step '${id}'`);
  if (response.status >= 400) throw refusal(response.status, response.body, response.headers, permission);
  return response.body;
}

/** Like ok(), but a 404 becomes null. */
export function okOrNull(responses: Map<string, GraphResponse>, id: string, permission: string): unknown {
  const response = responses.get(id);
  if (response?.status === 404) return null;
  return ok(responses, id, permission);
}
