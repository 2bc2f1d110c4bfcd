/**
 * Checks of the values the store port is given, and their JSON text, shared by every engine: a value is
 * refused (TypeError) before any statement runs, whichever database is behind the port.
 */
import type { JsonObject, JsonValue } from './store';

/** Throws when the store was closed; each store calls it first. */
export type Guard = () => void;

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
