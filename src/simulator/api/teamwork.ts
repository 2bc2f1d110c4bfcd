import { headerValue, type SimRequest, type SimResponse } from '../pipeline';
import { callerAppId } from '../teamsApps';
import type { Resources } from './resources';
import { ok, type Call, type RouteTable } from './support';

function caller(r: Resources, req: SimRequest): string | undefined {
  return callerAppId(headerValue(req.headers, 'authorization'), r.context.teamsApps.callingAppId);
}

function installedApps(r: Resources, { req, params }: Call): SimResponse {
  const user = r.requireUser(req, params[0]);
  return ok(r.context.teamsApps.list(String(user.id), req.query, r.context.grant(), caller(r, req)));
}

function installApp(r: Resources, { req, params }: Call): SimResponse {
  const user = r.requireUser(req, params[0]);
  r.context.teamsApps.install(String(user.id), req.body, r.context.grant(), caller(r, req));
  // userteamwork-post-installedapps.md: 201 Created, nothing in the body.
  return { status: 201, headers: {} };
}

function installationChat(r: Resources, { req, params }: Call): SimResponse {
  const user = r.requireUser(req, params[0]);
  const apps = r.context.teamsApps;
  return ok(apps.chat(String(user.id), params[1], req.query, r.context.grant(), caller(r, req), r.tenant.id));
}

/** Teams apps installed for users (teamsApps.ts). */
export function teamworkRoutes(r: Resources): RouteTable {
  return [
    ['GET /users/{id}/teamwork/installedApps', (c) => installedApps(r, c)],
    ['POST /users/{id}/teamwork/installedApps', (c) => installApp(r, c)],
    ['GET /users/{id}/teamwork/installedApps/{id}/chat', (c) => installationChat(r, c)],
  ];
}
