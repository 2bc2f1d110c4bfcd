/** SQLite: key/value state items with optimistic concurrency (dialog and conversation state, markers, counters). */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
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
import { eraseTable } from './erase';

export class SqliteStateStore implements StateStore, RecordModule {
  private readonly readStmt: Database.Statement<[string], StateRow>;
  private readonly upsertStmt: Database.Statement<[string, string, string, string]>;
  private readonly insertStmt: Database.Statement<[string, string, string, string]>;
  private readonly updateStmt: Database.Statement<[string, string, string, string, string]>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly deleteStaleStmt: Database.Statement<[string, string, string, number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => Date,
    private readonly guard: Guard,
  ) {
    this.readStmt = db.prepare(
      'SELECT key, value, version FROM state_items WHERE key IN (SELECT value FROM json_each(?))',
    );
    this.upsertStmt = db.prepare(
      `INSERT INTO state_items (key, value, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version,
         updated_at = excluded.updated_at`,
    );
    this.insertStmt = db.prepare(
      `INSERT INTO state_items (key, value, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO NOTHING`,
    );
    this.updateStmt = db.prepare(
      'UPDATE state_items SET value = ?, version = ?, updated_at = ? WHERE key = ? AND version = ?',
    );
    this.deleteStmt = db.prepare('DELETE FROM state_items WHERE key IN (SELECT value FROM json_each(?))');
    // A key range on the primary key (prefix ≤ key < prefix + U+FFFF), so it reads only that prefix's items.
    this.deleteStaleStmt = db.prepare(
      `DELETE FROM state_items WHERE key IN (
         SELECT key FROM state_items WHERE key >= ? AND key < ? AND updated_at < ? ORDER BY key LIMIT ?)`,
    );
  }

  async read(keys: readonly string[]): Promise<Map<string, VersionedItem>> {
    this.guard();
    const result = new Map<string, VersionedItem>();
    if (keys.length === 0) {
      return result;
    }
    for (const row of this.readStmt.all(JSON.stringify(checkKeys(keys)))) {
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
      this.upsertStmt.run(key, text, version, now);
    } else if (expected === null) {
      if (this.insertStmt.run(key, text, version, now).changes !== 1) {
        throw new ConflictError(key, `State item '${key}' already exists`);
      }
    } else if (typeof expected === 'string') {
      if (this.updateStmt.run(text, version, now, key, expected).changes !== 1) {
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
    this.deleteStmt.run(JSON.stringify(checkKeys(keys)));
  }

  async deleteStale(prefix: string, updatedBefore: Date, limit: number): Promise<number> {
    this.guard();
    checkKey(prefix);
    return this.deleteStaleStmt.run(
      prefix,
      `${prefix}\uffff`,
      checkDate(updatedBefore).toISOString(),
      checkLimit(limit),
    ).changes;
  }

  readonly tables = ['state_items'];

  /** Deletes the items whose key names the person (their dialog state, limits) and scrubs the others. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { state_items: this.db.transaction(() => eraseTable(this.db, STATE_SPEC, subject)).immediate() };
  }

  /** Dialog state of abandoned flows, rate and resend keys, review views and alert cards past their retention. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    let pruned = 0;
    for (const [prefix, kind] of STATE_RETENTION) pruned += await this.deleteStale(prefix, cutoffs[kind], limit);
    return { state_items: pruned };
  }
}
