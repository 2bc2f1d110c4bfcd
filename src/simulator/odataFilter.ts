import { GraphError, badRequest } from './errors';

/* $filter: tokens, the parser and what a parsed filter uses (advanced operators, properties). */

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
      const lambda = next && next.k === 'ident' && ['any', 'all'].includes(next.v.toLowerCase());
      if (lambda && this.tokens[this.pos + 2]?.v === '(') break;
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
