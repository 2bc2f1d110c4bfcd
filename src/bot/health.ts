/**
 * Readiness: the store answers and a Graph token can be had. Probed at most once per `ttlMs` however often it is
 * asked (an outside loop costs neither Graph nor the database anything), callers in between share the answer, and
 * the answer names each check with ok true/false only: the reasons go to the log (`health.check.failed`), never
 * into the response (they carry host names and AADSTS messages).
 */
import type { Logger } from '../logging';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { ok: boolean }>;
}

export interface ReadinessOptions {
  probes: Record<string, () => Promise<unknown>>;
  logger: Logger;
  /** How long an answer is reused (default 5 s). */
  ttlMs?: number;
  /** Longest a probe may take before it counts as failed (default 5 s). */
  timeoutMs?: number;
  now?: () => number;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createReadiness(options: ReadinessOptions): () => Promise<HealthReport> {
  const ttl = options.ttlMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; report: Promise<HealthReport> } | null = null;
  const probe = async (): Promise<HealthReport> => {
    const checks: HealthReport['checks'] = {};
    await Promise.all(
      Object.entries(options.probes).map(async ([name, run]) => {
        try {
          await within(run(), options.timeoutMs ?? 5_000);
          checks[name] = { ok: true };
        } catch (err) {
          checks[name] = { ok: false };
          options.logger.warn('health.check.failed', { check: name, error: err });
        }
      }),
    );
    return { status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'unavailable', checks };
  };
  return () => {
    const at = now();
    if (!cached || at - cached.at >= ttl) cached = { at, report: probe() };
    return cached.report;
  };
}
