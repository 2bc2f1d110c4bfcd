/**
 * Stored record: key/value state items with optimistic concurrency (dialog and conversation state,
 * de-duplication markers, rate-limit counters). The port, the row, and what the items hold about a person.
 */
import type { TableSpec, RetentionCutoffs } from '../erasure';
import type { JsonObject } from '../store';
import type { JsonColumn } from '../values';

export interface VersionedItem {
  key: string;
  value: JsonObject;
  /** Opaque version token; changes on every write. */
  version: string;
}

/**
 * Expected version for a conditional write:
 * - a version string: the item must exist with exactly that version;
 * - `null`: the item must not exist (create-only);
 * - `undefined` or '*': unconditional (last writer wins).
 */
export type ExpectedVersion = string | null | undefined;

/** Key/value documents with optimistic concurrency (dialog and conversation state, de-duplication markers). */
export interface StateStore {
  read(keys: readonly string[]): Promise<Map<string, VersionedItem>>;
  /** Writes one item; returns the new version. Throws ConflictError when `expected` does not hold. */
  write(key: string, value: JsonObject, expected?: ExpectedVersion): Promise<string>;
  /** Deletes items; missing keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Deletes at most `limit` items whose key starts with `prefix` and that were last written before `updatedBefore`
   * (e.g. activity de-duplication markers once Teams can no longer re-send); returns how many.
   */
  deleteStale(prefix: string, updatedBefore: Date, limit: number): Promise<number>;
}

export interface StateRow {
  key: string;
  value: JsonColumn;
  version: string;
}

export const STATE_SPEC: TableSpec = {
  table: 'state_items',
  key: ['key'],
  tenantColumn: null,
  text: [],
  json: ['value'],
  subject: ['key'],
  version: 'token',
};

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
