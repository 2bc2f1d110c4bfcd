/**
 * Erasure and retention, shared by every engine: what each table holds about a person, and how a row that
 * mentions an erased person is changed (deleted when it is about them, pseudonymised when it only mentions
 * them). Each record module of an engine erases and prunes its own tables with these specs; `RecordPrivacy`
 * runs them all. docs/privacy.md says what is kept and for how long.
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

export const STATE_SPEC: TableSpec = {
  table: 'state_items',
  key: ['key'],
  tenantColumn: null,
  text: [],
  json: ['value'],
  subject: ['key'],
  version: 'token',
};

export const OPERATION_SPEC: TableSpec = {
  table: 'operations',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['actor_id'],
  json: ['input', 'steps', 'result', 'reply_to'],
  subject: [],
  version: 'counter',
};

export const AUDIT_SPEC: TableSpec = {
  table: 'audit_log',
  key: ['seq'],
  tenantColumn: 'tenant_id',
  text: ['actor_id', 'actor_name', 'guest_email', 'guest_id', 'detail', 'app_name', 'group_name'],
  json: [],
  subject: [],
  names: [['actor_id', 'actor_name']],
};

export const CONVERSATION_SPEC: TableSpec = {
  table: 'conversation_refs',
  key: ['tenant_id', 'user_id'],
  tenantColumn: 'tenant_id',
  text: [],
  json: ['reference'],
  subject: ['user_id'],
};

export const REQUEST_SPEC: TableSpec = {
  table: 'access_requests',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['requester_name', 'justification', 'comment', 'decided_by', 'decided_by_name', 'app_name', 'group_name'],
  json: ['owner_ids', 'owner_cards', 'outcome'],
  subject: ['requester_id'],
  names: [['decided_by', 'decided_by_name']],
  version: 'counter',
};

export const REQUEST_OWNER_SPEC: TableSpec = {
  table: 'access_request_owners',
  key: ['request_id', 'owner_id'],
  tenantColumn: null,
  text: [],
  json: [],
  subject: [],
};

export const ALERT_SPEC: TableSpec = {
  table: 'alerts',
  key: ['tenant_id', 'key'],
  tenantColumn: 'tenant_id',
  text: ['summary', 'acknowledged_by', 'app_name', 'group_name'],
  json: ['fix', 'last_blocked'],
  subject: [],
  version: 'counter',
};

export const GUEST_SPEC: TableSpec = {
  table: 'guest_records',
  key: ['tenant_id', 'group_id', 'guest_id'],
  tenantColumn: 'tenant_id',
  text: ['guest_name', 'invited_by', 'invited_by_name', 'kept_by', 'removed_by', 'app_name', 'group_name'],
  json: ['sponsor_ids'],
  subject: ['guest_email'],
  names: [['invited_by', 'invited_by_name']],
  version: 'counter',
};

/** Who the bot could not reach in Teams, and why (the detail may name a chat): about the person. */
export const UNREACHABLE_SPEC: TableSpec = {
  table: 'unreachable_people',
  key: ['tenant_id', 'user_id'],
  tenantColumn: 'tenant_id',
  text: ['detail'],
  json: [],
  subject: ['user_id'],
};

/** Proactive messages: a message to the person goes; one that mentions them (a card naming them) is scrubbed. */
export const OUTBOX_SPEC: TableSpec = {
  table: 'outbox',
  key: ['id'],
  tenantColumn: 'tenant_id',
  text: ['error'],
  json: ['payload', 'result'],
  subject: ['recipient'],
  version: 'counter',
};

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

/** State item key prefixes and the retention each follows (dialog state, limits, review views, alert cards). */
export const STATE_RETENTION: ReadonlyArray<readonly [string, keyof RetentionCutoffs]> = [
  ['msteams/', 'dialogState'],
  ['rate/', 'rateKeys'],
  ['guestResend/', 'rateKeys'],
  ['guestReview/', 'reviewState'],
  ['alert-cards/', 'alerts'],
  // A marker that the bot installed the app for someone itself (reachability.ts): useful for minutes.
  ['self-install/', 'rateKeys'],
];

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
