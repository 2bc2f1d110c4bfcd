/** SQLite: the latest conversation reference per user, for proactive messages. */
import type Database from 'better-sqlite3';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import {
  CONVERSATION_SPEC,
  UNREACHABLE_SPEC,
  toUnreachableMark,
  type ConversationStore,
  type UnreachableMark,
  type UnreachableRow,
} from '../records/conversations';
import type { JsonObject } from '../store';
import {
  checkDate,
  checkLimit,
  checkNullableText,
  checkString,
  jsonObjectText,
  parseObject,
  type Guard,
} from '../values';
import { eraseTable, pruneRows } from './erase';

export class SqliteConversationStore implements ConversationStore, RecordModule {
  private readonly upsertStmt: Database.Statement<[string, string, string, string, string]>;
  private readonly getStmt: Database.Statement<[string, string], { reference: string }>;
  private readonly deleteStmt: Database.Statement<[string, string]>;
  private readonly markStmt: Database.Statement<[string, string, string, string | null, string]>;
  private readonly markGetStmt: Database.Statement<[string, string], UnreachableRow>;
  private readonly markDeleteStmt: Database.Statement<[string, string]>;

  constructor(
    private readonly db: Database.Database,
    private readonly guard: Guard,
  ) {
    this.upsertStmt = db.prepare(
      `INSERT INTO conversation_refs (tenant_id, user_id, reference, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET reference = excluded.reference, updated_at = excluded.updated_at
       WHERE conversation_refs.reference IS NOT excluded.reference`,
    );
    this.getStmt = db.prepare('SELECT reference FROM conversation_refs WHERE tenant_id = ? AND user_id = ?');
    this.deleteStmt = db.prepare('DELETE FROM conversation_refs WHERE tenant_id = ? AND user_id = ?');
    this.markStmt = db.prepare(
      `INSERT INTO unreachable_people (tenant_id, user_id, reason, detail, since) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
       since = excluded.since`,
    );
    this.markGetStmt = db.prepare(
      'SELECT reason, detail, since FROM unreachable_people WHERE tenant_id = ? AND user_id = ?',
    );
    this.markDeleteStmt = db.prepare('DELETE FROM unreachable_people WHERE tenant_id = ? AND user_id = ?');
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

  async markUnreachable(
    tenantId: string,
    userId: string,
    reason: string,
    detail: string | null,
    now: Date,
  ): Promise<void> {
    this.guard();
    this.markStmt.run(
      checkString(tenantId, 'tenantId'),
      checkString(userId, 'userId'),
      checkString(reason, 'reason'),
      checkNullableText(detail, 'detail'),
      checkDate(now).toISOString(),
    );
  }

  async unreachable(tenantId: string, userId: string): Promise<UnreachableMark | undefined> {
    this.guard();
    const row = this.markGetStmt.get(tenantId, userId);
    return row ? toUnreachableMark(row) : undefined;
  }

  async clearUnreachable(tenantId: string, userId: string): Promise<boolean> {
    this.guard();
    return this.markDeleteStmt.run(tenantId, userId).changes > 0;
  }

  readonly tables = ['conversation_refs', 'unreachable_people'];

  /** Deletes the person's conversation reference and unreachable mark. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    const erase = this.db.transaction(() => ({
      conversation_refs: eraseTable(this.db, CONVERSATION_SPEC, subject),
      unreachable_people: eraseTable(this.db, UNREACHABLE_SPEC, subject),
    }));
    return erase.immediate();
  }

  /** References are kept while the person can be messaged (deleted when Teams refuses them, or by erasure). Marks of
   * people the bot could not reach go with alerts (the next message tries again). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.alerts).toISOString();
    return {
      conversation_refs: 0,
      unreachable_people: pruneRows(this.db, 'unreachable_people', 'since < ?', [before], checkLimit(limit)),
    };
  }
}
