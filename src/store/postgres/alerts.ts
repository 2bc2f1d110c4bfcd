/** PostgreSQL: setup problems as the admins are told about them, de-duplicated per key. */
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
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
} from '../records/alerts';
import { versionConflict } from '../store';
import { checkDate, checkExpectedVersion, checkLimit, type Guard } from '../values';
import { named, patchUpdate, queryRow, queryRows, type Queryable } from './sql';
import { eraseTable, pruneRows } from './erase';

// One statement, so two instances recording the same problem at once cannot lose a count. In DO UPDATE,
// `alerts.x` is the row as it was before this statement, so `alerts.state` is the previous state.
const occurrence = named(
  `INSERT INTO alerts (tenant_id, key, kind, app_id, app_name, group_id, group_name, summary, fix, state, count,
     count_since_alert, last_blocked, first_seen, last_seen, last_alerted_at, pending_delivery, acknowledged_by,
     resolved_at, version, updated_at)
   VALUES (@tenant_id, @key, @kind, @app_id, @app_name, @group_id, @group_name, @summary, @fix, 'open', 1,
     1, @last_blocked, @now, @now, NULL, false, NULL,
     NULL, 1, @now)
   ON CONFLICT (tenant_id, key) DO UPDATE SET
     kind = EXCLUDED.kind,
     app_id = EXCLUDED.app_id,
     app_name = EXCLUDED.app_name,
     group_id = EXCLUDED.group_id,
     group_name = EXCLUDED.group_name,
     summary = EXCLUDED.summary,
     fix = EXCLUDED.fix,
     last_blocked = COALESCE(EXCLUDED.last_blocked, alerts.last_blocked),
     count = alerts.count + 1,
     count_since_alert = alerts.count_since_alert + 1,
     last_seen = EXCLUDED.last_seen,
     state = CASE WHEN alerts.state = 'resolved' THEN 'open' ELSE alerts.state END,
     resolved_at = CASE WHEN alerts.state = 'resolved' THEN NULL ELSE alerts.resolved_at END,
     acknowledged_by = CASE WHEN alerts.state = 'resolved' THEN NULL ELSE alerts.acknowledged_by END,
     version = alerts.version + 1,
     updated_at = EXCLUDED.updated_at
   RETURNING *`,
);

export class PostgresAlertStore implements AlertStore, RecordModule {
  constructor(
    private readonly db: Queryable,
    private readonly guard: Guard,
  ) {}

  async recordOccurrence(occ: AlertOccurrence, now: Date): Promise<AlertRecord> {
    this.guard();
    const params = occurrenceParams(occ, now);
    const query = occurrence(params);
    const row = await queryRow<AlertRow>(this.db, query.text, query.values);
    if (!row) {
      throw new Error(`Alert '${params.key}' was not stored`);
    }
    return toAlert(row);
  }

  async get(tenantId: string, key: string): Promise<AlertRecord | undefined> {
    this.guard();
    const row = await this.getRow(tenantId, key);
    return row ? toAlert(row) : undefined;
  }

  private getRow(tenantId: string, key: string): Promise<AlertRow | undefined> {
    return queryRow<AlertRow>(this.db, 'SELECT * FROM alerts WHERE tenant_id = $1 AND key = $2', [tenantId, key]);
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
    const query = patchUpdate(
      'alerts',
      alertPatchColumns(patch),
      { tenant_id: tenantId, key },
      expected,
      checkDate(now).toISOString(),
    );
    const row = await queryRow<AlertRow>(this.db, query.text, query.values);
    if (!row) {
      const current = await this.getRow(tenantId, key);
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
    const rows = await queryRows<AlertRow>(
      this.db,
      'SELECT * FROM alerts WHERE tenant_id = $1 AND state = ANY($2::text[]) ORDER BY last_seen DESC, key LIMIT $3',
      [tenantId, [...states], limit],
    );
    return rows.map(toAlert);
  }

  async listPendingDelivery(limit: number): Promise<AlertRecord[]> {
    this.guard();
    const rows = await queryRows<AlertRow>(
      this.db,
      'SELECT * FROM alerts WHERE pending_delivery ORDER BY last_seen, tenant_id, key LIMIT $1',
      [checkLimit(limit)],
    );
    return rows.map(toAlert);
  }

  readonly tables = ['alerts'];

  /** Scrubs the person from the alerts (the last person blocked, who acknowledged). */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { alerts: await eraseTable(this.db, ALERT_SPEC, subject) };
  }

  /** Resolved or acknowledged alerts not seen since the cut-off. */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.alerts).toISOString();
    const condition = "state IN ('resolved', 'acknowledged') AND last_seen < $1";
    return { alerts: await pruneRows(this.db, 'alerts', condition, [before], checkLimit(limit)) };
  }
}
