import { JSON_CONTENT_TYPE } from './api/support';
import { GraphError, errorBody, notFound } from './errors';
import type { ReplicationLagForm } from './faultPlan';
import type { SimRequest, SimResponse } from './pipeline';

/* The answers of injected faults and of replication lag, worded as Graph words them. */

/** How a write naming a user hidden by replication lag is refused. */
export function lagError(form: ReplicationLagForm, objectId: string): GraphError {
  switch (form) {
    case 'Directory_ObjectNotFound':
      return new GraphError(
        404,
        'Directory_ObjectNotFound',
        'Unable to read the company information from the directory.',
      );
    case 'Request_BadRequest':
      return new GraphError(400, 'Request_BadRequest', 'Not a valid reference update.');
    default:
      return notFound(objectId);
  }
}

/**
 * Error codes and messages as Graph sends them:
 * - 429: the identity gateway's throttling answer (`TooManyRequests`, "Too many requests from Identifier:...
 *   under category:... Please try again later.") with `Retry-After` in seconds.
 * - 500: `generalException` "General exception while processing".
 * - 502: `UnknownError` "502 Bad Gateway".
 * - 503: `serviceNotAvailable` "Service unavailable", with `Retry-After`.
 * - 504: `UnknownError` with an empty message (the gateway timeout Graph answers).
 */
function faultAnswer(status: number, tenantId: string): { code: string; message: string } {
  switch (status) {
    case 429:
      return {
        code: 'TooManyRequests',
        message:
          `Too many requests from Identifier:${tenantId} under category:throttle.aad.ags.tenant. ` +
          'Please try again later.',
      };
    case 500:
      return { code: 'generalException', message: 'General exception while processing' };
    case 502:
      return { code: 'UnknownError', message: '502 Bad Gateway' };
    case 503:
      return { code: 'serviceNotAvailable', message: 'Service unavailable' };
    default:
      return { code: 'UnknownError', message: '' };
  }
}

export function faultResponse(
  status: number,
  req: SimRequest,
  tenantId: string,
  retryAfterSeconds?: number,
): SimResponse {
  const { code, message } = faultAnswer(status, tenantId);
  const headers: Record<string, string> = { 'Content-Type': JSON_CONTENT_TYPE };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  return { status, headers, body: errorBody(code, message, req.requestId, req.clientRequestId) };
}
