/** PostgreSQL: the latest conversation reference per user, for proactive messages. */
import type { ConversationStore, JsonObject } from '../store';
import { checkDate, checkString, jsonObjectText, parseObject, type Guard, type JsonColumn } from '../values';
import { queryRow, type Queryable } from './sql';
import { CONVERSATION_SPEC } from '../erasure';
import type { ErasureSubject, RecordModule, RetentionCutoffs, TableCounts } from '../erasure';
import { eraseTable } from './erase';

export class PostgresConversationStore implements ConversationStore, RecordModule {
  constructor(
    private readonly db: Queryable,
    private readonly guard: Guard,
  ) {}

  async upsert(tenantId: string, userId: string, reference: JsonObject, now: Date): Promise<void> {
    this.guard();
    const at = checkDate(now).toISOString();
    await this.db.query(
      `INSERT INTO conversation_refs (tenant_id, user_id, reference, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET reference = EXCLUDED.reference, updated_at = EXCLUDED.updated_at
       WHERE conversation_refs.reference::text IS DISTINCT FROM EXCLUDED.reference::text`,
      [checkString(tenantId, 'tenantId'), checkString(userId, 'userId'), jsonObjectText(reference, 'Conversation reference'), at],
    );
  }

  async get(tenantId: string, userId: string): Promise<JsonObject | undefined> {
    this.guard();
    const row = await queryRow<{ reference: JsonColumn }>(
      this.db,
      'SELECT reference FROM conversation_refs WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    return row ? parseObject(row.reference) : undefined;
  }

  async delete(tenantId: string, userId: string): Promise<void> {
    this.guard();
    await this.db.query('DELETE FROM conversation_refs WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  }

  readonly tables = ['conversation_refs'];

  /** Deletes the person's conversation reference. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return { conversation_refs: await eraseTable(this.db, CONVERSATION_SPEC, subject) };
  }

  /** References are kept while the person can be messaged (deleted when Teams refuses them, or by erasure). */
  async prune(_cutoffs: RetentionCutoffs, _limit: number): Promise<TableCounts> {
    this.guard();
    return { conversation_refs: 0 };
  }
}
