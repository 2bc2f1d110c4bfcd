import { isJsonObject } from './json';

/* The fault plan: its rules, its validation, its statistics and the seeded PRNG it draws from. */

/** A rule: the first rule matching a request decides what happens to it. */
export interface FaultRule {
  /** HTTP method, or '*' (default) for any. */
  method?: string;
  /**
   * Pattern matched against the path after /v1.0, without the query, ignoring case: '*' alone matches any path
   * (except the $batch envelope), a '*' segment matches one segment, '**' any number of segments, and '*' inside
   * a segment any characters. Only the exact pattern '/$batch' matches the $batch envelope itself.
   */
  path: string;
  /** Added delay: a fixed number of milliseconds or a [min, max] range drawn per request. */
  latencyMs?: number | [number, number];
  /** Probability (0..1) of a 429 TooManyRequests. */
  rate429?: number;
  /** Retry-After (seconds) of random 429 and 503 answers; default 1. */
  retryAfterSeconds?: number;
  rate500?: number;
  rate502?: number;
  rate503?: number;
  rate504?: number;
  /**
   * Probability that a write (any method but GET) is applied and then answered 504 GatewayTimeout, as a gateway
   * does when the service finished after the gateway gave up.
   */
  rate504AfterWrite?: number;
  /** Probability that a write is applied and the connection then dropped without an answer (inside $batch: 504). */
  rateDropAfterWrite?: number;
  /** Only $batch sub-requests. */
  inBatchOnly?: boolean;
  /** Only requests outside $batch. */
  topLevelOnly?: boolean;
  /** At most `requests` requests per sliding window of `perMs` milliseconds; the others get 429. */
  limit?: { requests: number; perMs: number };
}

export interface FaultPlan {
  /** PRNG seed (default 1): the same seed and request sequence give the same faults. */
  seed?: number;
  rules: FaultRule[];
  /** Users created by POST /invitations stay invisible for this long (membership writes, user reads). */
  replicationLagMs?: number;
  /**
   * How writes naming a user hidden by replication lag are refused; each refusal picks one of these with the
   * plan's PRNG (so the same seed gives the same sequence). Default: ['Request_ResourceNotFound'].
   */
  replicationLagForms?: ReplicationLagForm[];
  /** Advanced-query index lag in milliseconds (overrides the seed's `indexLag`). */
  indexLag?: number;
}

/**
 * The three answers seen for writes naming a just-invited user (field notes; msgraph-sdk-dotnet issue 2508,
 * microsoft-graph-docs issue 15839 / docs-contrib issue 2465):
 * - `Request_ResourceNotFound`: 404 "Resource '<id>' does not exist or one of its queried reference-property objects
 *   are not present."
 * - `Directory_ObjectNotFound`: 404 "Unable to read the company information from the directory."
 * - `Request_BadRequest`: 400 "Not a valid reference update."
 */
export type ReplicationLagForm = 'Request_ResourceNotFound' | 'Directory_ObjectNotFound' | 'Request_BadRequest';

export const REPLICATION_LAG_FORMS: readonly ReplicationLagForm[] = [
  'Request_ResourceNotFound',
  'Directory_ObjectNotFound',
  'Request_BadRequest',
];

export type FaultKind =
  '429' | '500' | '502' | '503' | '504' | '504-after-write' | 'drop-after-write' | 'lag' | 'latency';

export const FAULT_KINDS: readonly FaultKind[] = [
  '429',
  '500',
  '502',
  '503',
  '504',
  '504-after-write',
  'drop-after-write',
  'lag',
  'latency',
];

export interface FaultRuleStats {
  index: number;
  method: string;
  path: string;
  /** Requests the rule applied to. */
  matched: number;
  /** Requests answered with an injected status (429 or 5xx). */
  injected: number;
  /** Of those, 429s from the rule's `limit`. */
  throttled: number;
}

export interface FaultStats {
  /** A plan is set. */
  active: boolean;
  seed: number;
  /** Requests seen since the plan was set (batch sub-requests included). */
  requests: number;
  /** Requests that matched a rule. */
  matched: number;
  /** Faults by kind; 'latency' counts every delayed request, also those answered with a status fault. */
  injected: Record<FaultKind, number>;
  /** 429s from `limit` windows (also counted in injected['429']). */
  throttled: number;
  /** Users currently hidden by replication lag. */
  hiddenUsers: number;
  rules: FaultRuleStats[];
}

export const DEFAULT_SEED = 1;

/** mulberry32: a small, fast, seedable PRNG giving numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- plan validation ---------------------------------------------------------------------

const RATE_KEYS = [
  'rate429',
  'rate500',
  'rate502',
  'rate503',
  'rate504',
  'rate504AfterWrite',
  'rateDropAfterWrite',
] as const;
const RULE_KEYS = new Set<string>([
  'method',
  'path',
  'latencyMs',
  ...RATE_KEYS,
  'retryAfterSeconds',
  'inBatchOnly',
  'topLevelOnly',
  'limit',
]);
const PLAN_KEYS = new Set(['seed', 'rules', 'replicationLagMs', 'replicationLagForms', 'indexLag']);

function nonNegativeInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${where} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function latency(l: unknown, at: string): number | [number, number] {
  if (!Array.isArray(l)) return nonNegativeInteger(l, `${at}.latencyMs`);
  if (l.length !== 2) throw new Error(`${at}.latencyMs must be a number or [min, max]`);
  const min = nonNegativeInteger(l[0], `${at}.latencyMs[0]`);
  const max = nonNegativeInteger(l[1], `${at}.latencyMs[1]`);
  if (min > max) throw new Error(`${at}.latencyMs: min is larger than max`);
  return [min, max];
}

function limit(l: unknown, at: string): { requests: number; perMs: number } {
  if (!isJsonObject(l)) throw new Error(`${at}.limit must be { requests, perMs }`);
  for (const key of Object.keys(l)) {
    if (key !== 'requests' && key !== 'perMs') throw new Error(`${at}.limit: unknown property '${key}'`);
  }
  const requests = nonNegativeInteger(l.requests, `${at}.limit.requests`);
  const perMs = nonNegativeInteger(l.perMs, `${at}.limit.perMs`);
  if (perMs === 0) throw new Error(`${at}.limit.perMs must be positive`);
  return { requests, perMs };
}

function rule(raw: unknown, index: number): FaultRule {
  const at = `rules[${index}]`;
  if (!isJsonObject(raw)) throw new Error(`${at} must be an object`);
  for (const key of Object.keys(raw)) if (!RULE_KEYS.has(key)) throw new Error(`${at}: unknown property '${key}'`);
  if (typeof raw.path !== 'string' || raw.path.trim() === '') throw new Error(`${at}.path must be a non-empty string`);
  const out: FaultRule = { path: raw.path.trim() };
  if (raw.method !== undefined) {
    if (typeof raw.method !== 'string' || !/^(\*|[A-Za-z]+)$/.test(raw.method)) {
      throw new Error(`${at}.method must be an HTTP method or '*'`);
    }
    out.method = raw.method.toUpperCase();
  }
  if (raw.latencyMs !== undefined) out.latencyMs = latency(raw.latencyMs, at);
  let sum = 0;
  for (const key of RATE_KEYS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${at}.${key} must be a number from 0 to 1`);
    out[key] = v;
    sum += v;
  }
  if (sum > 1 + 1e-9) throw new Error(`${at}: the rates add up to more than 1`);
  if (raw.retryAfterSeconds !== undefined) {
    out.retryAfterSeconds = nonNegativeInteger(raw.retryAfterSeconds, `${at}.retryAfterSeconds`);
  }
  for (const key of ['inBatchOnly', 'topLevelOnly'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new Error(`${at}.${key} must be a boolean`);
    out[key] = v;
  }
  if (out.inBatchOnly && out.topLevelOnly) throw new Error(`${at}: inBatchOnly and topLevelOnly exclude each other`);
  if (raw.limit !== undefined) out.limit = limit(raw.limit, at);
  return out;
}

/** Checks a fault plan (e.g. parsed from JSON) and returns a normalized copy; throws an Error naming the problem. */
export function validateFaultPlan(input: unknown): FaultPlan {
  if (!isJsonObject(input)) throw new Error('a fault plan must be a JSON object');
  for (const key of Object.keys(input)) if (!PLAN_KEYS.has(key)) throw new Error(`unknown property '${key}'`);
  const plan: FaultPlan = { rules: [] };
  if (input.seed !== undefined) {
    if (typeof input.seed !== 'number' || !Number.isInteger(input.seed)) throw new Error('seed must be an integer');
    plan.seed = input.seed;
  }
  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules)) throw new Error('rules must be an array');
    plan.rules = input.rules.map(rule);
  }
  if (input.replicationLagMs !== undefined) {
    plan.replicationLagMs = nonNegativeInteger(input.replicationLagMs, 'replicationLagMs');
  }
  if (input.replicationLagForms !== undefined) {
    const forms = input.replicationLagForms;
    const known = (f: unknown): boolean => REPLICATION_LAG_FORMS.includes(f as ReplicationLagForm);
    if (!Array.isArray(forms) || forms.length === 0 || !forms.every(known)) {
      throw new Error(`replicationLagForms must be a non-empty array of ${REPLICATION_LAG_FORMS.join(', ')}`);
    }
    plan.replicationLagForms = forms as ReplicationLagForm[];
  }
  if (input.indexLag !== undefined) plan.indexLag = nonNegativeInteger(input.indexLag, 'indexLag');
  return plan;
}
