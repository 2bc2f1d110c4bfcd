/** PostgreSQL: key/value state items with optimistic concurrency (dialog and conversation state, markers, counters). */
import { randomUUID } from 'node:crypto';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  STATE_RETENTION,
  STATE_SPEC,
  type ExpectedVersion,
  type StateRow,
  type StateStore,
  type VersionedItem,
} from '../records/state';
import { ConflictError, type JsonObject } from '../store';
import { checkDate, checkKey, checkKeys, checkLimit, jsonObjectText, parseObject, type Guard } from '../values';
import { queryRows, type Queryable } from './sql';
import { eraseTable } from './erase';

export class PostgresStateStore implements StateStore, RecordModule {
  constructor(
    private readonly db: Queryable,
    private readonly clock: () => Date,
    private readonly guard: Guard,
  ) {}

  async read(keys: readonly string[]): Promise<Map<string, VersionedItem>> {
    this.guard();
    const result = new Map<string, VersionedItem>();
    if (keys.length === 0) {
      return result;
    }
    const rows = await queryRows<StateRow>(
      this.db,
      'SELECT key, value, version FROM state_items WHERE key = ANY($1::text[])',
      [[...checkKeys(keys)]],
    );
    for (const row of rows) {
      result.set(row.key, { key: row.key, value: parseObject(row.value), version: row.version });
    }
    return result;
  }

  async write(key: string, value: JsonObject, expected?: ExpectedVersion): Promise<string> {
    this.guard();
    checkKey(key);
    const text = jsonObjectText(value, `State item '${key}'`);
    const version = randomUUID();
    const now = checkDate(this.clock(), 'clock()').toISOString();
    if (expected === undefined || expected === '*') {
      await this.db.query(
        `INSERT INTO state_items (key, value, version, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version,
         updated_at = EXCLUDED.updated_at`,
        [key, text, version, now],
      );
    } else if (expected === null) {
      const { rowCount } = await this.db.query(
        `INSERT INTO state_items (key, value, version, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
        [key, text, version, now],
      );
      if (rowCount !== 1) {
        throw new ConflictError(key, `State item '${key}' already exists`);
      }
    } else if (typeof expected === 'string') {
      const { rowCount } = await this.db.query(
        'UPDATE state_items SET value = $1, version = $2, updated_at = $3 WHERE key = $4 AND version = $5',
        [text, version, now, key, expected],
      );
      if (rowCount !== 1) {
        throw new ConflictError(key, `State item '${key}' is not at version '${expected}'`);
      }
    } else {
      throw new TypeError('expected version must be a string, null or undefined');
    }
    return version;
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.guard();
    if (keys.length === 0) {
      return;
    }
    await this.db.query('DELETE FROM state_items WHERE key = ANY($1::text[])', [[...checkKeys(keys)]]);
  }

  async deleteStale(prefix: string, updatedBefore: Date, limit: number): Promise<number> {
    this.guard();
    checkKey(prefix);
    // Keys are COLLATE "C": the range is a primary-key range scan.
    const result = await this.db.query(
      `DELETE FROM state_items WHERE key IN (
         SELECT key FROM state_items WHERE key >= $1 AND key < $2 AND updated_at < $3 ORDER BY key LIMIT $4)`,
      [prefix, `${prefix}\uffff`, checkDate(updatedBefore).toISOString(), checkLimit(limit)],
    );
    return result.rowCount ?? 0;
  }

  readonly tables = ['state_items'];

  /** Deletes the items whose key names the person (their dialog state, limits) and scrubs the others. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { state_items: await eraseTable(this.db, STATE_SPEC, subject) };
  }

  /** Dialog state of abandoned flows, rate and resend keys, review views and alert cards past their retention. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    let pruned = 0;
    for (const [prefix, kind] of STATE_RETENTION) pruned += await this.deleteStale(prefix, cutoffs[kind], limit);
    return { state_items: pruned };
  }
}
