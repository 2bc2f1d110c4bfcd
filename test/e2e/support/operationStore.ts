/**
 * Reads the operation records (table `operations`) a bot process keeps in its SQLite store (STORE_PATH),
 * without going through the bot. Read-only: nothing here writes, so it is safe while the bot runs (WAL mode)
 * and after it was killed (a read-only connection does not recover or rewrite anything). Rows become records
 * as the store itself maps them.
 */
import Database from 'better-sqlite3';
import { toRecord, type OperationRow } from '../../../src/store/records/operations';
import type { OperationRecord } from '../../../src/store/store';

export type StoredOperation = OperationRecord;

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
    return rows.map(toRecord);
  } finally {
    db.close();
  }
}

/** The invitation records (kind `inviteGuest`) for this guest address (compared ignoring case). */
export function storedInvitations(storePath: string, email: string): StoredOperation[] {
  return storedOperations(storePath, 'inviteGuest').filter(
    (op) => String(op.input.email ?? '').toLowerCase() === email.toLowerCase(),
  );
}
