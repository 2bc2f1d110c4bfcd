/**
 * Reads the operation records (table `operations`) a bot process keeps in its SQLite store (STORE_PATH),
 * without going through the bot. Read-only: nothing here writes, so it is safe while the bot runs (WAL mode)
 * and after it was killed (a read-only connection does not recover or rewrite anything).
 */
import Database from 'better-sqlite3';

export interface StoredStep {
  status: string;
  at: string;
  result?: Record<string, unknown>;
  graphRequestId?: string;
}

export interface StoredOperation {
  id: string;
  kind: string;
  tenantId: string;
  actorId: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  input: Record<string, unknown>;
  steps: Record<string, StoredStep>;
  result: Record<string, unknown> | null;
  replyTo: Record<string, unknown> | null;
  attempts: number;
  version: number;
  leaseOwner: string | null;
  leaseExpiresMs: number | null;
  createdAt: string;
  updatedAt: string;
}

interface OperationRow {
  id: string;
  kind: string;
  tenant_id: string;
  actor_id: string;
  status: StoredOperation['status'];
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

const parse = (text: string | null): Record<string, unknown> | null => (text === null ? null : (JSON.parse(text) as Record<string, unknown>));

/** Every operation record of `kind` (all kinds when omitted), oldest first. */
export function storedOperations(storePath: string, kind?: string): StoredOperation[] {
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const rows = (
      kind === undefined
        ? db.prepare('SELECT * FROM operations ORDER BY created_at, rowid').all()
        : db.prepare('SELECT * FROM operations WHERE kind = ? ORDER BY created_at, rowid').all(kind)
    ) as OperationRow[];
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      tenantId: row.tenant_id,
      actorId: row.actor_id,
      status: row.status,
      input: parse(row.input) ?? {},
      steps: (parse(row.steps) ?? {}) as Record<string, StoredStep>,
      result: parse(row.result),
      replyTo: parse(row.reply_to),
      attempts: row.attempts,
      version: row.version,
      leaseOwner: row.lease_owner,
      leaseExpiresMs: row.lease_expires_ms,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
  } finally {
    db.close();
  }
}

/** The invitation records (kind `inviteGuest`) for this guest address (compared ignoring case). */
export function storedInvitations(storePath: string, email: string): StoredOperation[] {
  return storedOperations(storePath, 'inviteGuest').filter((op) => String(op.input.email ?? '').toLowerCase() === email.toLowerCase());
}
