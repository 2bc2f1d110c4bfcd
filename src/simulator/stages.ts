/** The stages every Graph request passes besides fault injection: the error boundary and the bearer-token check. */
import { GraphError, errorBody } from './errors';
import { JSON_CONTENT_TYPE } from './api/support';
import { headerValue, type Handler, type SimRequest, type SimResponse, type Stage } from './pipeline';

/** A Graph error as Graph answers it, with the request's ids in the body. */
export function errorResponse(err: GraphError, req: SimRequest): SimResponse {
  return {
    status: err.status,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, ...err.headers },
    body: errorBody(err.code, err.message, req.requestId, req.clientRequestId, err.innerCode),
  };
}

/** Any thrown value as a Graph error (500 generalException when it is not one). */
export function asGraphError(err: unknown): GraphError {
  if (err instanceof GraphError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GraphError(500, 'generalException', `Unexpected simulator failure: ${message}`);
}

/** Turns thrown errors into Graph error responses. */
export function errorBoundary(handler: Handler): Handler {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      return errorResponse(asGraphError(err), req);
    }
  };
}

const CHALLENGE = {
  'WWW-Authenticate':
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
};

/** Refuses a request without a bearer token, or (when `token` is set) with another one, as Graph does (401). */
export function authStage(token: string | undefined): Stage {
  return async (req, next) => {
    const header = headerValue(req.headers, 'authorization') ?? '';
    const m = /^Bearer\s+(.*)$/i.exec(header.trim());
    const presented = m ? m[1].trim() : '';
    if (presented === '') {
      return errorResponse(new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', CHALLENGE), req);
    }
    if (token !== undefined && presented !== token) {
      const message = 'Access token validation failure. Invalid audience.';
      return errorResponse(new GraphError(401, 'InvalidAuthenticationToken', message, CHALLENGE), req);
    }
    return next(req);
  };
}
