/** SQLite: setup problems as the admins are told about them, de-duplicated per key. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  ALERT_PATCH,
  ALERT_SPEC,
  alertPatchColumns,
  checkAlertStates,
  occurrenceParams,
  toAlert,
  type AlertOccurrence,
  type AlertPatch,
  type AlertRecord,
  type AlertRow,
  type AlertState,
  type AlertStore,
  type OccurrenceParams,
} from '../records/alerts';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, type Guard } from '../values';
import { patchAssignments, patchParams, type SqliteValue } from './sql';
import { eraseTable, pruneRows } from './erase';

const PATCH_COLUMNS = ALERT_PATCH.map(([, c]) => c);

export class SqliteAlertStore implements AlertStore, RecordModule {
  private readonly occurrenceStmt: Database.Statement<[OccurrenceParams], AlertRow>;
  private readonly getStmt: Database.Statement<[string, string], AlertRow>;
  private readonly updateStmt: Database.Statement<[Record<string, SqliteValue>], AlertRow>;
  private readonly listStmt: Database.Statement<[string, string, number], AlertRow>;
  private readonly pendingDeliveryStmt: Database.Statement<[number], AlertRow>;

  constructor(
    private readonly db: Database.Database,
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
         ${patchAssignments(PATCH_COLUMNS)}
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
    const params = occurrenceParams(occurrence, now);
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
    const expected = checkExpectedVersion(expectedVersion);
    const params = {
      ...patchParams(PATCH_COLUMNS, alertPatchColumns(patch)),
      tenant_id: tenantId,
      key,
      expected,
      now: checkDate(now).toISOString(),
    };
    const row = this.updateStmt.get(params);
    if (!row) {
      const current = this.getStmt.get(tenantId, key);
      throw versionConflict(key, `Alert '${key}' of tenant '${tenantId}'`, current, expectedVersion);
    }
    return toAlert(row);
  }

  async list(tenantId: string, states: readonly AlertState[], limit: number): Promise<AlertRecord[]> {
    this.guard();
    checkAlertStates(states);
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

  readonly tables = ['alerts'];

  /** Scrubs the person from the alerts (the last person blocked, who acknowledged). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { alerts: this.db.transaction(() => eraseTable(this.db, ALERT_SPEC, subject)).immediate() };
  }

  /** Resolved or acknowledged alerts not seen since the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.alerts).toISOString();
    const condition = "state IN ('resolved', 'acknowledged') AND last_seen < ?";
    return { alerts: pruneRows(this.db, 'alerts', condition, [before], checkLimit(limit)) };
  }
}
