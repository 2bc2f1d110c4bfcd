import { GraphError, errorBody, notFound } from './errors';
import { JSON_CONTENT_TYPE } from './graphApi';
import { isJsonObject } from './json';
import type { SimRequest, SimResponse, Stage, Visibility } from './pipeline';

/**
 * Fault injection for the simulator: latency, throttling (429), server errors (500/502/503/504) and
 * directory replication lag, run as a front stage so `$batch` sub-requests get them too.
 */

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
 * - `Request_ResourceNotFound`: 404 "Resource '<id>' does not exist or one of its queried reference-property objects are not present."
 * - `Directory_ObjectNotFound`: 404 "Unable to read the company information from the directory."
 * - `Request_BadRequest`: 400 "Not a valid reference update."
 */
export type ReplicationLagForm = 'Request_ResourceNotFound' | 'Directory_ObjectNotFound' | 'Request_BadRequest';

export const REPLICATION_LAG_FORMS: readonly ReplicationLagForm[] = ['Request_ResourceNotFound', 'Directory_ObjectNotFound', 'Request_BadRequest'];

function lagError(form: ReplicationLagForm, objectId: string): GraphError {
  switch (form) {
    case 'Directory_ObjectNotFound':
      return new GraphError(404, 'Directory_ObjectNotFound', 'Unable to read the company information from the directory.');
    case 'Request_BadRequest':
      return new GraphError(400, 'Request_BadRequest', 'Not a valid reference update.');
    default:
      return notFound(objectId);
  }
}

export type FaultKind = '429' | '500' | '502' | '503' | '504' | '504-after-write' | 'drop-after-write' | 'lag' | 'latency';

export const FAULT_KINDS: readonly FaultKind[] = ['429', '500', '502', '503', '504', '504-after-write', 'drop-after-write', 'lag', 'latency'];

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

const DEFAULT_SEED = 1;
const DEFAULT_RETRY_AFTER_SECONDS = 1;

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

const RULE_KEYS = new Set([
  'method',
  'path',
  'latencyMs',
  'rate429',
  'retryAfterSeconds',
  'rate500',
  'rate502',
  'rate503',
  'rate504',
  'rate504AfterWrite',
  'rateDropAfterWrite',
  'inBatchOnly',
  'topLevelOnly',
  'limit',
]);
const PLAN_KEYS = new Set(['seed', 'rules', 'replicationLagMs', 'replicationLagForms', 'indexLag']);
const RATE_KEYS = ['rate429', 'rate500', 'rate502', 'rate503', 'rate504', 'rate504AfterWrite', 'rateDropAfterWrite'] as const;

function nonNegativeInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${where} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
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
  if (raw.latencyMs !== undefined) {
    const l = raw.latencyMs;
    if (Array.isArray(l)) {
      if (l.length !== 2) throw new Error(`${at}.latencyMs must be a number or [min, max]`);
      const min = nonNegativeInteger(l[0], `${at}.latencyMs[0]`);
      const max = nonNegativeInteger(l[1], `${at}.latencyMs[1]`);
      if (min > max) throw new Error(`${at}.latencyMs: min is larger than max`);
      out.latencyMs = [min, max];
    } else {
      out.latencyMs = nonNegativeInteger(l, `${at}.latencyMs`);
    }
  }
  let sum = 0;
  for (const key of RATE_KEYS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${at}.${key} must be a number from 0 to 1`);
    out[key] = v;
    sum += v;
  }
  if (sum > 1 + 1e-9) throw new Error(`${at}: the rates add up to more than 1`);
  if (raw.retryAfterSeconds !== undefined) out.retryAfterSeconds = nonNegativeInteger(raw.retryAfterSeconds, `${at}.retryAfterSeconds`);
  for (const key of ['inBatchOnly', 'topLevelOnly'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new Error(`${at}.${key} must be a boolean`);
    out[key] = v;
  }
  if (out.inBatchOnly && out.topLevelOnly) throw new Error(`${at}: inBatchOnly and topLevelOnly exclude each other`);
  if (raw.limit !== undefined) {
    const l = raw.limit;
    if (!isJsonObject(l)) throw new Error(`${at}.limit must be { requests, perMs }`);
    for (const key of Object.keys(l)) if (key !== 'requests' && key !== 'perMs') throw new Error(`${at}.limit: unknown property '${key}'`);
    const requests = nonNegativeInteger(l.requests, `${at}.limit.requests`);
    const perMs = nonNegativeInteger(l.perMs, `${at}.limit.perMs`);
    if (perMs === 0) throw new Error(`${at}.limit.perMs must be positive`);
    out.limit = { requests, perMs };
  }
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
  if (input.replicationLagMs !== undefined) plan.replicationLagMs = nonNegativeInteger(input.replicationLagMs, 'replicationLagMs');
  if (input.replicationLagForms !== undefined) {
    const forms = input.replicationLagForms;
    if (!Array.isArray(forms) || forms.length === 0 || forms.some((f) => !REPLICATION_LAG_FORMS.includes(f as ReplicationLagForm))) {
      throw new Error(`replicationLagForms must be a non-empty array of ${REPLICATION_LAG_FORMS.join(', ')}`);
    }
    plan.replicationLagForms = forms as ReplicationLagForm[];
  }
  if (input.indexLag !== undefined) plan.indexLag = nonNegativeInteger(input.indexLag, 'indexLag');
  return plan;
}

// ---- path patterns -------------------------------------------------------------------------

type SegmentMatcher = '**' | RegExp;

/** Path segments after /v1.0, percent-decoded. */
function pathSegments(path: string): string[] {
  return path
    .replace(/^\/v1\.0(?=\/|$)/i, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

function isBatchEnvelope(segments: string[]): boolean {
  return segments.length === 1 && segments[0].toLowerCase() === '$batch';
}

function compilePattern(pattern: string): (segments: string[]) => boolean {
  const p = pattern.trim();
  if (p === '*') return (segments) => !isBatchEnvelope(segments);
  const parts = pathSegments(p.startsWith('/') ? p : `/${p}`);
  if (isBatchEnvelope(parts)) return isBatchEnvelope;
  const matchers: SegmentMatcher[] = parts.map((part) =>
    part === '**' ? '**' : new RegExp(`^${part.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i'),
  );
  const match = (m: number, s: number, segments: string[]): boolean => {
    if (m === matchers.length) return s === segments.length;
    const matcher = matchers[m];
    if (matcher === '**') {
      for (let k = s; k <= segments.length; k += 1) if (match(m + 1, k, segments)) return true;
      return false;
    }
    return s < segments.length && matcher.test(segments[s]) && match(m + 1, s + 1, segments);
  };
  return (segments) => !isBatchEnvelope(segments) && match(0, 0, segments);
}

// ---- fault answers -------------------------------------------------------------------------

/**
 * Error codes and messages as Graph sends them:
 * - 429: the identity gateway's throttling answer (`TooManyRequests`, "Too many requests from Identifier:...
 *   under category:... Please try again later.") with `Retry-After` in seconds.
 * - 500: `generalException` "General exception while processing".
 * - 502: `UnknownError` "502 Bad Gateway".
 * - 503: `serviceNotAvailable` "Service unavailable", with `Retry-After`.
 * - 504: `UnknownError` with an empty message (the gateway timeout Graph answers).
 */
function faultAnswer(status: number, tenantId: string): { code: string; message: string } {
  switch (status) {
    case 429:
      return {
        code: 'TooManyRequests',
        message: `Too many requests from Identifier:${tenantId} under category:throttle.aad.ags.tenant. Please try again later.`,
      };
    case 500:
      return { code: 'generalException', message: 'General exception while processing' };
    case 502:
      return { code: 'UnknownError', message: '502 Bad Gateway' };
    case 503:
      return { code: 'serviceNotAvailable', message: 'Service unavailable' };
    default:
      return { code: 'UnknownError', message: '' };
  }
}

export function faultResponse(status: number, req: SimRequest, tenantId: string, retryAfterSeconds?: number): SimResponse {
  const { code, message } = faultAnswer(status, tenantId);
  const headers: Record<string, string> = { 'Content-Type': JSON_CONTENT_TYPE };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  return { status, headers, body: errorBody(code, message, req.requestId, req.clientRequestId) };
}

// ---- the injector --------------------------------------------------------------------------

interface CompiledRule {
  rule: FaultRule;
  method: string;
  matches: (segments: string[]) => boolean;
  /** Arrival times of the requests the limit let through, oldest first. */
  window: number[];
  stats: FaultRuleStats;
}

interface PlanState {
  plan: FaultPlan;
  seed: number;
  random: () => number;
  /** A separate stream for picking replication-lag forms, so rules' draws stay as they were. */
  lagRandom: () => number;
  rules: CompiledRule[];
  /** User id (lower case) -> time until which it stays hidden. */
  hidden: Map<string, number>;
  stats: Omit<FaultStats, 'active' | 'seed' | 'hiddenUsers' | 'rules'>;
}

function emptyCounts(): Record<FaultKind, number> {
  const out = {} as Record<FaultKind, number>;
  for (const k of FAULT_KINDS) out[k] = 0;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Holds the current fault plan and its counters; `stage` applies it to requests. */
export class FaultInjector {
  private state: PlanState | undefined;

  constructor(
    private readonly tenantId: string,
    plan?: FaultPlan | null,
    private readonly now: () => number = Date.now,
  ) {
    this.setPlan(plan ?? null);
  }

  /** The plan's advanced-query index lag, if it sets one. */
  indexLag(): number | undefined {
    return this.state?.plan.indexLag;
  }

  /** Replaces the plan (validated first); null clears it. Counters, windows and hidden users start afresh. */
  setPlan(plan: FaultPlan | null): void {
    if (plan === null) {
      this.state = undefined;
      return;
    }
    const valid = validateFaultPlan(plan);
    const seed = valid.seed ?? DEFAULT_SEED;
    this.state = {
      plan: valid,
      seed,
      random: mulberry32(seed),
      lagRandom: mulberry32(seed ^ 0x5bd1e995),
      rules: valid.rules.map((r, index) => ({
        rule: r,
        method: r.method ?? '*',
        matches: compilePattern(r.path),
        window: [],
        stats: { index, method: r.method ?? '*', path: r.path, matched: 0, injected: 0, throttled: 0 },
      })),
      hidden: new Map(),
      stats: { requests: 0, matched: 0, injected: emptyCounts(), throttled: 0 },
    };
  }

  plan(): FaultPlan | null {
    return this.state ? (JSON.parse(JSON.stringify(this.state.plan)) as FaultPlan) : null;
  }

  stats(): FaultStats {
    const s = this.state;
    if (!s) {
      return { active: false, seed: DEFAULT_SEED, requests: 0, matched: 0, injected: emptyCounts(), throttled: 0, hiddenUsers: 0, rules: [] };
    }
    const now = this.now();
    return {
      active: true,
      seed: s.seed,
      requests: s.stats.requests,
      matched: s.stats.matched,
      injected: { ...s.stats.injected },
      throttled: s.stats.throttled,
      hiddenUsers: [...s.hidden.values()].filter((until) => until > now).length,
      rules: s.rules.map((r) => ({ ...r.stats })),
    };
  }

  private findRule(s: PlanState, req: SimRequest): CompiledRule | undefined {
    const inBatch = req.batchId !== undefined;
    const segments = pathSegments(req.path);
    return s.rules.find(
      (r) =>
        (r.method === '*' || r.method === req.method.toUpperCase()) &&
        !(r.rule.inBatchOnly && !inBatch) &&
        !(r.rule.topLevelOnly && inBatch) &&
        r.matches(segments),
    );
  }

  private visibility(s: PlanState, onHit: () => void): Visibility | undefined {
    if (s.hidden.size === 0) return undefined;
    const forms = s.plan.replicationLagForms ?? ['Request_ResourceNotFound'];
    return {
      isHidden: (objectId: string): boolean => {
        const key = objectId.toLowerCase();
        const until = s.hidden.get(key);
        if (until === undefined) return false;
        if (until <= this.now()) {
          s.hidden.delete(key);
          return false;
        }
        onHit();
        return true;
      },
      writeRefusal: (objectId: string): GraphError =>
        lagError(forms[Math.min(forms.length - 1, Math.floor(s.lagRandom() * forms.length))], objectId),
    };
  }

  readonly stage: Stage = async (req, next) => {
    const s = this.state;
    if (!s) return next(req);
    s.stats.requests += 1;
    const now = this.now();
    const compiled = this.findRule(s, req);
    let status: number | undefined;
    let afterWrite: '504-after-write' | 'drop-after-write' | undefined;
    let retryAfter: number | undefined;
    let delay = 0;
    if (compiled) {
      const r = compiled.rule;
      compiled.stats.matched += 1;
      s.stats.matched += 1;
      // Two draws per matched request, whatever happens, so the sequence depends only on the requests.
      const pick = s.random();
      const spread = s.random();
      if (r.limit) {
        const { requests, perMs } = r.limit;
        while (compiled.window.length > 0 && compiled.window[0] <= now - perMs) compiled.window.shift();
        if (compiled.window.length >= requests) {
          status = 429;
          const freeAt = compiled.window.length > 0 ? compiled.window[0] + perMs : now + perMs;
          retryAfter = Math.max(1, Math.ceil((freeAt - now) / 1000));
          compiled.stats.throttled += 1;
          s.stats.throttled += 1;
        } else {
          compiled.window.push(now);
        }
      }
      if (status === undefined) {
        let edge = 0;
        for (const [key, code] of [
          ['rate429', 429],
          ['rate500', 500],
          ['rate502', 502],
          ['rate503', 503],
          ['rate504', 504],
          ['rate504AfterWrite', '504-after-write'],
          ['rateDropAfterWrite', 'drop-after-write'],
        ] as const) {
          edge += r[key] ?? 0;
          if (pick < edge) {
            if (typeof code === 'string') {
              if (req.method.toUpperCase() !== 'GET') afterWrite = code;
            } else {
              status = code;
              if (code === 429 || code === 503) retryAfter = r.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
            }
            break;
          }
        }
      }
      if (Array.isArray(r.latencyMs)) {
        const [min, max] = r.latencyMs;
        delay = min + Math.floor(spread * (max - min + 1));
      } else if (r.latencyMs !== undefined) {
        delay = r.latencyMs;
      }
    }

    if (delay > 0) {
      req.injectedLatencyMs = delay;
      s.stats.injected.latency += 1;
      await sleep(delay);
    }
    if (status !== undefined) {
      const kind = String(status) as FaultKind;
      req.fault = kind;
      s.stats.injected[kind] += 1;
      if (compiled) compiled.stats.injected += 1;
      return faultResponse(status, req, this.tenantId, retryAfter);
    }

    let lagged = false;
    const visibility = this.visibility(s, () => {
      lagged = true;
    });
    if (visibility) req.visibility = visibility;
    const res = await next(req);
    if (lagged) {
      req.fault = 'lag';
      s.stats.injected.lag += 1;
    } else if (delay > 0) {
      req.fault = 'latency';
    }
    const lag = s.plan.replicationLagMs ?? 0;
    if (lag > 0 && res.status < 300) {
      for (const created of res.createdObjects ?? []) {
        if (created.kind === 'user') s.hidden.set(created.id.toLowerCase(), this.now() + lag);
      }
    }
    if (afterWrite === undefined) return res;
    // The write has been applied (or refused) by the handlers; the client never learns which.
    req.fault = afterWrite;
    s.stats.injected[afterWrite] += 1;
    if (compiled) compiled.stats.injected += 1;
    const timeout = faultResponse(504, req, this.tenantId);
    timeout.appliedStatus = res.status;
    // Only a top-level request has a connection of its own to drop; a $batch item answers 504 instead.
    if (afterWrite === 'drop-after-write' && req.batchId === undefined) timeout.dropConnection = true;
    return timeout;
  };
}
