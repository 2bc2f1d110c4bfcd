/**
 * SQLite implementation of the store port (embedded, the default); one file per store beside this one.
 *
 * better-sqlite3 is synchronous: every method runs its statements to completion inside one call, so a
 * conditional write is always a single statement or a single transaction and never spans an `await`.
 * Several processes (or several connections in one process) may open the same file: WAL lets readers
 * and the writer proceed together, `busy_timeout` makes a writer wait for the lock instead of failing,
 * and compare-and-set is done by the statements themselves (`WHERE version = ?`, `ON CONFLICT DO NOTHING`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { RecordPrivacy } from '../erasure';
import type { OperationPatch } from '../records/operations';
import type { AccessRequestPatch } from '../records/requests';
import type { Store, VersionedPatch } from '../store';
import { SqliteAlertStore } from './alerts';
import { SqliteAuditLog } from './audit';
import { SqliteConversationStore } from './conversations';
import { SqliteGuestRecordStore } from './guests';
import { SqliteJobStore } from './jobs';
import { SqliteOutboxStore } from './outbox';
import { applyMigrations } from './migrations';
import { SqliteOperationStore } from './operations';
import { SqliteAccessRequestStore } from './requests';
import { SqliteStateStore } from './state';

export interface SqliteStoreOptions {
  /** Time source for writes that take no `now` (state items, lease release). Defaults to the system clock. */
  clock?: () => Date;
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

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
  } catch (err) {
    db.close();
    throw err;
  }
  // Turn state (dialog state, de-duplication markers, rate-limit counters) and conversation references are
  // written several times a turn and need not survive a power cut: their own connection with synchronous = NORMAL
  // (WAL: durable across a process crash, no fsync per commit). The next FULL commit syncs their frames too.
  let turnDb = db;
  if (!inMemory) {
    turnDb = new Database(path, { timeout: busyTimeoutMs });
    turnDb.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    turnDb.pragma('synchronous = NORMAL');
  }
  return new SqliteStore(db, turnDb, options.clock ?? (() => new Date()));
}

class SqliteStore implements Store {
  readonly state: SqliteStateStore;
  readonly requests: SqliteAccessRequestStore;
  readonly alerts: SqliteAlertStore;
  readonly audit: SqliteAuditLog;
  readonly operations: SqliteOperationStore;
  readonly conversations: SqliteConversationStore;
  readonly jobs: SqliteJobStore;
  readonly privacy: RecordPrivacy;
  readonly outbox: SqliteOutboxStore;
  readonly guests: SqliteGuestRecordStore;
  private closed = false;
  private readonly pingStmt: Database.Statement<[], unknown>;
  private readonly bothTx: Database.Transaction<
    (
      operation: VersionedPatch<OperationPatch>,
      request: VersionedPatch<AccessRequestPatch>,
      now: Date,
    ) => {
      operation: ReturnType<SqliteOperationStore['updateNow']>;
      request: ReturnType<SqliteAccessRequestStore['updateNow']>;
    }
  >;

  constructor(
    private readonly db: Database.Database,
    private readonly turnDb: Database.Database,
    clock: () => Date,
  ) {
    const guard = (): void => this.ensureOpen();
    this.state = new SqliteStateStore(turnDb, clock, guard);
    this.requests = new SqliteAccessRequestStore(db, guard);
    this.alerts = new SqliteAlertStore(db, guard);
    this.audit = new SqliteAuditLog(db, guard);
    this.operations = new SqliteOperationStore(db, clock, guard);
    this.conversations = new SqliteConversationStore(turnDb, guard);
    this.jobs = new SqliteJobStore(db, guard);
    this.outbox = new SqliteOutboxStore(db, guard);
    this.guests = new SqliteGuestRecordStore(db, guard);
    // Every table: erased and pruned by its record module, or listed here as holding no personal data.
    const modules = [
      this.state,
      this.conversations,
      this.requests,
      this.alerts,
      this.operations,
      this.guests,
      this.audit,
      this.outbox,
    ];
    this.privacy = new RecordPrivacy(modules, ['job_leases', 'audit_maintenance']);
    this.pingStmt = db.prepare('SELECT 1');
    this.bothTx = db.transaction((operation, request, now) => ({
      operation: this.operations.updateNow(operation.id, operation.expectedVersion, operation.patch, now),
      request: this.requests.updateNow(request.id, request.expectedVersion, request.patch, now),
    }));
  }

  async updateOperationAndRequest(
    operation: VersionedPatch<OperationPatch>,
    request: VersionedPatch<AccessRequestPatch>,
    now: Date,
  ): ReturnType<Store['updateOperationAndRequest']> {
    this.ensureOpen();
    return this.bothTx.immediate(operation, request, now);
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    this.pingStmt.get();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.turnDb !== this.db) this.turnDb.close();
      this.db.close();
    }
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new Error('The store is closed');
    }
  }
}
