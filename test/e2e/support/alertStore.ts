/**
 * Reads the setup-problem alerts a running bot keeps in its SQLite store (STORE_PATH, table `alerts`),
 * without going through the bot. Read-only, like botStore.ts: the store is in WAL mode, so this sees every
 * committed write of the bot.
 */
import Database from 'better-sqlite3';

export interface StoredAlert {
  key: string;
  kind: string;
  appName: string | null;
  groupName: string | null;
  summary: string;
  state: 'open' | 'acknowledged' | 'resolved';
  count: number;
  countSinceAlert: number;
  lastBlocked: { userId?: string; name?: string; doing?: string; at?: string } | null;
  firstSeen: string;
  lastSeen: string;
  lastAlertedAt: string | null;
  pendingDelivery: boolean;
  acknowledgedBy: string | null;
}

interface AlertRow {
  key: string;
  kind: string;
  app_name: string | null;
  group_name: string | null;
  summary: string;
  state: StoredAlert['state'];
  count: number;
  count_since_alert: number;
  last_blocked: string | null;
  first_seen: string;
  last_seen: string;
  last_alerted_at: string | null;
  pending_delivery: number;
  acknowledged_by: string | null;
}

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
    return rows.map((r) => ({
      key: r.key,
      kind: r.kind,
      appName: r.app_name,
      groupName: r.group_name,
      summary: r.summary,
      state: r.state,
      count: r.count,
      countSinceAlert: r.count_since_alert,
      lastBlocked: r.last_blocked ? (JSON.parse(r.last_blocked) as StoredAlert['lastBlocked']) : null,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      lastAlertedAt: r.last_alerted_at,
      pendingDelivery: r.pending_delivery === 1,
      acknowledgedBy: r.acknowledged_by,
    }));
  } finally {
    db.close();
  }
}

/** The alert stored under `key`, if any. */
export function storedAlert(storePath: string, tenantId: string, key: string): StoredAlert | undefined {
  return storedAlerts(storePath, tenantId).find((a) => a.key === key);
}
