/**
 * SQLite implementation of the store port (embedded, the default).
 *
 * better-sqlite3 is synchronous: every method runs its statements to completion inside one call, so a
 * conditional write is always a single statement or a single transaction and never spans an `await`.
 * Several processes (or several connections in one process) may open the same file: WAL lets readers
 * and the writer proceed together, `busy_timeout` makes a writer wait for the lock instead of failing,
 * and compare-and-set is done by the statements themselves (`WHERE version = ?`, `ON CONFLICT DO NOTHING`).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations } from './migrations';
import {
  AuditEntry,
  AuditLog,
  AuditQuery,
  ConflictError,
  ConversationStore,
  ExpectedVersion,
  JsonObject,
  NewOperation,
  OperationPatch,
  OperationRecord,
  OperationStatus,
  OperationStore,
  StateStore,
  StepRecord,
  Store,
  VersionedItem,
} from './store';

export interface SqliteStoreOptions {
  /** Time source for writes that take no `now` (state items, lease release). Defaults to the system clock. */
  clock?: () => Date;
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_AUDIT_LIMIT = 100;
const STATUSES: readonly OperationStatus[] = ['pending', 'running', 'succeeded', 'failed'];

/**
 * Opens (creating if needed) the store at `path`, or an in-memory store for `':memory:'`.
 * Creates the parent folder and applies pending schema migrations. Throws when the file's schema is newer
 * than this code knows.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    mkdirSync(dirname(resolve(path)), { recursive: true });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    if (!inMemory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') {
        throw new Error(`Could not switch '${path}' to WAL journal mode (got '${String(mode)}')`);
      }
    }
    // WAL with FULL syncs every commit: a recorded step survives a power cut, not only a process crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    applyMigrations(db);
    return new SqliteStore(db, options.clock ?? (() => new Date()));
  } catch (err) {
    db.close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// JSON helpers

/** Serializes `value` as JSON text; rejects what JSON cannot hold (BigInt, cycles, non-objects). */
function jsonObjectText(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be a JSON object`);
  }
  return jsonText(value, what);
}

function jsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what} cannot be serialized as JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof text !== 'string') {
    throw new TypeError(`${what} cannot be serialized as JSON`);
  }
  return text;
}

function parseObject(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

function parseNullableObject(text: string | null): JsonObject | null {
  return text === null ? null : parseObject(text);
}

function checkDate(now: Date, what = 'now'): Date {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new TypeError(`${what} must be a valid Date`);
  }
  return now;
}

function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Rows

interface StateRow {
  key: string;
  value: string;
  version: string;
}

interface OperationRow {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  status: OperationStatus;
  input: string;
  steps: string;
  result: string | null;
  reply_to: string | null;
  attempts: number;
  version: number;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  created_at: string;
  updated_at: string;
}

function toRecord(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    actorId: row.actor_id,
    status: row.status,
    input: parseObject(row.input),
    steps: JSON.parse(row.steps) as Record<string, StepRecord>,
    result: parseNullableObject(row.result),
    replyTo: parseNullableObject(row.reply_to),
    attempts: row.attempts,
    version: row.version,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_ms === null ? null : new Date(row.lease_expires_ms).toISOString(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type AuditRow = AuditParams & { seq: number };

/** Optional audit fields and their columns. */
const AUDIT_OPTIONAL = [
  ['actorName', 'actor_name'],
  ['appId', 'app_id'],
  ['appName', 'app_name'],
  ['groupId', 'group_id'],
  ['groupName', 'group_name'],
  ['guestEmail', 'guest_email'],
  ['guestId', 'guest_id'],
  ['detail', 'detail'],
  ['graphRequestId', 'graph_request_id'],
  ['activityId', 'activity_id'],
  ['operationId', 'operation_id'],
] as const satisfies readonly (readonly [keyof AuditEntry, keyof AuditRow])[];

function toAuditEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    seq: row.seq,
    time: row.time,
    tenantId: row.tenant_id,
    actorId: row.actor_id,
    action: row.action,
    outcome: row.outcome,
  };
  for (const [field, column] of AUDIT_OPTIONAL) {
    const v = row[column];
    if (v !== null) {
      entry[field] = v;
    }
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------------------
// The store

class SqliteStore implements Store {
  readonly state: StateStore;
  readonly audit: AuditLog;
  readonly operations: OperationStore;
  readonly conversations: ConversationStore;
  private closed = false;
  private readonly pingStmt: Database.Statement<[], unknown>;

  constructor(
    private readonly db: Database.Database,
    clock: () => Date,
  ) {
    const guard = (): void => this.ensureOpen();
    this.state = new SqliteStateStore(db, clock, guard);
    this.audit = new SqliteAuditLog(db, guard);
    this.operations = new SqliteOperationStore(db, clock, guard);
    this.conversations = new SqliteConversationStore(db, guard);
    this.pingStmt = db.prepare('SELECT 1');
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    this.pingStmt.get();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new Error('The store is closed');
    }
  }
}

type Guard = () => void;

class SqliteStateStore implements StateStore {
  private readonly readStmt: Database.Statement<[string], StateRow>;
  private readonly upsertStmt: Database.Statement<[string, string, string, string]>;
  private readonly insertStmt: Database.Statement<[string, string, string, string]>;
  private readonly updateStmt: Database.Statement<[string, string, string, string, string]>;
  private readonly deleteStmt: Database.Statement<[string]>;

  constructor(
    db: Database.Database,
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
  }

  async read(keys: readonly string[]): Promise<Map<string, VersionedItem>> {
    this.guard();
    const result = new Map<string, VersionedItem>();
    if (keys.length === 0) {
      return result;
    }
    for (const key of keys) {
      checkKey(key);
    }
    for (const row of this.readStmt.all(JSON.stringify(keys))) {
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
    for (const key of keys) {
      checkKey(key);
    }
    this.deleteStmt.run(JSON.stringify(keys));
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new TypeError('State keys must be strings');
  }
}

interface AuditParams {
  time: string;
  tenant_id: string;
  actor_id: string;
  action: string;
  outcome: string;
  actor_name: string | null;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  guest_email: string | null;
  guest_id: string | null;
  detail: string | null;
  graph_request_id: string | null;
  activity_id: string | null;
  operation_id: string | null;
}

const AUDIT_FILTERS = [
  ['tenantId', 'tenant_id'],
  ['actorId', 'actor_id'],
  ['action', 'action'],
  ['operationId', 'operation_id'],
] as const satisfies readonly (readonly [keyof AuditQuery, string])[];

class SqliteAuditLog implements AuditLog {
  private readonly insertStmt: Database.Statement<[AuditParams]>;
  private readonly listStmts = new Map<number, Database.Statement<unknown[], AuditRow>>();

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO audit_log (time, tenant_id, actor_id, actor_name, action, outcome, app_id, app_name,
         group_id, group_name, guest_email, guest_id, detail, graph_request_id, activity_id, operation_id)
       VALUES (@time, @tenant_id, @actor_id, @actor_name, @action, @outcome, @app_id, @app_name,
         @group_id, @group_name, @guest_email, @guest_id, @detail, @graph_request_id, @activity_id, @operation_id)`,
    );
  }

  async append(entry: AuditEntry): Promise<number> {
    this.guard();
    const optional = (field: (typeof AUDIT_OPTIONAL)[number][0]): string | null => {
      const v = entry[field];
      if (v === undefined || v === null) {
        return null;
      }
      if (typeof v !== 'string') {
        throw new TypeError(`Audit field '${field}' must be a string`);
      }
      return v;
    };
    const params: AuditParams = {
      time: checkString(entry.time, 'Audit field time'),
      tenant_id: checkString(entry.tenantId, 'Audit field tenantId'),
      actor_id: checkString(entry.actorId, 'Audit field actorId'),
      action: checkString(entry.action, 'Audit field action'),
      outcome: checkString(entry.outcome, 'Audit field outcome'),
      actor_name: optional('actorName'),
      app_id: optional('appId'),
      app_name: optional('appName'),
      group_id: optional('groupId'),
      group_name: optional('groupName'),
      guest_email: optional('guestEmail'),
      guest_id: optional('guestId'),
      detail: optional('detail'),
      graph_request_id: optional('graphRequestId'),
      activity_id: optional('activityId'),
      operation_id: optional('operationId'),
    };
    return Number(this.insertStmt.run(params).lastInsertRowid);
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    this.guard();
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError('Audit query limit must be a positive integer');
    }
    let mask = 0;
    const params: unknown[] = [];
    AUDIT_FILTERS.forEach(([field], i) => {
      const v = query[field];
      if (v !== undefined) {
        mask |= 1 << i;
        params.push(v);
      }
    });
    params.push(limit);
    return this.listStatement(mask).all(...params).map(toAuditEntry);
  }

  /** One prepared statement per filter combination, so each can use its index. */
  private listStatement(mask: number): Database.Statement<unknown[], AuditRow> {
    let stmt = this.listStmts.get(mask);
    if (!stmt) {
      const where = AUDIT_FILTERS.filter((_, i) => mask & (1 << i)).map(([, column]) => `${column} = ?`);
      stmt = this.db.prepare<unknown[], AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`,
      );
      this.listStmts.set(mask, stmt);
    }
    return stmt;
  }
}

interface CreateParams {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  input: string;
  reply_to: string | null;
  now: string;
}

interface UpdateParams {
  id: string;
  expected: number;
  set_status: number;
  status: string | null;
  set_steps: number;
  steps: string | null;
  set_result: number;
  result: string | null;
  set_reply_to: number;
  reply_to: string | null;
  set_attempts: number;
  attempts: number | null;
  now: string;
}

interface LeaseParams {
  id: string;
  owner: string;
  now_ms: number;
  expires_ms: number;
  now: string;
}

class SqliteOperationStore implements OperationStore {
  private readonly insertStmt: Database.Statement<[CreateParams]>;
  private readonly getStmt: Database.Statement<[string], OperationRow>;
  private readonly updateStmt: Database.Statement<[UpdateParams], OperationRow>;
  private readonly leaseStmt: Database.Statement<[LeaseParams], OperationRow>;
  private readonly releaseStmt: Database.Statement<[string, string, string]>;
  private readonly unfinishedStmt: Database.Statement<[number], OperationRow>;
  private readonly createTx: (params: CreateParams) => { created: boolean; row: OperationRow };

  constructor(
    db: Database.Database,
    private readonly clock: () => Date,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO operations (id, kind, tenant_id, actor_id, status, input, steps, result, reply_to, attempts,
         version, lease_owner, lease_expires_ms, created_at, updated_at)
       VALUES (@id, @kind, @tenant_id, @actor_id, 'pending', @input, '{}', NULL, @reply_to, 0,
         1, NULL, NULL, @now, @now)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.getStmt = db.prepare('SELECT * FROM operations WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE operations SET
         status = CASE WHEN @set_status THEN @status ELSE status END,
         steps = CASE WHEN @set_steps THEN @steps ELSE steps END,
         result = CASE WHEN @set_result THEN @result ELSE result END,
         reply_to = CASE WHEN @set_reply_to THEN @reply_to ELSE reply_to END,
         attempts = CASE WHEN @set_attempts THEN @attempts ELSE attempts END,
         version = version + 1,
         updated_at = @now
       WHERE id = @id AND version = @expected
       RETURNING *`,
    );
    this.leaseStmt = db.prepare(
      `UPDATE operations SET
         lease_owner = @owner,
         lease_expires_ms = @expires_ms,
         version = version + 1,
         updated_at = @now
       WHERE id = @id
         AND status IN ('pending', 'running')
         AND (lease_owner IS NULL OR lease_owner = @owner OR lease_expires_ms IS NULL OR lease_expires_ms <= @now_ms)
       RETURNING *`,
    );
    this.releaseStmt = db.prepare(
      `UPDATE operations SET lease_owner = NULL, lease_expires_ms = NULL, version = version + 1, updated_at = ?
       WHERE id = ? AND lease_owner = ?`,
    );
    this.unfinishedStmt = db.prepare(
      `SELECT * FROM operations WHERE status IN ('pending', 'running') ORDER BY created_at, rowid LIMIT ?`,
    );
    const tx = db.transaction((params: CreateParams) => {
      const created = this.insertStmt.run(params).changes === 1;
      const row = this.getStmt.get(params.id);
      if (!row) {
        throw new Error(`Operation '${params.id}' vanished while being created`);
      }
      return { created, row };
    });
    this.createTx = (params) => tx.immediate(params);
  }

  async create(op: NewOperation, now: Date): Promise<{ created: boolean; record: OperationRecord }> {
    this.guard();
    const params: CreateParams = {
      id: checkString(op.id, 'Operation id'),
      kind: checkString(op.kind, 'Operation kind'),
      tenant_id: checkString(op.tenantId, 'Operation tenantId'),
      actor_id: checkString(op.actorId, 'Operation actorId'),
      input: jsonObjectText(op.input, 'Operation input'),
      reply_to: op.replyTo == null ? null : jsonObjectText(op.replyTo, 'Operation replyTo'),
      now: checkDate(now).toISOString(),
    };
    const { created, row } = this.createTx(params);
    return { created, record: toRecord(row) };
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(id);
    return row ? toRecord(row) : undefined;
  }

  async update(id: string, expectedVersion: number, patch: OperationPatch, now: Date): Promise<OperationRecord> {
    this.guard();
    if (!Number.isInteger(expectedVersion)) {
      throw new TypeError('expectedVersion must be an integer');
    }
    if (patch.status !== undefined && !STATUSES.includes(patch.status)) {
      throw new TypeError(`Unknown operation status '${String(patch.status)}'`);
    }
    if (patch.attempts !== undefined && (!Number.isInteger(patch.attempts) || patch.attempts < 0)) {
      throw new TypeError('attempts must be a non-negative integer');
    }
    const params: UpdateParams = {
      id,
      expected: expectedVersion,
      set_status: patch.status !== undefined ? 1 : 0,
      status: patch.status ?? null,
      set_steps: patch.steps !== undefined ? 1 : 0,
      steps: patch.steps !== undefined ? jsonObjectText(patch.steps, 'Operation steps') : null,
      set_result: patch.result !== undefined ? 1 : 0,
      result: patch.result == null ? null : jsonObjectText(patch.result, 'Operation result'),
      set_reply_to: patch.replyTo !== undefined ? 1 : 0,
      reply_to: patch.replyTo == null ? null : jsonObjectText(patch.replyTo, 'Operation replyTo'),
      set_attempts: patch.attempts !== undefined ? 1 : 0,
      attempts: patch.attempts ?? null,
      now: checkDate(now).toISOString(),
    };
    const row = this.updateStmt.get(params);
    if (!row) {
      const current = this.getStmt.get(id);
      throw new ConflictError(
        id,
        current
          ? `Operation '${id}' is at version ${current.version}, not ${expectedVersion}`
          : `Operation '${id}' does not exist`,
      );
    }
    return toRecord(row);
  }

  async acquireLease(id: string, owner: string, ttlMs: number, now: Date): Promise<OperationRecord | undefined> {
    this.guard();
    checkString(owner, 'Lease owner');
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError('Lease ttlMs must be a positive number');
    }
    const nowMs = checkDate(now).getTime();
    const row = this.leaseStmt.get({
      id,
      owner,
      now_ms: nowMs,
      expires_ms: nowMs + Math.ceil(ttlMs),
      now: now.toISOString(),
    });
    return row ? toRecord(row) : undefined;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    this.guard();
    this.releaseStmt.run(checkDate(this.clock(), 'clock()').toISOString(), id, owner);
  }

  async listUnfinished(limit: number): Promise<OperationRecord[]> {
    this.guard();
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError('limit must be a positive integer');
    }
    return this.unfinishedStmt.all(limit).map(toRecord);
  }
}

class SqliteConversationStore implements ConversationStore {
  private readonly upsertStmt: Database.Statement<[string, string, string, string, string]>;
  private readonly getStmt: Database.Statement<[string, string], { reference: string }>;
  private readonly deleteStmt: Database.Statement<[string, string]>;

  constructor(
    db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.upsertStmt = db.prepare(
      `INSERT INTO conversation_refs (tenant_id, user_id, reference, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET reference = excluded.reference, updated_at = excluded.updated_at`,
    );
    this.getStmt = db.prepare('SELECT reference FROM conversation_refs WHERE tenant_id = ? AND user_id = ?');
    this.deleteStmt = db.prepare('DELETE FROM conversation_refs WHERE tenant_id = ? AND user_id = ?');
  }

  async upsert(tenantId: string, userId: string, reference: JsonObject, now: Date): Promise<void> {
    this.guard();
    const at = checkDate(now).toISOString();
    this.upsertStmt.run(
      checkString(tenantId, 'tenantId'),
      checkString(userId, 'userId'),
      jsonObjectText(reference, 'Conversation reference'),
      at,
      at,
    );
  }

  async get(tenantId: string, userId: string): Promise<JsonObject | undefined> {
    this.guard();
    const row = this.getStmt.get(tenantId, userId);
    return row ? parseObject(row.reference) : undefined;
  }

  async delete(tenantId: string, userId: string): Promise<void> {
    this.guard();
    this.deleteStmt.run(tenantId, userId);
  }
}
