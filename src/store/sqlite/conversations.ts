/** SQLite: the latest conversation reference per user, for proactive messages. */
import type Database from 'better-sqlite3';
import type { ConversationStore, JsonObject } from '../store';
import { checkDate, checkString, jsonObjectText, parseObject, type Guard } from '../values';
import { CONVERSATION_SPEC } from '../erasure';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import { eraseTable } from './erase';

export class SqliteConversationStore implements ConversationStore, RecordModule {
  private readonly upsertStmt: Database.Statement<[string, string, string, string, string]>;
  private readonly getStmt: Database.Statement<[string, string], { reference: string }>;
  private readonly deleteStmt: Database.Statement<[string, string]>;

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

  readonly tables = ['conversation_refs'];

  /** Deletes the person's conversation reference. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    const erase = this.db.transaction(() => eraseTable(this.db, CONVERSATION_SPEC, subject));
    return { conversation_refs: erase.immediate() };
  }

  /** References are kept while the person can be messaged (deleted when Teams refuses them, or by erasure). */
  async prune(_cutoffs: RetentionCutoffs, _limit: number): Promise<TableCounts> {
    this.guard();
    return { conversation_refs: 0 };
  }
}
