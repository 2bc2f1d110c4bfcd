import { GraphError, badRequest } from '../errors';
import type { JsonObject } from '../json';
import {
  METADATA_URL,
  advancedOperators,
  decodeSkipToken,
  encodeSkipToken,
  filterProperties,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  parseSearch,
  parseSelect,
  parseTop,
  project,
  resolveSelect,
  sortBy,
} from '../odata';
import { queryValue, type SimRequest, type SimResponse } from '../pipeline';
import { countRequested, defaultsFor, isEventual, odataType, ok } from './support';

/* Collections and entities answered with the OData query options: $select, $filter, $search, $orderby, paging. */

export interface Row {
  kind: string;
  props: JsonObject;
}

export interface ListSpec {
  rows: Row[];
  /** Entity set or navigation path used in @odata.context, e.g. "users" or "directoryObjects". */
  context: string;
  /** Type named in error messages, e.g. "user" or "directoryObject". */
  typeName: string;
  known: Set<string>;
  /** Tag each item with its @odata.type (collections typed as directoryObject). */
  tagTypes: boolean;
  /** Directory objects: $count needs ConsistencyLevel, some operators are advanced-only. */
  directory: boolean;
  /** Rows the request may not see yet (replication lag); applied after $filter and $search. */
  hidden?: (row: Row) => boolean;
  /**
   * $filter needs ConsistencyLevel: eventual and $count=true whatever the operator (group-list-members.md,
   * group-list-owners.md: query parameters on these relations are advanced queries).
   */
  filterIsAdvanced?: boolean;
}

/**
 * Page sizes.
 * @param pageSize page size when the client gives no $top
 * @param maxPageSize largest page the server returns, whatever $top asks (server-driven paging)
 */
export interface Paging {
  pageSize: number;
  maxPageSize: number;
}

export function contextUrl(path: string, select: string[] | undefined, entity: boolean): string {
  const sel = select ? `(${select.join(',')})` : '';
  return `${METADATA_URL}#${path}${sel}${entity ? '/$entity' : ''}`;
}

export function selectFor(req: SimRequest, known: Set<string>, typeName: string): string[] | undefined {
  const select = parseSelect(queryValue(req.query, '$select'));
  return select ? resolveSelect(select, known, typeName) : undefined;
}

function applyFilter(req: SimRequest, spec: ListSpec, rows: Row[], filterText: string): Row[] {
  const eventual = isEventual(req);
  const count = countRequested(req);
  const expr = parseFilter(filterText);
  if (spec.filterIsAdvanced && !(eventual && count)) {
    // Graph's answer quoted in microsoft-graph-docs issue 3112 and docs-contrib issue 8757.
    throw new GraphError(
      400,
      'Request_UnsupportedQuery',
      'The specified filter to the reference property query is currently not supported.',
    );
  }
  if (spec.directory && !(eventual && count)) {
    const advanced = advancedOperators(expr);
    if (advanced.length > 0) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Operator '${advanced[0]}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
      );
    }
  }
  for (const property of filterProperties(expr)) {
    const known = [...spec.known].some((k) => k.toLowerCase() === property.toLowerCase());
    if (!known) {
      throw badRequest(`Could not find a property named '${property}' on type 'microsoft.graph.${spec.typeName}'.`);
    }
  }
  return rows.filter((row) => matchesFilter(expr, row.props));
}

function applySearch(req: SimRequest, spec: ListSpec, rows: Row[], searchText: string): Row[] {
  if (spec.directory && !isEventual(req)) {
    throw new GraphError(
      400,
      'Request_UnsupportedQuery',
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
  }
  const matches = parseSearch(searchText);
  return rows.filter((row) => matches(row.props));
}

function applyOrder(spec: ListSpec, rows: Row[], orderText: string): Row[] {
  const order = parseOrderBy(orderText);
  for (const o of order) {
    if (![...spec.known].includes(o.property)) {
      throw badRequest(`Could not find a property named '${o.property}' on type 'microsoft.graph.${spec.typeName}'.`);
    }
  }
  return sortBy(rows, order, (r) => r.props);
}

function nextLink(req: SimRequest, offset: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of req.query) if (k.toLowerCase() !== '$skiptoken') params.append(k, v);
  params.append('$skiptoken', encodeSkipToken(offset));
  const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
  const query = params.toString().replace(/%24/g, '$').replace(/%2C/gi, ',');
  return `${req.baseUrl}${path}?${query}`;
}

/** A collection: filtered, searched, lag applied, ordered, then one page of it. */
export function listResponse(req: SimRequest, spec: ListSpec, paging: Paging): SimResponse {
  const select = selectFor(req, spec.known, spec.typeName);
  let rows = spec.rows;
  const filterText = queryValue(req.query, '$filter');
  if (filterText !== null) rows = applyFilter(req, spec, rows, filterText);
  const searchText = queryValue(req.query, '$search');
  if (searchText !== null) rows = applySearch(req, spec, rows, searchText);
  const hidden = spec.hidden;
  if (hidden) rows = rows.filter((row) => !hidden(row));
  const orderText = queryValue(req.query, '$orderby');
  if (orderText !== null) rows = applyOrder(spec, rows, orderText);

  const top = parseTop(queryValue(req.query, '$top'));
  const size = top === undefined ? paging.pageSize : Math.min(top, paging.maxPageSize);
  const skipToken = queryValue(req.query, '$skiptoken');
  const offset = skipToken === null ? 0 : decodeSkipToken(skipToken);
  const pageRows = rows.slice(offset, offset + size);

  const body: JsonObject = { '@odata.context': contextUrl(spec.context, select, false) };
  // @odata.count comes with the first page only (concepts/aad-advanced-queries.md, field notes).
  if (countRequested(req) && (isEventual(req) || !spec.directory) && offset === 0) body['@odata.count'] = rows.length;
  if (offset + size < rows.length) body['@odata.nextLink'] = nextLink(req, offset + size);
  body.value = pageRows.map((row) => {
    const defaults = select ? undefined : defaultsFor(row.kind);
    return project(row.props, select, defaults, spec.tagTypes ? odataType(row.kind) : undefined);
  });
  return ok(body);
}

/** One entity with $select. */
export function entityResponse(
  req: SimRequest,
  props: JsonObject,
  kind: string,
  context: string,
  known: Set<string>,
): SimResponse {
  const select = selectFor(req, known, kind);
  const body: JsonObject = { '@odata.context': contextUrl(context, select, true) };
  return ok({ ...body, ...project(props, select, select ? undefined : defaultsFor(kind)) });
}
