import type { JsonObject, JsonValue } from './json';
import type { FilterExpr, Literal } from './odataFilter';

/* A parsed $filter applied to one object. */

/** A property by name, ignoring case. */
export function lookup(obj: JsonObject, name: string): JsonValue | undefined {
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
    if (current === null || current === undefined) return undefined;
    if (typeof current !== 'object' || Array.isArray(current)) return undefined;
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
