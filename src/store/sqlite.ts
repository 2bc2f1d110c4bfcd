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
  AccessRequestPatch,
  AccessRequestRecord,
  AccessRequestState,
  AccessRequestStore,
  AlertOccurrence,
  AlertPatch,
  AlertRecord,
  AlertState,
  AlertStore,
  AuditEntry,
  AuditLog,
  AuditQuery,
  ConflictError,
  ConversationStore,
  DuplicateRequestError,
  ExpectedVersion,
  JsonObject,
  NewAccessRequest,
  NewOperation,
  OperationPatch,
  OperationRecord,
  OperationStatus,
  OperationStore,
  OwnerCard,
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
const REQUEST_STATES: readonly AccessRequestState[] = ['pending', 'approved', 'denied', 'withdrawn', 'expired'];
const ALERT_STATES: readonly AlertState[] = ['open', 'acknowledged', 'resolved'];

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

/** A string that may be empty (display names, free text). */
function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string`);
  }
  return value;
}

function checkNullableText(value: unknown, what: string): string | null {
  return value === null ? null : checkText(value, what);
}

function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new TypeError('limit must be a positive integer');
  }
  return limit;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

// ---------------------------------------------------------------------------------------------------------
// Rows

interface StateRow {
  key: string;
  value: string;
  version: string;
}

export interface OperationRow {
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

export function toRecord(row: OperationRow): OperationRecord {
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

interface AccessRequestRow {
  id: string;
  tenant_id: string;
  requester_id: string;
  requester_name: string;
  app_id: string;
  app_name: string;
  group_id: string;
  group_name: string;
  justification: string;
  state: AccessRequestState;
  owner_ids: string;
  owner_cards: string;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: string | null;
  comment: string | null;
  outcome: string | null;
  reminded_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

function toAccessRequest(row: AccessRequestRow): AccessRequestRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    requesterId: row.requester_id,
    requesterName: row.requester_name,
    appId: row.app_id,
    appName: row.app_name,
    groupId: row.group_id,
    groupName: row.group_name,
    justification: row.justification,
    state: row.state,
    ownerIds: JSON.parse(row.owner_ids) as string[],
    ownerCards: JSON.parse(row.owner_cards) as OwnerCard[],
    decidedBy: row.decided_by,
    decidedByName: row.decided_by_name,
    decidedAt: row.decided_at,
    comment: row.comment,
    outcome: parseNullableObject(row.outcome),
    remindedAt: row.reminded_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface AlertRow {
  tenant_id: string;
  key: string;
  kind: string;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  summary: string;
  fix: string;
  state: AlertState;
  count: number;
  count_since_alert: number;
  last_blocked: string | null;
  first_seen: string;
  last_seen: string;
  last_alerted_at: string | null;
  pending_delivery: number;
  acknowledged_by: string | null;
  resolved_at: string | null;
  version: number;
  updated_at: string;
}

export function toAlert(row: AlertRow): AlertRecord {
  return {
    tenantId: row.tenant_id,
    key: row.key,
    kind: row.kind,
    appId: row.app_id,
    appName: row.app_name,
    groupId: row.group_id,
    groupName: row.group_name,
    summary: row.summary,
    fix: JSON.parse(row.fix) as string[],
    state: row.state,
    count: row.count,
    countSinceAlert: row.count_since_alert,
    lastBlocked: parseNullableObject(row.last_blocked),
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lastAlertedAt: row.last_alerted_at,
    pendingDelivery: row.pending_delivery === 1,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at,
    version: row.version,
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
  readonly requests: AccessRequestStore;
  readonly alerts: AlertStore;
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
    this.requests = new SqliteAccessRequestStore(db, guard);
    this.alerts = new SqliteAlertStore(db, guard);
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
  private readonly failedStmt: Database.Statement<[string, number, number], OperationRow>;
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
    this.failedStmt = db.prepare(
      `SELECT * FROM operations WHERE status = 'failed' AND updated_at <= ? AND attempts < ? ORDER BY updated_at, rowid LIMIT ?`,
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

  async listFailed(updatedBefore: Date, maxAttempts: number, limit: number): Promise<OperationRecord[]> {
    this.guard();
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TypeError('limit must be a positive integer');
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 0) {
      throw new TypeError('maxAttempts must be a non-negative integer');
    }
    return this.failedStmt.all(checkDate(updatedBefore).toISOString(), maxAttempts, limit).map(toRecord);
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

interface RequestCreateParams {
  id: string;
  tenant_id: string;
  requester_id: string;
  requester_name: string;
  app_id: string;
  app_name: string;
  group_id: string;
  group_name: string;
  justification: string;
  owner_ids: string;
  now: string;
}

/** Columns an AccessRequestPatch may change, with their fields. */
const REQUEST_PATCH = [
  ['state', 'state'],
  ['ownerCards', 'owner_cards'],
  ['decidedBy', 'decided_by'],
  ['decidedByName', 'decided_by_name'],
  ['decidedAt', 'decided_at'],
  ['comment', 'comment'],
  ['outcome', 'outcome'],
  ['remindedAt', 'reminded_at'],
] as const satisfies readonly (readonly [keyof AccessRequestPatch, keyof AccessRequestRow])[];

type RequestPatchColumn = (typeof REQUEST_PATCH)[number][1];

/** `set_<column>` is 1 when the patch carries the field (null included), 0 to keep the stored value. */
type RequestUpdateParams = { id: string; expected: number; now: string } & {
  [C in RequestPatchColumn]: string | null;
} & { [C in RequestPatchColumn as `set_${C}`]: number };

interface SlotParams {
  tenant_id: string;
  requester_id: string;
  group_id: string;
}

function slotOf(row: SlotParams): SlotParams {
  return { tenant_id: row.tenant_id, requester_id: row.requester_id, group_id: row.group_id };
}

class SqliteAccessRequestStore implements AccessRequestStore {
  private readonly insertStmt: Database.Statement<[RequestCreateParams], AccessRequestRow>;
  private readonly insertOwnersStmt: Database.Statement<[string, string]>;
  private readonly pendingInSlotStmt: Database.Statement<[SlotParams], { id: string }>;
  private readonly getStmt: Database.Statement<[string], AccessRequestRow>;
  private readonly updateStmt: Database.Statement<[RequestUpdateParams], AccessRequestRow>;
  private readonly byRequesterStmt: Database.Statement<[string, string, number], AccessRequestRow>;
  private readonly pendingForOwnerStmt: Database.Statement<[string, string, number], AccessRequestRow>;
  private readonly pendingBeforeStmt: Database.Statement<[string, number], AccessRequestRow>;
  private readonly createTx: (params: RequestCreateParams) => AccessRequestRow;

  constructor(
    db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO access_requests (id, tenant_id, requester_id, requester_name, app_id, app_name, group_id,
         group_name, justification, state, owner_ids, owner_cards, decided_by, decided_by_name, decided_at, comment,
         outcome, reminded_at, version, created_at, updated_at)
       VALUES (@id, @tenant_id, @requester_id, @requester_name, @app_id, @app_name, @group_id,
         @group_name, @justification, 'pending', @owner_ids, '[]', NULL, NULL, NULL, NULL,
         NULL, NULL, 1, @now, @now)
       RETURNING *`,
    );
    this.insertOwnersStmt = db.prepare(
      `INSERT INTO access_request_owners (request_id, owner_id)
       SELECT DISTINCT ?, value FROM json_each(?)`,
    );
    this.pendingInSlotStmt = db.prepare(
      `SELECT id FROM access_requests
       WHERE tenant_id = @tenant_id AND requester_id = @requester_id AND group_id = @group_id AND state = 'pending'`,
    );
    this.getStmt = db.prepare('SELECT * FROM access_requests WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE access_requests SET
         ${REQUEST_PATCH.map(([, c]) => `${c} = CASE WHEN @set_${c} THEN @${c} ELSE ${c} END,`).join('\n         ')}
         version = version + 1,
         updated_at = @now
       WHERE id = @id AND version = @expected
       RETURNING *`,
    );
    this.byRequesterStmt = db.prepare(
      `SELECT * FROM access_requests WHERE tenant_id = ? AND requester_id = ?
       ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    );
    // CROSS JOIN keeps this join order in SQLite: the owner's rows by index, then each request by its key
    // (otherwise the planner may walk every pending request of the tenant).
    this.pendingForOwnerStmt = db.prepare(
      `SELECT r.* FROM access_request_owners o CROSS JOIN access_requests r ON r.id = o.request_id
       WHERE o.owner_id = ? AND r.tenant_id = ? AND r.state = 'pending'
       ORDER BY r.created_at, r.rowid LIMIT ?`,
    );
    this.pendingBeforeStmt = db.prepare(
      `SELECT * FROM access_requests WHERE state = 'pending' AND created_at <= ?
       ORDER BY created_at, rowid LIMIT ?`,
    );
    const tx = db.transaction((params: RequestCreateParams) => {
      let row: AccessRequestRow | undefined;
      try {
        row = this.insertStmt.get(params);
      } catch (err) {
        // The write lock is held, so the pending request that blocked the insert is still there.
        const existing = isUniqueViolation(err) ? this.pendingInSlotStmt.get(slotOf(params)) : undefined;
        if (existing) {
          throw new DuplicateRequestError(existing.id);
        }
        throw err;
      }
      if (!row) {
        throw new Error(`Access request '${params.id}' was not stored`);
      }
      this.insertOwnersStmt.run(params.id, params.owner_ids);
      return row;
    });
    this.createTx = (params) => tx.immediate(params);
  }

  async create(request: NewAccessRequest, now: Date): Promise<AccessRequestRecord> {
    this.guard();
    if (!Array.isArray(request.ownerIds)) {
      throw new TypeError('Access request ownerIds must be an array');
    }
    request.ownerIds.forEach((ownerId, i) => checkString(ownerId, `Access request ownerIds[${i}]`));
    const params: RequestCreateParams = {
      id: checkString(request.id, 'Access request id'),
      tenant_id: checkString(request.tenantId, 'Access request tenantId'),
      requester_id: checkString(request.requesterId, 'Access request requesterId'),
      requester_name: checkText(request.requesterName, 'Access request requesterName'),
      app_id: checkString(request.appId, 'Access request appId'),
      app_name: checkText(request.appName, 'Access request appName'),
      group_id: checkString(request.groupId, 'Access request groupId'),
      group_name: checkText(request.groupName, 'Access request groupName'),
      justification: checkText(request.justification, 'Access request justification'),
      owner_ids: jsonText(request.ownerIds, 'Access request ownerIds'),
      now: checkDate(now).toISOString(),
    };
    return toAccessRequest(this.createTx(params));
  }

  async get(id: string): Promise<AccessRequestRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(id);
    return row ? toAccessRequest(row) : undefined;
  }

  async update(
    id: string,
    expectedVersion: number,
    patch: AccessRequestPatch,
    now: Date,
  ): Promise<AccessRequestRecord> {
    this.guard();
    if (!Number.isInteger(expectedVersion)) {
      throw new TypeError('expectedVersion must be an integer');
    }
    const params = { id, expected: expectedVersion, now: checkDate(now).toISOString() } as RequestUpdateParams;
    for (const [field, column] of REQUEST_PATCH) {
      const value = patch[field];
      params[`set_${column}`] = value === undefined ? 0 : 1;
      params[column] = value === undefined ? null : requestColumnValue(field, value);
    }
    let row: AccessRequestRow | undefined;
    try {
      row = this.updateStmt.get(params);
    } catch (err) {
      // Only a return to 'pending' can collide with the one-pending-request rule.
      const current = isUniqueViolation(err) ? this.getStmt.get(id) : undefined;
      const existing = current ? this.pendingInSlotStmt.get(slotOf(current)) : undefined;
      if (existing && existing.id !== id) {
        throw new DuplicateRequestError(existing.id);
      }
      throw err;
    }
    if (!row) {
      const current = this.getStmt.get(id);
      throw new ConflictError(
        id,
        current
          ? `Access request '${id}' is at version ${current.version}, not ${expectedVersion}`
          : `Access request '${id}' does not exist`,
      );
    }
    return toAccessRequest(row);
  }

  async listByRequester(tenantId: string, requesterId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    return this.byRequesterStmt.all(tenantId, requesterId, checkLimit(limit)).map(toAccessRequest);
  }

  async listPendingForOwner(tenantId: string, ownerId: string, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    return this.pendingForOwnerStmt.all(ownerId, tenantId, checkLimit(limit)).map(toAccessRequest);
  }

  async listPendingCreatedBefore(createdBefore: Date, limit: number): Promise<AccessRequestRecord[]> {
    this.guard();
    const before = checkDate(createdBefore, 'createdBefore').toISOString();
    return this.pendingBeforeStmt.all(before, checkLimit(limit)).map(toAccessRequest);
  }
}

/** Checks one patch value and converts it to its column value (JSON text for ownerCards and outcome). */
function requestColumnValue(field: (typeof REQUEST_PATCH)[number][0], value: unknown): string | null {
  switch (field) {
    case 'state':
      if (!REQUEST_STATES.includes(value as AccessRequestState)) {
        throw new TypeError(`Unknown access request state '${String(value)}'`);
      }
      return value as AccessRequestState;
    case 'ownerCards':
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c))) {
        throw new TypeError('Access request ownerCards must be an array of objects');
      }
      return jsonText(value, 'Access request ownerCards');
    case 'outcome':
      return value === null ? null : jsonObjectText(value, 'Access request outcome');
    default:
      return checkNullableText(value, `Access request ${field}`);
  }
}

interface OccurrenceParams {
  tenant_id: string;
  key: string;
  kind: string;
  app_id: string | null;
  app_name: string | null;
  group_id: string | null;
  group_name: string | null;
  summary: string;
  fix: string;
  last_blocked: string | null;
  now: string;
}

/** Columns an AlertPatch may change, with their fields. */
const ALERT_PATCH = [
  ['state', 'state'],
  ['lastAlertedAt', 'last_alerted_at'],
  ['pendingDelivery', 'pending_delivery'],
  ['acknowledgedBy', 'acknowledged_by'],
  ['resolvedAt', 'resolved_at'],
  ['countSinceAlert', 'count_since_alert'],
] as const satisfies readonly (readonly [keyof AlertPatch, keyof AlertRow])[];

type AlertPatchColumn = (typeof ALERT_PATCH)[number][1];

/** `set_<column>` is 1 when the patch carries the field (null included), 0 to keep the stored value. */
type AlertUpdateParams = { tenant_id: string; key: string; expected: number; now: string } & {
  [C in AlertPatchColumn]: string | number | null;
} & { [C in AlertPatchColumn as `set_${C}`]: number };

class SqliteAlertStore implements AlertStore {
  private readonly occurrenceStmt: Database.Statement<[OccurrenceParams], AlertRow>;
  private readonly getStmt: Database.Statement<[string, string], AlertRow>;
  private readonly updateStmt: Database.Statement<[AlertUpdateParams], AlertRow>;
  private readonly listStmt: Database.Statement<[string, string, number], AlertRow>;
  private readonly pendingDeliveryStmt: Database.Statement<[number], AlertRow>;

  constructor(
    db: Database.Database,
    private readonly guard: Guard,
  ) {
    // One statement, so two processes recording the same problem at once cannot lose a count. In the
    // DO UPDATE branch every right-hand side reads the row as it was before this statement, so `state`
    // in the CASE expressions is the previous state.
    this.occurrenceStmt = db.prepare(
      `INSERT INTO alerts (tenant_id, key, kind, app_id, app_name, group_id, group_name, summary, fix, state, count,
         count_since_alert, last_blocked, first_seen, last_seen, last_alerted_at, pending_delivery, acknowledged_by,
         resolved_at, version, updated_at)
       VALUES (@tenant_id, @key, @kind, @app_id, @app_name, @group_id, @group_name, @summary, @fix, 'open', 1,
         1, @last_blocked, @now, @now, NULL, 0, NULL,
         NULL, 1, @now)
       ON CONFLICT (tenant_id, key) DO UPDATE SET
         kind = excluded.kind,
         app_id = excluded.app_id,
         app_name = excluded.app_name,
         group_id = excluded.group_id,
         group_name = excluded.group_name,
         summary = excluded.summary,
         fix = excluded.fix,
         last_blocked = COALESCE(excluded.last_blocked, last_blocked),
         count = count + 1,
         count_since_alert = count_since_alert + 1,
         last_seen = excluded.last_seen,
         state = CASE WHEN state = 'resolved' THEN 'open' ELSE state END,
         resolved_at = CASE WHEN state = 'resolved' THEN NULL ELSE resolved_at END,
         acknowledged_by = CASE WHEN state = 'resolved' THEN NULL ELSE acknowledged_by END,
         version = version + 1,
         updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.getStmt = db.prepare('SELECT * FROM alerts WHERE tenant_id = ? AND key = ?');
    this.updateStmt = db.prepare(
      `UPDATE alerts SET
         ${ALERT_PATCH.map(([, c]) => `${c} = CASE WHEN @set_${c} THEN @${c} ELSE ${c} END,`).join('\n         ')}
         version = version + 1,
         updated_at = @now
       WHERE tenant_id = @tenant_id AND key = @key AND version = @expected
       RETURNING *`,
    );
    this.listStmt = db.prepare(
      `SELECT * FROM alerts WHERE tenant_id = ? AND state IN (SELECT value FROM json_each(?))
       ORDER BY last_seen DESC, key LIMIT ?`,
    );
    this.pendingDeliveryStmt = db.prepare(
      `SELECT * FROM alerts WHERE pending_delivery = 1 ORDER BY last_seen, tenant_id, key LIMIT ?`,
    );
  }

  async recordOccurrence(occurrence: AlertOccurrence, now: Date): Promise<AlertRecord> {
    this.guard();
    if (!Array.isArray(occurrence.fix)) {
      throw new TypeError('Alert fix must be an array of strings');
    }
    occurrence.fix.forEach((step, i) => checkText(step, `Alert fix[${i}]`));
    const optional = (field: 'appId' | 'appName' | 'groupId' | 'groupName'): string | null => {
      const value = occurrence[field];
      return value === undefined ? null : checkNullableText(value, `Alert ${field}`);
    };
    const params: OccurrenceParams = {
      tenant_id: checkString(occurrence.tenantId, 'Alert tenantId'),
      key: checkString(occurrence.key, 'Alert key'),
      kind: checkString(occurrence.kind, 'Alert kind'),
      app_id: optional('appId'),
      app_name: optional('appName'),
      group_id: optional('groupId'),
      group_name: optional('groupName'),
      summary: checkText(occurrence.summary, 'Alert summary'),
      fix: jsonText(occurrence.fix, 'Alert fix'),
      last_blocked: occurrence.lastBlocked == null ? null : jsonObjectText(occurrence.lastBlocked, 'Alert lastBlocked'),
      now: checkDate(now).toISOString(),
    };
    const row = this.occurrenceStmt.get(params);
    if (!row) {
      throw new Error(`Alert '${params.key}' was not stored`);
    }
    return toAlert(row);
  }

  async get(tenantId: string, key: string): Promise<AlertRecord | undefined> {
    this.guard();
    const row = this.getStmt.get(tenantId, key);
    return row ? toAlert(row) : undefined;
  }

  async update(
    tenantId: string,
    key: string,
    expectedVersion: number,
    patch: AlertPatch,
    now: Date,
  ): Promise<AlertRecord> {
    this.guard();
    if (!Number.isInteger(expectedVersion)) {
      throw new TypeError('expectedVersion must be an integer');
    }
    const params = {
      tenant_id: tenantId,
      key,
      expected: expectedVersion,
      now: checkDate(now).toISOString(),
    } as AlertUpdateParams;
    for (const [field, column] of ALERT_PATCH) {
      const value = patch[field];
      params[`set_${column}`] = value === undefined ? 0 : 1;
      params[column] = value === undefined ? null : alertColumnValue(field, value);
    }
    const row = this.updateStmt.get(params);
    if (!row) {
      const current = this.getStmt.get(tenantId, key);
      throw new ConflictError(
        key,
        current
          ? `Alert '${key}' of tenant '${tenantId}' is at version ${current.version}, not ${expectedVersion}`
          : `Alert '${key}' of tenant '${tenantId}' does not exist`,
      );
    }
    return toAlert(row);
  }

  async list(tenantId: string, states: readonly AlertState[], limit: number): Promise<AlertRecord[]> {
    this.guard();
    if (!Array.isArray(states)) {
      throw new TypeError('Alert states must be an array');
    }
    states.forEach(checkAlertState);
    checkLimit(limit);
    if (states.length === 0) {
      return [];
    }
    return this.listStmt.all(tenantId, JSON.stringify(states), limit).map(toAlert);
  }

  async listPendingDelivery(limit: number): Promise<AlertRecord[]> {
    this.guard();
    return this.pendingDeliveryStmt.all(checkLimit(limit)).map(toAlert);
  }
}

function checkAlertState(value: unknown): AlertState {
  if (!ALERT_STATES.includes(value as AlertState)) {
    throw new TypeError(`Unknown alert state '${String(value)}'`);
  }
  return value as AlertState;
}

/** Checks one patch value and converts it to its column value (0 or 1 for pendingDelivery). */
function alertColumnValue(field: (typeof ALERT_PATCH)[number][0], value: unknown): string | number | null {
  switch (field) {
    case 'state':
      return checkAlertState(value);
    case 'pendingDelivery':
      if (typeof value !== 'boolean') {
        throw new TypeError('Alert pendingDelivery must be a boolean');
      }
      return value ? 1 : 0;
    case 'countSinceAlert':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new TypeError('Alert countSinceAlert must be a non-negative integer');
      }
      return value;
    default:
      return checkNullableText(value, `Alert ${field}`);
  }
}
