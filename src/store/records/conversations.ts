/**
 * Stored record: the latest conversation reference per person, for proactive messages, and why the bot cannot
 * reach someone in Teams. The port, the unreachable mark's row mapped back, and what both tables hold about a
 * person.
 */
import type { TableSpec } from '../erasure';
import type { JsonObject } from '../store';

/** Why and since when the bot cannot reach a person in Teams (reason: a word the Teams side defines). */
export interface UnreachableMark {
  reason: string;
  detail: string | null;
  since: string;
}

/** Latest conversation reference per user, for proactive messages (opaque JSON to the store). */
export interface ConversationStore {
  upsert(tenantId: string, userId: string, reference: JsonObject, now: Date): Promise<void>;
  get(tenantId: string, userId: string): Promise<JsonObject | undefined>;
  delete(tenantId: string, userId: string): Promise<void>;
  /** Records that the person cannot be reached now, and why (replaces an earlier mark). */
  markUnreachable(tenantId: string, userId: string, reason: string, detail: string | null, now: Date): Promise<void>;
  unreachable(tenantId: string, userId: string): Promise<UnreachableMark | undefined>;
  /** Clears the mark; true when there was one. */
  clearUnreachable(tenantId: string, userId: string): Promise<boolean>;
}

/** A row of `unreachable_people` as both engines return it. */
export type UnreachableRow = UnreachableMark;

export function toUnreachableMark(row: UnreachableRow): UnreachableMark {
  return { reason: row.reason, detail: row.detail, since: row.since };
}

export const CONVERSATION_SPEC: TableSpec = {
  table: 'conversation_refs',
  key: ['tenant_id', 'user_id'],
  tenantColumn: 'tenant_id',
  text: [],
  json: ['reference'],
  subject: ['user_id'],
};

/** Who the bot could not reach in Teams, and why (the detail may name a chat): about the person. */
export const UNREACHABLE_SPEC: TableSpec = {
  table: 'unreachable_people',
  key: ['tenant_id', 'user_id'],
  tenantColumn: 'tenant_id',
  text: ['detail'],
  json: [],
  subject: ['user_id'],
};
