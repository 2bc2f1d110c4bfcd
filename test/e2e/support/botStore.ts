/**
 * Reads what a running bot process keeps in its SQLite store (STORE_PATH), without going through the bot.
 *
 * The store is in WAL mode, so a read-only connection sees every committed write of the bot while the bot
 * keeps writing. Nothing here writes.
 */
import Database from 'better-sqlite3';

export interface StoredReference {
  serviceUrl?: string;
  channelId?: string;
  conversation?: { id?: string; conversationType?: string; tenantId?: string };
  user?: { id?: string; name?: string; aadObjectId?: string };
  bot?: { id?: string; name?: string };
  [key: string]: unknown;
}

/** The conversation reference the bot stored for this user (by Microsoft Entra object id), if any. */
export function storedConversationReference(
  storePath: string,
  tenantId: string,
  userId: string,
): StoredReference | undefined {
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    const row = db
      .prepare('SELECT reference FROM conversation_refs WHERE tenant_id = ? AND user_id = ?')
      .get(tenantId, userId) as { reference: string } | undefined;
    return row ? (JSON.parse(row.reference) as StoredReference) : undefined;
  } finally {
    db.close();
  }
}

/**
 * Waits until the bot has stored a conversation reference for the user that `accept` takes (by default any);
 * returns it. A store file that does not exist yet counts as "nothing stored yet".
 */
export async function waitForConversationReference(
  storePath: string,
  tenantId: string,
  userId: string,
  options: { accept?: (reference: StoredReference) => boolean; timeoutMs?: number } = {},
): Promise<StoredReference> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last: StoredReference | undefined;
  let lastError: string;
  for (;;) {
    try {
      last = storedConversationReference(storePath, tenantId, userId);
      lastError = '';
      if (last && (options.accept?.(last) ?? true)) return last;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const seen = last
        ? `it holds ${JSON.stringify(last)}`
        : lastError
          ? `reading it failed: ${lastError}`
          : 'it holds none';
      throw new Error(
        `the bot stored no matching conversation reference for user ${userId} within ${timeoutMs} ms (${seen})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
