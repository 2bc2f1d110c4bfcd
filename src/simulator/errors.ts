/** An error answered to the client as a Microsoft Graph OData error body. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** `innerError.code`, when Graph sends one (e.g. AccessDenied under a 403 Forbidden). */
    readonly innerCode?: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export function notFound(id: string): GraphError {
  return new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

export function segmentNotFound(segment: string): GraphError {
  return new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

export function invalidObjectId(id: string): GraphError {
  return new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${id}'.`);
}

export function methodNotAllowed(): GraphError {
  return new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
}

export function badRequest(message: string, code = 'BadRequest'): GraphError {
  return new GraphError(400, code, message);
}

export function propertyNotFound(property: string, typeName: string): GraphError {
  return new GraphError(
    400,
    'BadRequest',
    `Could not find a property named '${property}' on type 'microsoft.graph.${typeName}'.`,
  );
}

/** Graph's innerError `date`: seconds precision, UTC. */
export function graphErrorDate(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface ODataErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { code?: string; date: string; 'request-id': string; 'client-request-id': string };
  };
}

export function errorBody(
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string,
  innerCode?: string,
): ODataErrorBody {
  const innerError = { date: graphErrorDate(), 'request-id': requestId, 'client-request-id': clientRequestId };
  return { error: { code, message, innerError: innerCode ? { code: innerCode, ...innerError } : innerError } };
}
