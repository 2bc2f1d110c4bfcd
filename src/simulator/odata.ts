import { badRequest } from './errors';
import type { JsonObject, JsonValue } from './json';
import { lookup } from './odataMatch';

export {
  advancedOperators,
  filterProperties,
  parseFilter,
  type CompareOp,
  type FilterExpr,
  type Literal,
} from './odataFilter';
export { matchesFilter } from './odataMatch';

/*
 * OData query options as Graph v1.0 takes them: $select, $expand, paging ($top, $skiptoken), $orderby, $search.
 * $filter is parsed in `odataFilter.ts` and applied in `odataMatch.ts`.
 */

export const METADATA_URL = 'https://graph.microsoft.com/v1.0/$metadata';
export const MAX_TOP = 999;

// ---- $select / $expand ----------------------------------------------------

export function splitTopLevel(text: string, separator = ','): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (c === separator && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseSelect(text: string | null): string[] | undefined {
  if (text === null) return undefined;
  const items = splitTopLevel(text);
  return items.length > 0 ? items : undefined;
}

export interface ExpandItem {
  property: string;
  select?: string[];
}

export function parseExpand(text: string | null): ExpandItem[] {
  if (text === null) return [];
  return splitTopLevel(text).map((item) => {
    const m = /^([A-Za-z0-9_.]+)\s*(?:\((.*)\))?$/.exec(item);
    if (!m) throw badRequest(`Parsing OData Select and Expand failed: invalid $expand item '${item}'.`);
    const out: ExpandItem = { property: m[1] };
    if (m[2]) {
      for (const option of m[2].split(';')) {
        const eq = option.indexOf('=');
        const key = option.slice(0, eq).trim().toLowerCase();
        const value = option.slice(eq + 1).trim();
        if (key === '$select') out.select = parseSelect(value);
        else {
          throw badRequest(
            `Parsing OData Select and Expand failed: query option '${key}' is not supported inside $expand.`,
          );
        }
      }
    }
    return out;
  });
}

/** Resolves $select names to canonical property names; throws like Graph for unknown names. */
export function resolveSelect(select: string[], known: Set<string>, typeName: string): string[] {
  const byLower = new Map<string, string>();
  for (const k of known) byLower.set(k.toLowerCase(), k);
  const out: string[] = [];
  for (const name of select) {
    if (name === '*') {
      for (const k of known) if (!out.includes(k)) out.push(k);
      continue;
    }
    const canonical = byLower.get(name.toLowerCase());
    if (!canonical) {
      throw badRequest(
        `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`,
      );
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** Projects an object to the selected properties (id always included), optionally tagging its @odata.type. */
export function project(
  obj: JsonObject,
  select: string[] | undefined,
  defaults?: string[],
  odataType?: string,
): JsonObject {
  const out: JsonObject = {};
  if (odataType) out['@odata.type'] = odataType;
  const names = select ?? defaults;
  if (!names) return { ...out, ...obj };
  if (!names.includes('id') && 'id' in obj) out.id = obj.id;
  for (const n of names) {
    if (n in obj) out[n] = obj[n];
  }
  return out;
}

// ---- paging -----------------------------------------------------------------

export function encodeSkipToken(offset: number): string {
  return Buffer.from(`RFNwdAIA:${offset}`).toString('base64url');
}

export function decodeSkipToken(token: string): number {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const m = /^RFNwdAIA:(\d+)$/.exec(text);
  if (!m) throw badRequest(`Invalid skip token '${token}'.`, 'Request_BadRequest');
  return Number(m[1]);
}

export function parseTop(text: string | null): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_TOP) {
    throw badRequest(
      `Invalid page size specified: '${text}'. Must be between 1 and ${MAX_TOP} inclusive.`,
      'Request_BadRequest',
    );
  }
  return n;
}

export function parseOrderBy(text: string | null): Array<{ property: string; descending: boolean }> {
  if (text === null) return [];
  return splitTopLevel(text).map((item) => {
    const [property, direction] = item.split(/\s+/);
    const d = (direction ?? 'asc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid $orderby direction '${direction}'.`);
    return { property, descending: d === 'desc' };
  });
}

export function sortBy<T>(
  items: T[],
  order: Array<{ property: string; descending: boolean }>,
  props: (item: T) => JsonObject,
): T[] {
  if (order.length === 0) return items;
  const key = (v: JsonValue | undefined): string => (v === null || v === undefined ? '' : String(v).toLowerCase());
  return [...items].sort((a, b) => {
    for (const o of order) {
      const x = key(props(a)[o.property]);
      const y = key(props(b)[o.property]);
      if (x !== y) return (x < y ? -1 : 1) * (o.descending ? -1 : 1);
    }
    return 0;
  });
}

/** A simple `$search="property:text"` matcher (terms joined by OR / AND). */
export function parseSearch(text: string): (obj: JsonObject) => boolean {
  const trimmed = text.trim();
  const clauses = trimmed.split(/\s+OR\s+/);
  const parsed = clauses.map((clause) =>
    clause.split(/\s+AND\s+/).map((term) => {
      const m = /^"([^":]+):([^"]*)"$/.exec(term.trim());
      if (!m) {
        const found = term.trim()[0] ?? '';
        throw badRequest(`Syntax error: character '${found}' is not valid in $search.`, 'Request_UnsupportedQuery');
      }
      return { property: m[1], text: m[2].toLowerCase() };
    }),
  );
  return (obj) =>
    parsed.some((terms) =>
      terms.every((t) => {
        const v = lookup(obj, t.property);
        if (typeof v !== 'string') return false;
        return (
          v
            .toLowerCase()
            .split(/[\s.@_-]+/)
            .some((word) => word.startsWith(t.text)) || v.toLowerCase().startsWith(t.text)
        );
      }),
    );
}
