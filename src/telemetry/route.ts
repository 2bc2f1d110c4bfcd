/**
 * A Graph URL as a route template for spans and metrics: the version root and the query are dropped, and every
 * segment that is not a plain name (ids, addresses, keys in parentheses) becomes `{id}`, so no address, name or
 * filter value reaches telemetry: `/v1.0/users/4f…/memberOf?$filter=…` → `/users/{id}/memberOf`.
 */
const NAME = /^[A-Za-z$][A-Za-z0-9_.$]*$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function segment(part: string): string {
  const call = /^([A-Za-z$][A-Za-z0-9_.$]*)\(.*\)$/.exec(part);
  if (call) return `${call[1]}({id})`;
  return NAME.test(part) && !GUID.test(part) && part.length <= 60 ? part : '{id}';
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function routeTemplate(url: string): string {
  let path: string;
  try {
    path = new URL(url, 'http://graph.invalid').pathname;
  } catch {
    return '{unparsable}';
  }
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts[0] === 'v1.0' || parts[0] === 'beta') parts.shift();
  return '/' + parts.map((p) => segment(decoded(p))).join('/');
}
