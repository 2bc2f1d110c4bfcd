/**
 * Checks of the values the store port is given, their JSON text and the column values they become, shared by
 * every record module and engine: a value is refused (TypeError) before any statement runs, whichever database
 * is behind the port.
 */
import type { JsonObject, JsonValue } from './store';

/** Throws when the store was closed; each store calls it first. */
export type Guard = () => void;

export type ColumnValue = string | number | boolean | null;
/** The columns a patch changes, with their new values, in a fixed order. */
export type PatchColumns<C extends string> = Array<readonly [C, ColumnValue]>;
/** A 64-bit integer column: a number from SQLite, a decimal string from node-postgres. */
export type BigIntColumn = number | string;

/**
 * A patch as the list of the columns it changes (`spec` pairs each field with its column): a field present with
 * null is set to NULL; an absent field keeps its column. `convert` checks a value and gives its column value.
 */
export function patchColumns<F extends string, C extends string>(
  spec: readonly (readonly [F, C])[],
  patch: Partial<Record<F, unknown>>,
  convert: (field: F, value: unknown) => ColumnValue,
): PatchColumns<C> {
  const columns: PatchColumns<C> = [];
  for (const [field, column] of spec) {
    const value = patch[field];
    if (value !== undefined) columns.push([column, convert(field, value)]);
  }
  return columns;
}

/** Serializes `value` as JSON text; rejects what JSON cannot hold (BigInt, cycles, non-objects). */
export function jsonObjectText(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be a JSON object`);
  }
  return jsonText(value, what);
}

export function jsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what} cannot be serialized as JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (typeof text !== 'string') {
    throw new TypeError(`${what} cannot be serialized as JSON`);
  }
  return text;
}

/**
 * A JSON column as read: text (SQLite) or already parsed (PostgreSQL's `json` type). The stored text is
 * always one this code wrote, so it is trusted to have the shape `T`.
 */
export type JsonColumn = string | JsonValue;

export function parseJson<T>(value: JsonColumn): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function parseObject(value: JsonColumn): JsonObject {
  return parseJson<JsonObject>(value);
}

export function parseNullableObject(value: JsonColumn | null): JsonObject | null {
  return value === null ? null : parseObject(value);
}

export function checkDate(now: Date, what = 'now'): Date {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new TypeError(`${what} must be a valid Date`);
  }
  return now;
}

export function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string`);
  }
  return value;
}

/** A string that may be empty (display names, free text). */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string`);
  }
  return value;
}

export function checkNullableText(value: unknown, what: string): string | null {
  return value === null ? null : checkText(value, what);
}

export function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new TypeError('limit must be a positive integer');
  }
  return limit;
}

export function checkExpectedVersion(expectedVersion: unknown): number {
  if (typeof expectedVersion !== 'number' || !Number.isInteger(expectedVersion)) {
    throw new TypeError('expectedVersion must be an integer');
  }
  return expectedVersion;
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new TypeError('State keys must be strings');
  }
}

export function checkKeys(keys: readonly unknown[]): readonly string[] {
  for (const key of keys) {
    checkKey(key);
  }
  return keys as readonly string[];
}

/** A non-negative integer (attempts, counts). */
export function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative integer`);
  }
  return value;
}

export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${what} must be a boolean`);
  }
  return value;
}

/** One of a fixed set of words (a status, a state). */
export function checkOneOf<T extends string>(allowed: readonly T[], value: unknown, what: string): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`Unknown ${what} '${String(value)}'`);
  }
  return value as T;
}

/** A time stored as epoch milliseconds, as ISO text. */
export function msToIso(ms: BigIntColumn): string {
  return new Date(Number(ms)).toISOString();
}

/** The parameters of taking a lease on a record (an operation, an outbox message, a timer job). */
export interface LeaseParams {
  id: string;
  owner: string;
  now_ms: number;
  expires_ms: number;
  now: string;
}

export function leaseParams(id: string, owner: string, ttlMs: number, now: Date): LeaseParams {
  checkString(owner, 'Lease owner');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError('Lease ttlMs must be a positive number');
  }
  const nowMs = checkDate(now).getTime();
  return { id, owner, now_ms: nowMs, expires_ms: nowMs + Math.ceil(ttlMs), now: now.toISOString() };
}
