/**
 * Reading one environment variable each: the parsing helpers every setting group uses. A bad value throws a
 * ConfigError naming the variable; a missing one gives the fallback the group passes (defaults live in the groups).
 */

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The trimmed value, or undefined when unset or blank. */
export function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function port(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(name, `must be a port number (0-65535), got '${raw}'`);
  }
  return value;
}

export function httpUrl(env: Env, name: string, fallback?: string): string {
  const raw = read(env, name) ?? fallback;
  if (raw === undefined) throw new ConfigError(name, 'is required');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got '${raw}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http(s) URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, '');
}

/** An https URL (where invited guests land: never plain http). */
export function httpsUrl(env: Env, name: string, fallback: string): string {
  const value = httpUrl(env, name, fallback);
  if (!value.toLowerCase().startsWith('https://'))
    throw new ConfigError(name, `must be an https:// URL, got '${value}'`);
  return value;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as 90s, 15m, 48h or 14d (a bare number is seconds). */
export function duration(env: Env, name: string, fallback: string): number {
  const raw = read(env, name) ?? fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw);
  if (!match || Number(match[1]) <= 0)
    throw new ConfigError(name, `must be a positive duration like 90s, 15m, 48h or 14d, got '${raw}'`);
  return Math.round(Number(match[1]) * units[(match[2] ?? 's').toLowerCase()]);
}

export const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(name, `must be a whole number of at least ${min}, got '${raw}'`);
  return value;
}

export function positiveInteger(env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, 1);
}

/** Microsoft Entra object ids (GUIDs) separated by commas, spaces or semicolons, in lower case. */
export function guidList(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (!raw) return [];
  const ids = raw.split(/[\s,;]+/).filter(Boolean);
  const bad = ids.find((id) => !guid.test(id));
  if (bad) throw new ConfigError(name, `must be Microsoft Entra object ids (GUIDs) separated by commas, got '${bad}'`);
  return ids.map((id) => id.toLowerCase());
}

/** An optional GUID (an app id). */
export function optionalGuid(env: Env, name: string): string | null {
  const raw = read(env, name);
  if (!raw) return null;
  if (!guid.test(raw)) throw new ConfigError(name, `must be a GUID, got '${raw}'`);
  return raw.toLowerCase();
}

export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = read(env, name) ?? fallback;
  const match = values.find((v) => v.toLowerCase() === raw.toLowerCase());
  if (!match) throw new ConfigError(name, `must be one of ${values.join(', ')}, got '${raw}'`);
  return match;
}
