/** The one place that turns Graph's OData errors into DirectoryErrors. */
import { GraphError } from '@microsoft/microsoft-graph-client';
import { DirectoryError, type AddMemberResult, type DirectoryErrorKind } from './directory';

interface ODataErrorBody {
  error?: {
    code?: unknown;
    message?: unknown;
    innerError?: { 'request-id'?: unknown; 'client-request-id'?: unknown };
  };
}

function classify(status: number, code: string): DirectoryErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 429) return 'throttled';
  if (status === 500 || status === 502 || status === 503 || status === 504 || status <= 0) return 'unavailable';
  if (status === 400 || status === 409 || status === 412 || status === 422)
    return code === 'Request_ResourceNotFound' ? 'notFound' : 'badRequest';
  return 'unknown';
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function retryAfter(value: string | null | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Maps an OData error response (a whole response or a $batch sub-response). */
export function fromODataResponse(
  status: number,
  body: unknown,
  headers: Record<string, string | undefined> = {},
): DirectoryError {
  const error = (body && typeof body === 'object' ? (body as ODataErrorBody).error : undefined) ?? {};
  const code = text(error.code) ?? `HTTP${status}`;
  const message = text(error.message) ?? `Graph answered ${status}`;
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const requestId = text(error.innerError?.['request-id']) ?? text(lower['request-id']);
  return new DirectoryError(classify(status, code), status, code, message, requestId, retryAfter(lower['retry-after']));
}

/** Maps whatever the Graph client threw. */
export function toDirectoryError(err: unknown): DirectoryError {
  if (err instanceof DirectoryError) return err;
  if (err instanceof GraphError) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        body = undefined;
      }
    }
    const headers: Record<string, string | undefined> = {};
    err.headers?.forEach((value, key) => {
      headers[key] = value;
    });
    const mapped = fromODataResponse(
      err.statusCode,
      body ?? { error: { code: err.code, message: err.message } },
      headers,
    );
    const requestId = mapped.requestId ?? err.requestId ?? null;
    return new DirectoryError(
      mapped.kind,
      mapped.status,
      mapped.code,
      mapped.message,
      requestId,
      mapped.retryAfterSeconds,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DirectoryError('unavailable', 0, 'NetworkError', message);
}

/** Maps a refusal (a response or a $batch item), naming the permission the call needs when it is a 403. */
export function refusal(
  status: number,
  body: unknown,
  headers: Record<string, string | undefined>,
  permission: string,
): DirectoryError {
  const error = fromODataResponse(status, body, headers);
  return error.kind === 'forbidden' ? error.needing(permission) : error;
}

/** Rethrows a 403 naming the application permission the refused call needs. */
export async function needing<T>(permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DirectoryError && err.kind === 'forbidden') throw err.needing(permission);
    throw err;
  }
}

/**
 * An add of a link (`POST …/$ref`) that Graph refuses with 400 when the link is there already. The docs do not
 * promise that error's wording, so a 400 is settled by a read: when `isThere` finds the link, `added: false`.
 */
export async function addSettlingBadRequest(
  add: () => Promise<{ requestId: string | null }>,
  isThere: () => Promise<boolean>,
): Promise<AddMemberResult> {
  try {
    return { added: true, requestId: (await add()).requestId };
  } catch (err) {
    if (err instanceof DirectoryError && err.kind === 'badRequest' && (await isThere())) {
      return { added: false, requestId: err.requestId };
    }
    throw err;
  }
}
