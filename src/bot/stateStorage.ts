/**
 * botbuilder `Storage` over the store port's `StateStore`, so that ConversationState, UserState and
 * dialog state survive a restart.
 *
 * eTag semantics are those of botbuilder's MemoryStorage:
 * - `read` returns each found item as a plain object with `eTag` set to the stored version;
 * - `write` stores an item whose `eTag` is missing, empty or `'*'` unconditionally; an item with another
 *   `eTag` is stored only if the stored item has that version, or if there is no stored item at all;
 *   otherwise that item is not stored and the call fails with
 *   `Storage: error writing "<key>" due to eTag conflict.` (the other items of the same call are still
 *   written, and the first conflict is reported);
 * - the objects passed to `write` are not modified (read again to get the new eTag);
 * - `delete` ignores missing keys.
 * Values are stored as plain JSON without their `eTag` (JSON round trip: `undefined` members disappear,
 * dates become strings).
 */
import { type Storage, type StoreItems } from 'botbuilder';
import { ConflictError, type ExpectedVersion, type JsonObject, type StateStore } from '../store/store';

export class BotStateStorage implements Storage {
  constructor(private readonly store: StateStore) {}

  async read(keys: string[]): Promise<StoreItems> {
    if (!keys) {
      throw new ReferenceError('Keys are required when reading.');
    }
    const items = await this.store.read(keys);
    const result: StoreItems = {};
    for (const key of keys) {
      const item = items.get(key);
      if (item) {
        result[key] = { ...item.value, eTag: item.version };
      }
    }
    return result;
  }

  async write(changes: StoreItems): Promise<void> {
    if (!changes) {
      throw new ReferenceError('Changes are required when writing.');
    }
    let conflict: Error | undefined;
    for (const key of Object.keys(changes)) {
      const item: unknown = changes[key];
      const written = await this.writeItem(key, item);
      if (!written && !conflict) {
        conflict = new Error(`Storage: error writing "${key}" due to eTag conflict.`);
      }
    }
    if (conflict) {
      throw conflict;
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (!keys) {
      throw new ReferenceError('Keys are required when deleting.');
    }
    await this.store.delete(keys);
  }

  /** Returns false on an eTag conflict. */
  private async writeItem(key: string, item: unknown): Promise<boolean> {
    const { value, eTag } = toStoredValue(key, item);
    if (eTag === undefined) {
      await this.store.write(key, value, undefined);
      return true;
    }
    try {
      await this.store.write(key, value, eTag);
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) {
        throw err;
      }
    }
    // The stored version differs, or there is no stored item. MemoryStorage writes in the latter case:
    // create-only, so that an item created meanwhile by someone else is still a conflict.
    const current = await this.store.read([key]);
    if (current.has(key)) {
      return false;
    }
    try {
      await this.store.write(key, value, null);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) {
        return false;
      }
      throw err;
    }
  }
}

/**
 * Splits a botbuilder store item into its JSON value (without `eTag`) and the expected version
 * (undefined for an unconditional write).
 */
function toStoredValue(key: string, item: unknown): { value: JsonObject; eTag: Exclude<ExpectedVersion, null> } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new TypeError(`Storage: item "${key}" must be an object.`);
  }
  const { eTag, ...rest } = item as { eTag?: unknown } & Record<string, unknown>;
  let text: string | undefined;
  try {
    text = JSON.stringify(rest);
  } catch (err) {
    throw new TypeError(
      `Storage: item "${key}" cannot be serialized as JSON: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const value = JSON.parse(text) as JsonObject;
  if (!eTag || eTag === '*') {
    return { value, eTag: undefined };
  }
  // A stored version is always a string; any other eTag can only match a missing item.
  return { value, eTag: typeof eTag === 'string' ? eTag : `\u0000${String(eTag)}` };
}
