/**
 * PostgreSQL implementation of the store port (node-postgres, pooled), for several instances of the bot on
 * one database; one file per store beside this one, side by side with `../sqlite/`.
 *
 * Every conditional write is one statement (`UPDATE … WHERE version = $n RETURNING *`, `INSERT … ON CONFLICT`)
 * or one transaction on one pooled connection, so instances never need a lock of their own. Opening applies
 * the pending migrations under an advisory lock.
 */
import { Pool, type PoolConfig } from 'pg';
import { RecordPrivacy } from '../erasure';
import type { OperationPatch } from '../records/operations';
import type { AccessRequestPatch } from '../records/requests';
import type { Store, VersionedPatch } from '../store';
import { PostgresAlertStore } from './alerts';
import { PostgresAuditLog } from './audit';
import { PostgresConversationStore } from './conversations';
import { PostgresGuestRecordStore } from './guests';
import { PostgresJobStore } from './jobs';
import { PostgresOutboxStore } from './outbox';
import { applyMigrations } from './migrations';
import { PostgresOperationStore } from './operations';
import { PostgresAccessRequestStore } from './requests';
import { withTransaction } from './sql';
import { PostgresStateStore } from './state';

export interface PostgresStoreOptions {
  /** Time source for writes that take no `now` (state items, lease release). Defaults to the system clock. */
  clock?: () => Date;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Told about errors of idle pooled connections (the pool drops such a connection and opens another). */
  onPoolError?: (err: Error) => void;
}

/**
 * Connects to the database at `url` (postgres://user:password@host:port/database?sslmode=require) and
 * applies pending migrations. Throws when the database cannot be reached or its schema is newer than this
 * code knows.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const config: PoolConfig = {
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'guest-invite',
  };
  const pool = new Pool(config);
  pool.on('error', (err) => options.onPoolError?.(err));
  try {
    const client = await pool.connect();
    try {
      await applyMigrations(client);
    } finally {
      client.release();
    }
    return new PostgresStore(pool, options.clock ?? (() => new Date()));
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

class PostgresStore implements Store {
  readonly state: PostgresStateStore;
  readonly requests: PostgresAccessRequestStore;
  readonly alerts: PostgresAlertStore;
  readonly audit: PostgresAuditLog;
  readonly operations: PostgresOperationStore;
  readonly conversations: PostgresConversationStore;
  readonly jobs: PostgresJobStore;
  readonly privacy: RecordPrivacy;
  readonly outbox: PostgresOutboxStore;
  readonly guests: PostgresGuestRecordStore;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    clock: () => Date,
  ) {
    const guard = (): void => this.ensureOpen();
    this.state = new PostgresStateStore(pool, clock, guard);
    this.requests = new PostgresAccessRequestStore(pool, guard);
    this.alerts = new PostgresAlertStore(pool, guard);
    this.audit = new PostgresAuditLog(pool, guard);
    this.operations = new PostgresOperationStore(pool, clock, guard);
    this.conversations = new PostgresConversationStore(pool, guard);
    this.jobs = new PostgresJobStore(pool, guard);
    this.outbox = new PostgresOutboxStore(pool, guard);
    this.guests = new PostgresGuestRecordStore(pool, guard);
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
    this.privacy = new RecordPrivacy(modules, ['job_leases', 'schema_migrations']);
  }

  async updateOperationAndRequest(
    operation: VersionedPatch<OperationPatch>,
    request: VersionedPatch<AccessRequestPatch>,
    now: Date,
  ): ReturnType<Store['updateOperationAndRequest']> {
    this.ensureOpen();
    return withTransaction(this.pool, async (client) => ({
      operation: await this.operations.updateWith(
        client,
        operation.id,
        operation.expectedVersion,
        operation.patch,
        now,
      ),
      request: await this.requests.updateWith(client, request.id, request.expectedVersion, request.patch, now),
    }));
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.pool.end();
    }
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new Error('The store is closed');
    }
  }
}
