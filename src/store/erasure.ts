/**
 * Erasure and retention, shared by every engine: how a table says what it holds about a person (`TableSpec`; each
 * record module in `records/` declares its tables'), and how a row that mentions an erased person is changed
 * (deleted when it is about them, pseudonymised when it only mentions them). Each engine's store of a record erases
 * and prunes its own tables with those specs; `RecordPrivacy` runs them all. docs/privacy.md says what is kept and
 * for how long.
 */
import type { JsonValue } from './store';
import { parseJson, type JsonColumn } from './values';

/** What replaces an erased id, address or name. The same for everyone, so erased rows cannot be linked. */
export const ERASED = '(erased)';

/** Whom to erase: every identifier the bot may have stored for the person, in one tenant. */
export interface ErasureSubject {
  tenantId: string;
  /** Directory object ids. */
  ids: readonly string[];
  /** Email addresses, user principal names. */
  addresses: readonly string[];
  /** Display names; replaced inside text only when long enough not to hit ordinary words (MIN_NAME_LENGTH). */
  names: readonly string[];
}

/** Rows changed per table (deleted or pseudonymised). */
export type TableCounts = Record<string, number>;

/** Cut-off times: records of each kind last written (or finished) before these go. */
export interface RetentionCutoffs {
  audit: Date;
  removedGuests: Date;
  finishedOperations: Date;
  closedRequests: Date;
  dialogState: Date;
  reviewState: Date;
  rateKeys: Date;
  alerts: Date;
}

/** One stored record module's share of privacy: the tables it owns, erasure, and one retention batch. */
export interface RecordModule {
  readonly tables: readonly string[];
  erase(subject: ErasureSubject): Promise<TableCounts>;
  /** Deletes at most `limit` rows past their retention per table; returns how many per table. */
  prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts>;
}

/** How a table holds personal data. */
export interface TableSpec {
  table: string;
  /** Primary key columns (a row whose key names the person is deleted). */
  key: readonly string[];
  tenantColumn: string | null;
  /** Text columns that may hold an id, address or name. */
  text: readonly string[];
  /** JSON columns: every string and object key inside is scrubbed. */
  json: readonly string[];
  /** Columns that say whom the row is about: a match deletes the row. */
  subject: readonly string[];
  /** [id column, name column]: where the id is the person's, the name goes too. */
  names?: ReadonlyArray<readonly [string, string]>;
  /**
   * The compare-and-set version a pseudonymised row gets anew, so that a writer holding the row from before the
   * erasure conflicts instead of writing the person back: an integer counter, or a text token.
   */
  version?: 'counter' | 'token';
}

export const MIN_NAME_LENGTH = 5;

/** The needles of a subject, for text search (names only when long enough). */
export function needles(subject: ErasureSubject): string[] {
  const names = subject.names.filter((n) => n.trim().length >= MIN_NAME_LENGTH);
  const all = [...subject.ids, ...subject.addresses, ...names];
  return [...new Set(all.map((n) => n.trim()).filter((n) => n.length > 0))];
}

/** `%needle%` for LIKE with `\` as the escape character. */
export function likePattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Every column a spec searches (key, subject, text and JSON), each once. */
export function searchedColumns(spec: TableSpec): string[] {
  const columns = new Set([...spec.key, ...spec.subject, ...spec.text, ...spec.json]);
  return [...columns].filter((c) => c !== spec.tenantColumn);
}

/**
 * One pattern for all needles, matched whole: not inside a longer address, id or word ('ann@fabrikam.com' does not
 * match in 'joann@fabrikam.com', nor 'ann@fabrikam.co' in 'ann@fabrikam.com').
 */
function matcher(list: readonly string[]): RegExp | null {
  if (list.length === 0) return null;
  const escaped = [...list].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const before = "(?<![\\p{L}\\p{N}._%+'\\-])";
  const after = '(?![\\p{L}\\p{N}_\\-]|\\.[\\p{L}\\p{N}])';
  return new RegExp(`${before}(?:${escaped.join('|')})${after}`, 'giu');
}

function scrubValue(value: JsonValue, re: RegExp): JsonValue {
  if (typeof value === 'string') return value.replace(re, ERASED);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, re));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) out[k.replace(re, ERASED)] = scrubValue(v, re);
    return out;
  }
  return value;
}

export type RowValue = string | number | boolean | null | JsonValue;

/** What to do with one row found by the search: delete it, set some columns, or nothing. */
export type RowPlan =
  { kind: 'delete' } | { kind: 'update'; set: Array<readonly [string, string | null]> } | { kind: 'none' };

/**
 * Decides a row's fate: deleted when its key or a subject column holds one of the person's ids or addresses (a name
 * alone never deletes a row: names are not unique), else every id, address and name in it is replaced.
 */
export function planRow(spec: TableSpec, row: Record<string, RowValue>, subject: ErasureSubject): RowPlan {
  const all = matcher(needles(subject));
  const strong = matcher([...subject.ids, ...subject.addresses].map((n) => n.trim()).filter((n) => n.length > 0));
  if (!all || !strong) return { kind: 'none' };
  const hits = (column: string): boolean => {
    const v = row[column];
    if (v === null || v === undefined) return false;
    strong.lastIndex = 0;
    return strong.test(typeof v === 'string' ? v : JSON.stringify(v));
  };
  if ([...spec.key, ...spec.subject].some(hits)) return { kind: 'delete' };
  const set: Array<readonly [string, string | null]> = [];
  const ids = new Set(subject.ids.map((i) => i.toLowerCase()));
  const named = (spec.names ?? []).filter(([id]) => ids.has(String(row[id] ?? '').toLowerCase()));
  const namedBy = new Set(named.map(([, name]) => name));
  for (const column of spec.text) {
    const v = row[column];
    if (typeof v !== 'string') continue;
    const next = namedBy.has(column) ? ERASED : v.replace(all, ERASED);
    if (next !== v) set.push([column, next]);
  }
  for (const column of spec.json) {
    const v = row[column];
    if (v === null || v === undefined) continue;
    const parsed = parseJson<JsonValue>(v as JsonColumn);
    const after = JSON.stringify(scrubValue(parsed, all));
    if (after !== JSON.stringify(parsed)) set.push([column, after]);
  }
  return set.length ? { kind: 'update', set } : { kind: 'none' };
}

/** Adds `b` into `a`. */
export function addCounts(a: TableCounts, b: TableCounts): TableCounts {
  for (const [table, n] of Object.entries(b)) a[table] = (a[table] ?? 0) + n;
  return a;
}

/** Erasure and retention across every record module of a store. */
export interface PrivacyStore {
  /** Tables the record modules erase and prune, and tables that hold no personal data (checked against the catalog). */
  readonly tables: { readonly covered: readonly string[]; readonly noPersonalData: readonly string[] };
  /** Deletes or pseudonymises every row that mentions the subject, table by table; returns rows changed per table. */
  erase(subject: ErasureSubject): Promise<TableCounts>;
  /** One retention batch: at most `limit` rows per table past their cut-off; returns the rows deleted per table. */
  prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts>;
}

function checkSubject(subject: ErasureSubject): ErasureSubject {
  const list = (values: unknown, what: string): string[] => {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || v.trim().length === 0)) {
      throw new TypeError(`Erasure ${what} must be non-empty strings`);
    }
    return values.map((v: string) => v.trim());
  };
  if (typeof subject.tenantId !== 'string' || subject.tenantId.length === 0) {
    throw new TypeError('Erasure tenantId must be a non-empty string');
  }
  const checked = {
    tenantId: subject.tenantId,
    ids: list(subject.ids, 'ids'),
    addresses: list(subject.addresses, 'addresses'),
    names: list(subject.names, 'names'),
  };
  if (checked.ids.length + checked.addresses.length === 0) {
    throw new TypeError('Erasure needs an object id or an address');
  }
  return checked;
}

export class RecordPrivacy implements PrivacyStore {
  readonly tables: PrivacyStore['tables'];

  constructor(
    private readonly modules: readonly RecordModule[],
    noPersonalData: readonly string[],
  ) {
    this.tables = { covered: modules.flatMap((m) => m.tables), noPersonalData };
  }

  async erase(subject: ErasureSubject): Promise<TableCounts> {
    const checked = checkSubject(subject);
    const counts: TableCounts = {};
    for (const module of this.modules) addCounts(counts, await module.erase(checked));
    return counts;
  }

  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    const counts: TableCounts = {};
    for (const module of this.modules) addCounts(counts, await module.prune(cutoffs, limit));
    return counts;
  }
}
