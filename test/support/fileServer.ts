/**
 * A local stand-in for the SharePoint/OneDrive side of Teams' bot file exchange (bots-filesv4):
 * - download: a pre-authorised `downloadUrl` (`…/download.aspx?UniqueId=…&tempauth=…`) that returns the bytes to a
 *   plain GET without an Authorization header and answers 401 once its tempauth has expired;
 * - upload: the `uploadUrl` a file consent accept carries, taking the file in PUTs with Content-Range, as an
 *   upload session does (driveitem-createuploadsession: 201 with the item when the last range arrives).
 * `fetch` routes https URLs on any host to this server (a stand-in for DNS), recording the host asked for, so a
 * test can tell which hosts the bot tried to reach.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export const TENANT_FILE_HOST = 'contoso-my.sharepoint.com';

interface Served {
  bytes: Buffer;
  contentType: string;
  expiresAt: number;
  /** Answer with a redirect to this URL instead of the file. */
  redirectTo?: string;
  /** Leave out Content-Length (chunked), as a server may. */
  chunked?: boolean;
}

export interface UploadSession {
  uploadUrl: string;
  contentUrl: string;
  uniqueId: string;
  name: string;
  fileType: string;
}

export interface FileRequest {
  method: string;
  host: string;
  path: string;
  authorization: string | null;
  contentRange: string | null;
}

/**
 * Writes a whole response without chaining on writeHead: a library that patches node's http classes (restify does,
 * once loaded in the same process) may not return the response from it.
 */
function reply(
  res: http.ServerResponse,
  status: number,
  headersOrBody?: Record<string, string> | string,
  body?: string,
): void {
  const headers = typeof headersOrBody === 'object' ? headersOrBody : {};
  const text = typeof headersOrBody === 'string' ? headersOrBody : body;
  res.writeHead(status, headers);
  res.end(text);
}

export class FileServer {
  private server!: http.Server;
  private port = 0;
  private readonly files = new Map<string, Served>();
  private readonly sessions = new Map<
    string,
    { name: string; parts: Buffer[]; received: number; done: Buffer | null }
  >();
  readonly requests: FileRequest[] = [];
  /** The server's clock (ms); tempauth tokens expire against it. */
  now = Date.now();

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      // A fault in the double answers 500 at once rather than leaving the bot's request hanging.
      this.handle(req, res).catch(() => (res.headersSent ? res.destroy() : reply(res, 500)));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A file in the user's OneDrive with its short-lived download URL (about an hour, as SharePoint's tempauth). */
  serve(
    bytes: Buffer,
    options: { host?: string; contentType?: string; ttlMs?: number; redirectTo?: string; chunked?: boolean } = {},
  ): string {
    const token = randomUUID();
    this.files.set(token, {
      bytes,
      contentType: options.contentType ?? 'application/octet-stream',
      expiresAt: this.now + (options.ttlMs ?? 3_600_000),
      redirectTo: options.redirectTo,
      chunked: options.chunked,
    });
    const uniqueId = randomUUID();
    return `https://${options.host ?? TENANT_FILE_HOST}/personal/megan_contoso_onmicrosoft_com/_layouts/15/download.aspx?UniqueId=${uniqueId}&Translate=false&tempauth=${token}&ApiVersion=2.0`;
  }

  /** The upload session a file consent accept hands the bot. */
  uploadSession(name: string): UploadSession {
    const id = randomUUID();
    this.sessions.set(id, { name, parts: [], received: 0, done: null });
    return {
      uploadUrl: `https://${TENANT_FILE_HOST}/personal/megan_contoso_onmicrosoft_com/_api/v2.0/drive/items/upload/${id}?tempauth=${id}`,
      contentUrl: `https://${TENANT_FILE_HOST}/personal/megan_contoso_onmicrosoft_com/Documents/Applications/Guest Invite/${encodeURIComponent(name)}`,
      uniqueId: id,
      name,
      fileType: name.split('.').pop() ?? '',
    };
  }

  /** The bytes uploaded to a session, once complete. */
  uploaded(session: UploadSession): Buffer | null {
    return this.sessions.get(session.uniqueId)?.done ?? null;
  }

  get uploads(): number {
    return [...this.sessions.values()].filter((s) => s.done).length;
  }

  /** Routes every https URL to this server, keeping path and query; records the host asked for. */
  readonly fetch = (url: string, init: RequestInit): Promise<Response> => {
    const target = new URL(url);
    const local = `http://127.0.0.1:${this.port}${target.pathname}${target.search}`;
    const headers = new Headers(init.headers);
    headers.set('x-original-host', target.hostname);
    return fetch(local, { ...init, headers });
  };

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const host = String(req.headers['x-original-host'] ?? '');
    const contentRange = typeof req.headers['content-range'] === 'string' ? req.headers['content-range'] : null;
    this.requests.push({
      method: req.method ?? '',
      host,
      path: url.pathname,
      authorization: req.headers.authorization ?? null,
      contentRange,
    });
    const body: Buffer[] = [];
    for await (const chunk of req) body.push(chunk as Buffer);
    if (req.method === 'GET' && url.pathname.endsWith('/download.aspx')) return this.download(url, host, req, res);
    if (req.method === 'PUT' && url.pathname.includes('/upload/'))
      return this.upload(url, contentRange, Buffer.concat(body), res);
    reply(res, 404);
  }

  private download(url: URL, host: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const file = this.files.get(url.searchParams.get('tempauth') ?? '');
    if (host !== TENANT_FILE_HOST && host !== 'contoso.sharepoint.com') return void reply(res, 404);
    // The URL is pre-authorised: a bearer token on it is not expected (and a bot token would be refused).
    if (req.headers.authorization) return void reply(res, 401);
    if (!file || file.expiresAt <= this.now) {
      reply(
        res,
        401,
        { 'content-type': 'application/json' },
        '{"error":{"code":"InvalidAuthenticationToken","message":"Token expired"}}',
      );
      return;
    }
    if (file.redirectTo) return void reply(res, 302, { location: file.redirectTo });
    const headers: Record<string, string> = { 'content-type': file.contentType };
    if (!file.chunked) headers['content-length'] = String(file.bytes.length);
    res.writeHead(200, headers);
    res.end(file.bytes);
  }

  private upload(url: URL, contentRange: string | null, body: Buffer, res: http.ServerResponse): void {
    const session = this.sessions.get(url.pathname.split('/').pop() ?? '');
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
    if (!session || url.searchParams.get('tempauth') !== url.pathname.split('/').pop()) return void reply(res, 404);
    if (!range || Number(range[1]) !== session.received || Number(range[2]) - Number(range[1]) + 1 !== body.length) {
      reply(res, 416, { 'content-type': 'application/json' }, '{"error":{"code":"invalidRange"}}');
      return;
    }
    session.parts.push(body);
    session.received += body.length;
    if (session.received < Number(range[3])) {
      reply(
        res,
        202,
        { 'content-type': 'application/json' },
        JSON.stringify({ nextExpectedRanges: [`${session.received}-`] }),
      );
      return;
    }
    session.done = Buffer.concat(session.parts);
    reply(
      res,
      201,
      { 'content-type': 'application/json' },
      JSON.stringify({ id: randomUUID(), name: session.name, size: session.received }),
    );
  }
}
