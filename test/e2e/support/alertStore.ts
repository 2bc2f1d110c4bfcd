/**
 * Reads the setup-problem alerts a running bot keeps in its SQLite store (STORE_PATH, table `alerts`),
 * without going through the bot. Read-only, like botStore.ts: the store is in WAL mode, so this sees every
 * committed write of the bot. Rows become records as the store itself maps them.
 */
import Database from 'better-sqlite3';
import { toAlert, type AlertRow } from '../../../src/store/records/alerts';
import type { AlertRecord } from '../../../src/store/store';

export type StoredAlert = AlertRecord;

/** Every alert of the tenant, by key. A store without the table yet (or no file) gives none. */
export function storedAlerts(storePath: string, tenantId: string): StoredAlert[] {
  let db: Database.Database;
  try {
    db = new Database(storePath, { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    db.pragma('busy_timeout = 2000');
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts'").get();
    if (!table) return [];
    const rows = db.prepare('SELECT * FROM alerts WHERE tenant_id = ? ORDER BY key').all(tenantId) as AlertRow[];
    return rows.map(toAlert);
  } finally {
    db.close();
  }
}

/** The alert stored under `key`, if any. */
export function storedAlert(storePath: string, tenantId: string, key: string): StoredAlert | undefined {
  return storedAlerts(storePath, tenantId).find((a) => a.key === key);
}
