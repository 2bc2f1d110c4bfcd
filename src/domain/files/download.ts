/**
 * Fetching a file a user sent the bot in personal chat, and uploading one the user accepted. Teams hands the bot
 * a pre-authorised, short-lived SharePoint `downloadUrl` (fetched with no Authorization header) and, on a file
 * consent accept, an `uploadUrl` (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4).
 * Only `https` URLs on the tenant's own SharePoint and OneDrive hosts are fetched; a redirect is followed only to
 * such a host; the body is read up to a size cap.
 */

/** The fetch the module uses (the global one; tests route the tenant's hosts to a local server). */
export type FileFetch = (url: string, init: RequestInit) => Promise<Response>;

export type DownloadProblem = 'host' | 'expired' | 'tooLarge' | 'notFile' | 'unavailable';

export type Download =
  { ok: true; bytes: Buffer; contentType: string | null } | { ok: false; problem: DownloadProblem };

export interface FileTransferOptions {
  /** Host names the bot may fetch from and upload to (lower case). */
  hosts: readonly string[];
  /** Largest body read, in bytes. */
  maxBytes: number;
  fetch?: FileFetch;
}

const MAX_REDIRECTS = 3;

/**
 * The tenant's SharePoint and OneDrive hosts: `<name>.sharepoint.com` and `<name>-my.sharepoint.com` for each
 * initial domain `<name>.onmicrosoft.com` among the verified domains, unless FILE_HOSTS names them (a renamed
 * SharePoint domain, multi-geo or sovereign clouds).
 */
export function fileHosts(verifiedDomains: readonly string[], configured: readonly string[]): string[] {
  if (configured.length > 0) return configured.map((h) => h.toLowerCase());
  const hosts: string[] = [];
  for (const domain of verifiedDomains) {
    const match = /^([a-z0-9-]+)\.onmicrosoft\.com$/i.exec(domain.trim());
    if (match) hosts.push(`${match[1].toLowerCase()}.sharepoint.com`, `${match[1].toLowerCase()}-my.sharepoint.com`);
  }
  return hosts;
}

/** The URL when it is `https` on one of the hosts (no user name or password in it), else null. */
export function allowedUrl(raw: unknown, hosts: readonly string[]): URL | null {
  if (typeof raw !== 'string' || raw.length > 8000) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username || url.password || (url.port && url.port !== '443')) return null;
  return hosts.includes(url.hostname.toLowerCase()) ? url : null;
}

/** Reads the body up to `maxBytes`; null when it is larger. */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer | null> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** GET without credentials; redirects followed by hand, each checked against the hosts. */
export async function downloadFile(raw: unknown, options: FileTransferOptions): Promise<Download> {
  const doFetch = options.fetch ?? fetch;
  let url = allowedUrl(raw, options.hosts);
  for (let hop = 0; url && hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await doFetch(url.toString(), {
        method: 'GET',
        redirect: 'manual',
        credentials: 'omit',
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      return { ok: false, problem: 'unavailable' };
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      url = location ? allowedUrl(new URL(location, url).toString(), options.hosts) : null;
      continue;
    }
    // An expired tempauth URL is refused (401/403); a file deleted since is 404.
    if (response.status === 401 || response.status === 403 || response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      return { ok: false, problem: 'expired' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, problem: 'unavailable' };
    }
    const contentType = response.headers.get('content-type');
    // A sharing link (files sent from some mobile clients) answers with a web page, not the file.
    if (contentType && /^text\/html/i.test(contentType)) {
      await response.body?.cancel();
      return { ok: false, problem: 'notFile' };
    }
    const bytes = await readCapped(response, options.maxBytes);
    return bytes ? { ok: true, bytes, contentType } : { ok: false, problem: 'tooLarge' };
  }
  return { ok: false, problem: 'host' };
}

/**
 * Uploads a file to the `uploadUrl` of a file consent accept: one PUT with Content-Range, as Teams' samples do
 * (a OneDrive upload session: https://learn.microsoft.com/graph/api/driveitem-createuploadsession).
 */
export async function uploadFile(raw: unknown, bytes: Buffer, options: FileTransferOptions): Promise<boolean> {
  const url = allowedUrl(raw, options.hosts);
  if (!url || bytes.length > options.maxBytes) return false;
  const doFetch = options.fetch ?? fetch;
  try {
    const response = await doFetch(url.toString(), {
      method: 'PUT',
      redirect: 'manual',
      credentials: 'omit',
      headers: {
        'Content-Length': String(bytes.length),
        'Content-Range': `bytes 0-${Math.max(0, bytes.length - 1)}/${bytes.length}`,
      },
      body: new Uint8Array(bytes),
      signal: AbortSignal.timeout(30_000),
    });
    await response.body?.cancel();
    return response.status === 200 || response.status === 201;
  } catch {
    return false;
  }
}
