/**
 * Schema migrations of the SQLite store (the shape and rules are in ../migrate.ts). The schema version is
 * kept in `PRAGMA user_version`.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { latestVersion as latestOf, pendingMigrations, type Migration } from '../migrate';

export { SchemaTooNewError, type Migration } from '../migrate';

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE state_items (
        key         TEXT PRIMARY KEY NOT NULL,
        value       TEXT NOT NULL CHECK (json_valid(value)),
        version     TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      CREATE TABLE operations (
        id                TEXT PRIMARY KEY NOT NULL,
        kind              TEXT NOT NULL,
        tenant_id         TEXT NOT NULL,
        actor_id          TEXT NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
        input             TEXT NOT NULL CHECK (json_valid(input)),
        steps             TEXT NOT NULL CHECK (json_valid(steps)),
        result            TEXT CHECK (result IS NULL OR json_valid(result)),
        reply_to          TEXT CHECK (reply_to IS NULL OR json_valid(reply_to)),
        attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        version           INTEGER NOT NULL CHECK (version >= 1),
        lease_owner       TEXT,
        lease_expires_ms  INTEGER,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      );
      CREATE INDEX operations_unfinished ON operations (created_at)
        WHERE status IN ('pending', 'running');
      CREATE INDEX operations_tenant ON operations (tenant_id, created_at);

      CREATE TABLE audit_log (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        time            TEXT NOT NULL,
        tenant_id       TEXT NOT NULL,
        actor_id        TEXT NOT NULL,
        actor_name      TEXT,
        action          TEXT NOT NULL,
        outcome         TEXT NOT NULL,
        app_id          TEXT,
        app_name        TEXT,
        group_id        TEXT,
        group_name      TEXT,
        guest_email     TEXT,
        guest_id        TEXT,
        detail          TEXT,
        graph_request_id TEXT,
        activity_id     TEXT,
        operation_id    TEXT
      );
      CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
      CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
      CREATE INDEX audit_log_action ON audit_log (action, seq);
      CREATE INDEX audit_log_operation ON audit_log (operation_id, seq) WHERE operation_id IS NOT NULL;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

      CREATE TABLE conversation_refs (
        tenant_id   TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reference   TEXT NOT NULL CHECK (json_valid(reference)),
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      );
    `,
  },
  {
    id: 2,
    name: 'access requests',
    sql: `
      CREATE TABLE access_requests (
        id              TEXT PRIMARY KEY NOT NULL,
        tenant_id       TEXT NOT NULL,
        requester_id    TEXT NOT NULL,
        requester_name  TEXT NOT NULL,
        app_id          TEXT NOT NULL,
        app_name        TEXT NOT NULL,
        group_id        TEXT NOT NULL,
        group_name      TEXT NOT NULL,
        justification   TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'withdrawn', 'expired')),
        owner_ids       TEXT NOT NULL CHECK (json_valid(owner_ids) AND json_type(owner_ids) = 'array'),
        owner_cards     TEXT NOT NULL CHECK (json_valid(owner_cards) AND json_type(owner_cards) = 'array'),
        decided_by      TEXT,
        decided_by_name TEXT,
        decided_at      TEXT,
        comment         TEXT,
        outcome         TEXT CHECK (outcome IS NULL OR (json_valid(outcome) AND json_type(outcome) = 'object')),
        reminded_at     TEXT,
        version         INTEGER NOT NULL CHECK (version >= 1),
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      );
      -- At most one pending request per requester and group; deciding or withdrawing frees the slot.
      CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (tenant_id, requester_id, group_id)
        WHERE state = 'pending';
      CREATE INDEX access_requests_requester ON access_requests (tenant_id, requester_id, created_at);
      CREATE INDEX access_requests_pending ON access_requests (created_at) WHERE state = 'pending';

      -- Who was asked, one row per owner, written with the request: the lookup by owner uses an index.
      CREATE TABLE access_request_owners (
        request_id  TEXT NOT NULL REFERENCES access_requests (id) ON DELETE CASCADE,
        owner_id    TEXT NOT NULL,
        PRIMARY KEY (request_id, owner_id)
      ) WITHOUT ROWID;
      CREATE INDEX access_request_owners_owner ON access_request_owners (owner_id, request_id);
    `,
  },
  {
    id: 3,
    name: 'alerts',
    sql: `
      CREATE TABLE alerts (
        tenant_id         TEXT NOT NULL,
        key               TEXT NOT NULL,
        kind              TEXT NOT NULL,
        app_id            TEXT,
        app_name          TEXT,
        group_id          TEXT,
        group_name        TEXT,
        summary           TEXT NOT NULL,
        fix               TEXT NOT NULL CHECK (json_valid(fix) AND json_type(fix) = 'array'),
        state             TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
        count             INTEGER NOT NULL CHECK (count >= 1),
        count_since_alert INTEGER NOT NULL CHECK (count_since_alert >= 0),
        last_blocked      TEXT CHECK (last_blocked IS NULL
                            OR (json_valid(last_blocked) AND json_type(last_blocked) = 'object')),
        first_seen        TEXT NOT NULL,
        last_seen         TEXT NOT NULL,
        last_alerted_at   TEXT,
        pending_delivery  INTEGER NOT NULL CHECK (pending_delivery IN (0, 1)),
        acknowledged_by   TEXT,
        resolved_at       TEXT,
        version           INTEGER NOT NULL CHECK (version >= 1),
        updated_at        TEXT NOT NULL,
        PRIMARY KEY (tenant_id, key)
      );
      CREATE INDEX alerts_by_state ON alerts (tenant_id, state, last_seen);
      -- Alerts waiting for a reachable admin, across tenants, oldest first.
      CREATE INDEX alerts_pending_delivery ON alerts (last_seen, tenant_id, key) WHERE pending_delivery = 1;
    `,
  },
  {
    id: 4,
    name: 'failed operations by age, for automatic retries',
    sql: `
      CREATE INDEX operations_failed ON operations (updated_at) WHERE status = 'failed';
    `,
  },
  {
    id: 5,
    name: 'timer job leases',
    sql: `
      -- One row per timer job: who runs it now (lease), when the last run started and whether it finished.
      CREATE TABLE job_leases (
        name              TEXT PRIMARY KEY NOT NULL,
        lease_owner       TEXT,
        lease_expires_ms  INTEGER,
        started_ms        INTEGER NOT NULL,
        finished_ms       INTEGER,
        version           INTEGER NOT NULL CHECK (version >= 1)
      );
    `,
  },
  {
    id: 6,
    name: 'guest records',
    sql: `
      -- What the bot knows of each guest it added to a group: who vouched, when, and the periodic review.
      CREATE TABLE guest_records (
        tenant_id         TEXT NOT NULL,
        group_id          TEXT NOT NULL,
        guest_id          TEXT NOT NULL,
        guest_email       TEXT NOT NULL,
        guest_name        TEXT NOT NULL,
        app_id            TEXT NOT NULL,
        app_name          TEXT NOT NULL,
        group_name        TEXT NOT NULL,
        invited_by        TEXT NOT NULL,
        invited_by_name   TEXT NOT NULL,
        invited_at        TEXT NOT NULL,
        how               TEXT NOT NULL CHECK (how IN ('invite', 'request')),
        operation_id      TEXT NOT NULL,
        sponsor_ids       TEXT NOT NULL CHECK (json_valid(sponsor_ids)),
        sponsor_in_entra  INTEGER NOT NULL CHECK (sponsor_in_entra IN (0, 1)),
        redemption        TEXT,
        redemption_since  TEXT,
        last_kept_at      TEXT NOT NULL,
        kept_by           TEXT,
        last_resent_at    TEXT,
        review_state      TEXT NOT NULL CHECK (review_state IN ('none', 'open')),
        review_id         TEXT,
        review_opened_at  TEXT,
        reminded_at       TEXT,
        removed_at        TEXT,
        removed_by        TEXT,
        version           INTEGER NOT NULL CHECK (version >= 1),
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        PRIMARY KEY (tenant_id, group_id, guest_id)
      );
      CREATE INDEX guest_records_by_group ON guest_records (tenant_id, group_id, invited_at) WHERE removed_at IS NULL;
      -- The review sweep reads only the due ones, by index.
      CREATE INDEX guest_records_due ON guest_records (last_kept_at) WHERE removed_at IS NULL AND review_state = 'none';
      CREATE INDEX guest_records_open ON guest_records (review_opened_at) WHERE removed_at IS NULL AND review_state = 'open';
      CREATE INDEX guest_records_by_tenant ON guest_records (tenant_id, invited_at);
      CREATE INDEX guest_records_by_review ON guest_records (review_id) WHERE review_id IS NOT NULL;
    `,
  },
  {
    id: 7,
    name: 'retention and erasure of the audit log',
    sql: `
      -- The audit log stays append-only for the bot's writes. Retention and erasure change it only inside a
      -- transaction that holds this table's one row (and removes it again before committing).
      CREATE TABLE audit_maintenance (id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1));
      DROP TRIGGER audit_log_no_update;
      DROP TRIGGER audit_log_no_delete;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE INDEX audit_log_time ON audit_log (time);
    `,
  },
  {
    id: 8,
    name: 'outbox of proactive messages',
    sql: `
      -- Every message the bot starts (cards, notices, card updates), recorded before it is sent.
      CREATE TABLE outbox (
        id                TEXT PRIMARY KEY NOT NULL,
        tenant_id         TEXT NOT NULL,
        recipient         TEXT NOT NULL,
        kind              TEXT NOT NULL,
        payload           TEXT NOT NULL CHECK (json_valid(payload)),
        status            TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts          INTEGER NOT NULL CHECK (attempts >= 0),
        not_before_ms     INTEGER NOT NULL,
        result            TEXT CHECK (result IS NULL OR json_valid(result)),
        error             TEXT,
        lease_owner       TEXT,
        lease_expires_ms  INTEGER,
        version           INTEGER NOT NULL CHECK (version >= 1),
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      );
      CREATE INDEX outbox_due ON outbox (not_before_ms, created_at) WHERE status = 'pending';
    `,
  },
  {
    id: 9,
    name: 'people the bot cannot reach in Teams',
    sql: `
      -- Who the bot could not reach in Teams, why and since when (blocked, disabled, not installable).
      CREATE TABLE unreachable_people (
        tenant_id   TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reason      TEXT NOT NULL,
        detail      TEXT,
        since       TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      );
    `,
  },
];

export function latestVersion(list: readonly Migration[] = migrations): number {
  return latestOf(list);
}

function userVersion(db: BetterSqlite3.Database): number {
  const v = db.pragma('user_version', { simple: true });
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Applies the migrations not yet applied, all in one immediate transaction (so two processes opening the
 * same file at once cannot both migrate). Returns the schema version before and after.
 * Throws SchemaTooNewError when the file is newer than `list` knows.
 */
export function applyMigrations(
  db: BetterSqlite3.Database,
  list: readonly Migration[] = migrations,
): { from: number; to: number } {
  const run = db.transaction(() => {
    const from = userVersion(db);
    for (const m of pendingMigrations(list, from)) {
      db.exec(m.sql);
      // PRAGMA does not take bound parameters; the id is a checked integer.
      db.pragma(`user_version = ${m.id}`);
    }
    return { from, to: userVersion(db) };
  });
  return run.immediate();
}
