import { GraphError, badRequest } from './errors';
import type { JsonObject, JsonValue } from './json';

export const METADATA_URL = 'https://graph.microsoft.com/v1.0/$metadata';
export const MAX_TOP = 999;

// ---- $filter ----------------------------------------------------------------

export type Literal = string | number | boolean | null;
export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterExpr =
  | { t: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { t: 'not'; expr: FilterExpr }
  | { t: 'cmp'; op: CompareOp; path: string[]; value: Literal }
  | { t: 'in'; path: string[]; values: Literal[] }
  | { t: 'fn'; name: 'startswith' | 'endswith'; path: string[]; value: string }
  | { t: 'lambda'; kind: 'any' | 'all'; path: string[]; variable: string; body: FilterExpr };

type Token =
  | { k: 'ident'; v: string }
  | { k: 'string'; v: string }
  | { k: 'number'; v: number }
  | { k: 'punct'; v: '(' | ')' | ',' | ':' | '/' };

function invalidFilter(detail: string): GraphError {
  return badRequest(`Invalid filter clause: ${detail}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if ('(),:/'.includes(c)) {
      tokens.push({ k: 'punct', v: c as '(' | ')' | ',' | ':' | '/' });
      i += 1;
    } else if (c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw invalidFilter('unterminated string literal.');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
      tokens.push({ k: 'string', v: value });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw invalidFilter(`unexpected character '${c}' at position ${i}.`);
      tokens.push({ k: 'number', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_$@]/.test(c)) {
      const m = /^[A-Za-z_$@][A-Za-z0-9_.$@]*/.exec(text.slice(i));
      tokens.push({ k: 'ident', v: m ? m[0] : c });
      i += m ? m[0].length : 1;
    } else {
      throw invalidFilter(`unexpected character '${c}' at position ${i}.`);
    }
  }
  return tokens;
}

const COMPARE_OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class FilterParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterExpr {
    const expr = this.orExpr();
    if (this.pos < this.tokens.length) throw invalidFilter(`unexpected '${this.describe(this.tokens[this.pos])}'.`);
    return expr;
  }

  private describe(t: Token | undefined): string {
    if (!t) return 'end of expression';
    return t.k === 'string' ? `'${t.v}'` : String(t.v);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t !== undefined && t.k === 'ident' && t.v.toLowerCase() === word;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t !== undefined && t.k === 'punct' && t.v === p;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw invalidFilter(`expected '${p}' but found ${this.describe(this.peek())}.`);
    this.pos += 1;
  }

  private orExpr(): FilterExpr {
    let left = this.andExpr();
    while (this.isKeyword('or')) {
      this.pos += 1;
      left = { t: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): FilterExpr {
    let left = this.unary();
    while (this.isKeyword('and')) {
      this.pos += 1;
      left = { t: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterExpr {
    if (this.isKeyword('not')) {
      this.pos += 1;
      return { t: 'not', expr: this.unary() };
    }
    return this.primary();
  }

  private literal(): Literal {
    const t = this.peek();
    if (!t) throw invalidFilter('expected a value.');
    this.pos += 1;
    if (t.k === 'string' || t.k === 'number') return t.v;
    if (t.k === 'ident') {
      const v = t.v.toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      if (v === 'null') return null;
    }
    throw invalidFilter(`expected a literal value but found ${this.describe(t)}.`);
  }

  private path(): string[] {
    const t = this.peek();
    if (!t || t.k !== 'ident') throw invalidFilter(`expected a property but found ${this.describe(t)}.`);
    this.pos += 1;
    const segments = [t.v];
    while (this.isPunct('/')) {
      const next = this.tokens[this.pos + 1];
      if (next && next.k === 'ident' && ['any', 'all'].includes(next.v.toLowerCase()) && this.tokens[this.pos + 2]?.v === '(') {
        break;
      }
      this.pos += 1;
      const seg = this.peek();
      if (!seg || seg.k !== 'ident') throw invalidFilter(`expected a property after '/'.`);
      segments.push(seg.v);
      this.pos += 1;
    }
    return segments;
  }

  private primary(): FilterExpr {
    if (this.isPunct('(')) {
      this.pos += 1;
      const inner = this.orExpr();
      this.expectPunct(')');
      return inner;
    }
    const t = this.peek();
    if (t && t.k === 'ident' && this.tokens[this.pos + 1]?.k === 'punct' && this.tokens[this.pos + 1]?.v === '(') {
      const name = t.v.toLowerCase();
      if (name !== 'startswith' && name !== 'endswith') {
        throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported Query: function '${t.v}' is not supported.`);
      }
      this.pos += 2;
      const path = this.path();
      this.expectPunct(',');
      const value = this.literal();
      if (typeof value !== 'string') throw invalidFilter(`${t.v} expects a string value.`);
      this.expectPunct(')');
      return { t: 'fn', name, path, value };
    }
    const path = this.path();
    if (this.isPunct('/')) {
      this.pos += 1;
      const kindTok = this.peek();
      const kind = kindTok?.k === 'ident' ? kindTok.v.toLowerCase() : '';
      if (kind !== 'any' && kind !== 'all') throw invalidFilter(`expected any or all after '/'.`);
      this.pos += 1;
      this.expectPunct('(');
      const v = this.peek();
      if (!v || v.k !== 'ident') throw invalidFilter('expected a lambda variable.');
      this.pos += 1;
      this.expectPunct(':');
      const body = this.orExpr();
      this.expectPunct(')');
      return { t: 'lambda', kind: kind as 'any' | 'all', path, variable: v.v, body };
    }
    if (this.isKeyword('in')) {
      this.pos += 1;
      this.expectPunct('(');
      const values: Literal[] = [this.literal()];
      while (this.isPunct(',')) {
        this.pos += 1;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { t: 'in', path, values };
    }
    const opTok = this.peek();
    if (!opTok || opTok.k !== 'ident' || !COMPARE_OPS.has(opTok.v.toLowerCase())) {
      throw invalidFilter(`expected an operator after '${path.join('/')}' but found ${this.describe(opTok)}.`);
    }
    this.pos += 1;
    return { t: 'cmp', op: opTok.v.toLowerCase() as CompareOp, path, value: this.literal() };
  }
}

export function parseFilter(text: string): FilterExpr {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw invalidFilter('the expression is empty.');
  return new FilterParser(tokens).parse();
}

/** Operators Graph only accepts on directory objects as advanced queries. */
export function advancedOperators(expr: FilterExpr): string[] {
  const found = new Set<string>();
  const walk = (e: FilterExpr): void => {
    switch (e.t) {
      case 'and':
      case 'or':
        walk(e.left);
        walk(e.right);
        break;
      case 'not':
        found.add('not');
        walk(e.expr);
        break;
      case 'cmp':
        if (e.op === 'ne') found.add('ne');
        break;
      case 'fn':
        if (e.name === 'endswith') found.add('endsWith');
        break;
      case 'lambda':
        walk(e.body);
        break;
      default:
        break;
    }
  };
  walk(expr);
  return [...found];
}

/** Top-level properties the expression refers to (lambda variables excluded). */
export function filterProperties(expr: FilterExpr): string[] {
  const out: string[] = [];
  const walk = (e: FilterExpr, vars: Set<string>): void => {
    switch (e.t) {
      case 'and':
      case 'or':
        walk(e.left, vars);
        walk(e.right, vars);
        break;
      case 'not':
        walk(e.expr, vars);
        break;
      case 'lambda':
        out.push(e.path[0]);
        walk(e.body, new Set([...vars, e.variable]));
        break;
      default:
        if (!vars.has(e.path[0])) out.push(e.path[0]);
    }
  };
  walk(expr, new Set());
  return out;
}

function lookup(obj: JsonObject, name: string): JsonValue | undefined {
  if (name in obj) return obj[name];
  const lowerName = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lowerName) return obj[k];
  return undefined;
}

function resolvePath(path: string[], obj: JsonObject, vars: Map<string, JsonValue>): JsonValue | undefined {
  let current: JsonValue | undefined;
  let rest = path;
  if (vars.has(path[0])) {
    current = vars.get(path[0]);
    rest = path.slice(1);
  } else {
    current = obj;
  }
  for (const seg of rest) {
    if (current === null || current === undefined || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = lookup(current, seg);
  }
  return current;
}

function compare(a: JsonValue | undefined, b: Literal): number | undefined {
  if (a === undefined) a = null;
  if (a === null || b === null) return a === b ? 0 : undefined;
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : undefined;
  return undefined;
}

function evaluate(e: FilterExpr, obj: JsonObject, vars: Map<string, JsonValue>): boolean {
  switch (e.t) {
    case 'and':
      return evaluate(e.left, obj, vars) && evaluate(e.right, obj, vars);
    case 'or':
      return evaluate(e.left, obj, vars) || evaluate(e.right, obj, vars);
    case 'not':
      return !evaluate(e.expr, obj, vars);
    case 'cmp': {
      const c = compare(resolvePath(e.path, obj, vars), e.value);
      switch (e.op) {
        case 'eq':
          return c === 0;
        case 'ne':
          return c !== 0;
        case 'gt':
          return c !== undefined && c > 0;
        case 'ge':
          return c !== undefined && c >= 0;
        case 'lt':
          return c !== undefined && c < 0;
        case 'le':
          return c !== undefined && c <= 0;
        default:
          return false;
      }
    }
    case 'in': {
      const v = resolvePath(e.path, obj, vars);
      return e.values.some((x) => compare(v, x) === 0);
    }
    case 'fn': {
      const v = resolvePath(e.path, obj, vars);
      if (typeof v !== 'string') return false;
      const s = v.toLowerCase();
      const p = e.value.toLowerCase();
      return e.name === 'startswith' ? s.startsWith(p) : s.endsWith(p);
    }
    case 'lambda': {
      const coll = resolvePath(e.path, obj, vars);
      if (!Array.isArray(coll)) return false;
      const test = (item: JsonValue): boolean => evaluate(e.body, obj, new Map([...vars, [e.variable, item]]));
      return e.kind === 'any' ? coll.some(test) : coll.every(test);
    }
    default:
      return false;
  }
}

export function matchesFilter(expr: FilterExpr, obj: JsonObject): boolean {
  return evaluate(expr, obj, new Map());
}

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
        else throw badRequest(`Parsing OData Select and Expand failed: query option '${key}' is not supported inside $expand.`);
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
export function project(obj: JsonObject, select: string[] | undefined, defaults?: string[], odataType?: string): JsonObject {
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
    throw badRequest(`Invalid page size specified: '${text}'. Must be between 1 and ${MAX_TOP} inclusive.`, 'Request_BadRequest');
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

export function sortBy<T>(items: T[], order: Array<{ property: string; descending: boolean }>, props: (item: T) => JsonObject): T[] {
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
      if (!m) throw badRequest(`Syntax error: character '${term.trim()[0] ?? ''}' is not valid in $search.`, 'Request_UnsupportedQuery');
      return { property: m[1], text: m[2].toLowerCase() };
    }),
  );
  return (obj) =>
    parsed.some((terms) =>
      terms.every((t) => {
        const v = lookup(obj, t.property);
        if (typeof v !== 'string') return false;
        return v
          .toLowerCase()
          .split(/[\s.@_-]+/)
          .some((word) => word.startsWith(t.text)) || v.toLowerCase().startsWith(t.text);
      }),
    );
}
