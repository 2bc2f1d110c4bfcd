/** PostgreSQL: the latest conversation reference per user, for proactive messages. */
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
  type JsonColumn,
} from '../values';
import { queryRow, type Queryable } from './sql';
import { eraseTable, pruneRows } from './erase';

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
      [
        checkString(tenantId, 'tenantId'),
        checkString(userId, 'userId'),
        jsonObjectText(reference, 'Conversation reference'),
        at,
      ],
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

  async markUnreachable(
    tenantId: string,
    userId: string,
    reason: string,
    detail: string | null,
    now: Date,
  ): Promise<void> {
    this.guard();
    await this.db.query(
      `INSERT INTO unreachable_people (tenant_id, user_id, reason, detail, since) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
       since = EXCLUDED.since`,
      [
        checkString(tenantId, 'tenantId'),
        checkString(userId, 'userId'),
        checkString(reason, 'reason'),
        checkNullableText(detail, 'detail'),
        checkDate(now).toISOString(),
      ],
    );
  }

  async unreachable(tenantId: string, userId: string): Promise<UnreachableMark | undefined> {
    this.guard();
    const row = await queryRow<UnreachableRow>(
      this.db,
      'SELECT reason, detail, since FROM unreachable_people WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    return row ? toUnreachableMark(row) : undefined;
  }

  async clearUnreachable(tenantId: string, userId: string): Promise<boolean> {
    this.guard();
    const result = await this.db.query('DELETE FROM unreachable_people WHERE tenant_id = $1 AND user_id = $2', [
      tenantId,
      userId,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  readonly tables = ['conversation_refs', 'unreachable_people'];

  /** Deletes the person's conversation reference and unreachable mark. */
  async erase(subject: ErasureSubject): Promise<TableCounts> {
    this.guard();
    return {
      conversation_refs: await eraseTable(this.db, CONVERSATION_SPEC, subject),
      unreachable_people: await eraseTable(this.db, UNREACHABLE_SPEC, subject),
    };
  }

  /** References are kept while the person can be messaged (deleted when Teams refuses them, or by erasure). Marks of
   * people the bot could not reach go with alerts (the next message tries again). */
  async prune(cutoffs: RetentionCutoffs, limit: number): Promise<TableCounts> {
    this.guard();
    const before = checkDate(cutoffs.alerts).toISOString();
    return {
      conversation_refs: 0,
      unreachable_people: await pruneRows(this.db, 'unreachable_people', 'since < $1', [before], checkLimit(limit)),
    };
  }
}
