import { GraphError, notFound } from '../errors';
import type { JsonObject } from '../json';
import type { Grant } from '../permissions';
import { headerValue, queryValue, type SimRequest, type SimResponse } from '../pipeline';
import type { TeamsApps } from '../teamsApps';
import { USER_DEFAULT_PROPERTIES, type Clock } from '../tenantShapes';

/* Types and small helpers the router and the route tables share. */

export const JSON_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** What the API needs from the simulator besides the tenant. */
export interface ApiContext {
  /** The application permissions granted (read per request: tests may change them). */
  grant: () => Grant;
  now: Clock;
  /** How far the advanced-query index trails the directory, in milliseconds. */
  indexLag: () => number;
  /** The org app catalog and personal installations. */
  teamsApps: TeamsApps;
}

/** One matched request: the `{id}` segments of its route, in order. */
export interface Call {
  req: SimRequest;
  params: string[];
}

export type RouteHandler = (call: Call) => SimResponse;

/** Endpoints as named in the permission table (e.g. 'GET /users/{id}/memberOf/microsoft.graph.group'), in order. */
export type RouteTable = Array<[endpoint: string, handle: RouteHandler]>;

const INSUFFICIENT_PRIVILEGES = 'Insufficient privileges to complete the operation.';

/** 403 as Graph answers a call the app's permissions do not allow (concepts/json-batching.md example). */
export function insufficientPrivileges(): GraphError {
  return new GraphError(403, 'Authorization_RequestDenied', INSUFFICIENT_PRIVILEGES);
}

export function ok(body: JsonObject, status = 200): SimResponse {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body };
}

export function noContent(): SimResponse {
  return { status: 204, headers: {} };
}

export function odataType(kind: string): string {
  return `#microsoft.graph.${kind}`;
}

export function isEventual(req: SimRequest): boolean {
  return (headerValue(req.headers, 'consistencylevel') ?? '').toLowerCase() === 'eventual';
}

export function countRequested(req: SimRequest): boolean {
  return (queryValue(req.query, '$count') ?? '').toLowerCase() === 'true';
}

export function defaultsFor(kind: string): string[] | undefined {
  return kind === 'user' ? USER_DEFAULT_PROPERTIES : undefined;
}

/** True when replication lag hides the object from this request. */
export function isHidden(req: SimRequest, objectId: string): boolean {
  return req.visibility?.isHidden(objectId) ?? false;
}

/** The error a write naming an object hidden by replication lag gets. */
export function lagRefusal(req: SimRequest, objectId: string): GraphError {
  return req.visibility?.writeRefusal(objectId) ?? notFound(objectId);
}

/**
 * Owners are not listed for groups synchronized from on-premises nor for mail-enabled groups created in Exchange
 * (distribution and mail-enabled security groups) (api-reference/v1.0/api/group-list-owners.md).
 */
export function ownersUnlisted(group: JsonObject): boolean {
  const types = Array.isArray(group.groupTypes) ? group.groupTypes : [];
  return group.onPremisesSyncEnabled === true || (group.mailEnabled === true && !types.includes('Unified'));
}
