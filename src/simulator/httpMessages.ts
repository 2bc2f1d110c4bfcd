/** The HTTP edge of the simulator: a Node request read into a SimRequest, and answers written back. */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { SimRequest, SimResponse } from './pipeline';

function lowerHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  return { path, query };
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The request as the handlers see it, with fresh ids. `invalidJson` is set when the body is not JSON (the body is
 * then the raw text).
 */
export function toSimRequest(
  req: http.IncomingMessage,
  text: string,
  baseUrl: string,
): { simReq: SimRequest; invalidJson: boolean } {
  const url = req.url ?? '/';
  const headers = lowerHeaders(req.headers);
  const host = headers.host;
  const simReq: SimRequest = {
    logId: randomUUID(),
    method: (req.method ?? 'GET').toUpperCase(),
    url,
    ...splitUrl(url),
    headers,
    body: undefined,
    baseUrl: host ? `http://${host}` : baseUrl,
    requestId: randomUUID(),
    clientRequestId: headers['client-request-id'] ?? randomUUID(),
  };
  if (text.trim() === '') return { simReq, invalidJson: false };
  try {
    simReq.body = JSON.parse(text) as unknown;
    return { simReq, invalidJson: false };
  } catch {
    simReq.body = text;
    return { simReq, invalidJson: true };
  }
}

/** Writes a Graph answer with the request's ids (or drops the connection when a fault stage said so). */
export function writeGraphResponse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  simReq: SimRequest,
  response: SimResponse,
): void {
  if (response.dropConnection) {
    req.socket.destroy();
    return;
  }
  const outHeaders: Record<string, string> = {
    ...response.headers,
    'request-id': simReq.requestId,
    'client-request-id': simReq.clientRequestId,
  };
  if (response.status === 204 || response.body === undefined) {
    res.writeHead(response.status, outHeaders);
    res.end();
    return;
  }
  const payload = JSON.stringify(response.body);
  res.writeHead(response.status, { ...outHeaders, 'Content-Length': Buffer.byteLength(payload).toString() });
  res.end(payload);
}

/** A plain JSON answer (the simulator's own routes); no body when `body` is undefined. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
