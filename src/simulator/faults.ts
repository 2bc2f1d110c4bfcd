import type { GraphError } from './errors';
import { lagError, faultResponse } from './faultAnswers';
import { compilePattern, pathSegments } from './faultPaths';
import {
  DEFAULT_SEED,
  FAULT_KINDS,
  mulberry32,
  validateFaultPlan,
  type FaultKind,
  type FaultPlan,
  type FaultRule,
  type FaultRuleStats,
  type FaultStats,
} from './faultPlan';
import type { Handler, SimRequest, SimResponse, Stage, Visibility } from './pipeline';

/**
 * Fault injection for the simulator: latency, throttling (429), server errors (500/502/503/504) and
 * directory replication lag, run as a front stage so `$batch` sub-requests get them too. The plan and its
 * validation are in `faultPlan.ts`, path patterns in `faultPaths.ts`, the answers in `faultAnswers.ts`.
 */

const DEFAULT_RETRY_AFTER_SECONDS = 1;

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

type AfterWrite = '504-after-write' | 'drop-after-write';

/** What the matched rule decided for one request. */
interface Decision {
  status?: number;
  retryAfter?: number;
  afterWrite?: AfterWrite;
  delay: number;
}

const RATE_FAULTS = [
  ['rate429', 429],
  ['rate500', 500],
  ['rate502', 502],
  ['rate503', 503],
  ['rate504', 504],
  ['rate504AfterWrite', '504-after-write'],
  ['rateDropAfterWrite', 'drop-after-write'],
] as const;

/** The rule's sliding window: seconds until the oldest request leaves it when full, else undefined (and counted). */
function limitRefusal(
  compiled: CompiledRule,
  limit: { requests: number; perMs: number },
  now: number,
): number | undefined {
  const { requests, perMs } = limit;
  while (compiled.window.length > 0 && compiled.window[0] <= now - perMs) compiled.window.shift();
  if (compiled.window.length >= requests) {
    const freeAt = compiled.window.length > 0 ? compiled.window[0] + perMs : now + perMs;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }
  compiled.window.push(now);
  return undefined;
}

/** The random fault `pick` falls on, if any; after-write faults apply to writes only. */
function drawRate(r: FaultRule, pick: number, method: string, d: Decision): void {
  let edge = 0;
  for (const [key, code] of RATE_FAULTS) {
    edge += r[key] ?? 0;
    if (pick < edge) {
      if (typeof code === 'string') {
        if (method.toUpperCase() !== 'GET') d.afterWrite = code;
      } else {
        d.status = code;
        if (code === 429 || code === 503) d.retryAfter = r.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      }
      return;
    }
  }
}

function latencyOf(r: FaultRule, spread: number): number {
  if (Array.isArray(r.latencyMs)) {
    const [min, max] = r.latencyMs;
    return min + Math.floor(spread * (max - min + 1));
  }
  return r.latencyMs ?? 0;
}

function decide(s: PlanState, compiled: CompiledRule | undefined, req: SimRequest, now: number): Decision {
  const d: Decision = { delay: 0 };
  if (!compiled) return d;
  const r = compiled.rule;
  compiled.stats.matched += 1;
  s.stats.matched += 1;
  // Two draws per matched request, whatever happens, so the sequence depends only on the requests.
  const pick = s.random();
  const spread = s.random();
  if (r.limit) {
    const retryAfter = limitRefusal(compiled, r.limit, now);
    if (retryAfter !== undefined) {
      d.status = 429;
      d.retryAfter = retryAfter;
      compiled.stats.throttled += 1;
      s.stats.throttled += 1;
    }
  }
  if (d.status === undefined) drawRate(r, pick, req.method, d);
  d.delay = latencyOf(r, spread);
  return d;
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
      const empty = { requests: 0, matched: 0, injected: emptyCounts(), throttled: 0, hiddenUsers: 0, rules: [] };
      return { active: false, seed: DEFAULT_SEED, ...empty };
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
    const d = decide(s, compiled, req, now);
    if (d.delay > 0) {
      req.injectedLatencyMs = d.delay;
      s.stats.injected.latency += 1;
      await sleep(d.delay);
    }
    if (d.status !== undefined) {
      const kind = String(d.status) as FaultKind;
      req.fault = kind;
      s.stats.injected[kind] += 1;
      if (compiled) compiled.stats.injected += 1;
      return faultResponse(d.status, req, this.tenantId, d.retryAfter);
    }
    const res = await this.pass(s, req, next, d.delay);
    if (d.afterWrite === undefined) return res;
    return this.afterWrite(s, compiled, req, res, d.afterWrite);
  };

  /** Lets the request through, with the users replication lag hides; hides the users it created. */
  private async pass(s: PlanState, req: SimRequest, next: Handler, delay: number): Promise<SimResponse> {
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
    return res;
  }

  /** The write has been applied (or refused) by the handlers; the client never learns which. */
  private afterWrite(
    s: PlanState,
    compiled: CompiledRule | undefined,
    req: SimRequest,
    res: SimResponse,
    afterWrite: AfterWrite,
  ): SimResponse {
    req.fault = afterWrite;
    s.stats.injected[afterWrite] += 1;
    if (compiled) compiled.stats.injected += 1;
    const timeout = faultResponse(504, req, this.tenantId);
    timeout.appliedStatus = res.status;
    // Only a top-level request has a connection of its own to drop; a $batch item answers 504 instead.
    if (afterWrite === 'drop-after-write' && req.batchId === undefined) timeout.dropConnection = true;
    return timeout;
  }
}
