/**
 * Where the admins' alert cards are and what they show, per alert: kept in the key/value state store under
 * `alert-cards/{tenantId}/{alertKey}`, changed only by compare-and-set, so several processes agree on the
 * block count and on who updates the cards when.
 */
import type { JsonObject, StateStore } from '../../store/store';
import { retryOnConflict } from '../shared/retryOnConflict';

/** One alert's cards. */
export interface AlertPostsRecord {
  /** People blocked by the problem since it was first seen (or opened again after it was fixed). */
  blocks: number;
  /** Where the cards of the latest alert are (opaque to the domain: conversation reference and activity id). */
  locations: JsonObject[];
  /** The block count the cards show. */
  shownBlocks: number;
  /** When the cards were last sent or updated. */
  renderedAt: string | null;
}

/** The cards may be updated now (these locations, showing this many blocks), after `waitMs`, or not at all. */
export type RefreshClaim =
  { kind: 'now'; record: AlertPostsRecord } | { kind: 'later'; waitMs: number } | { kind: 'none' };

const keyOf = (tenantId: string, alertKey: string): string => `alert-cards/${tenantId}/${alertKey}`;

function parse(value: JsonObject | undefined): AlertPostsRecord {
  const locations = Array.isArray(value?.locations)
    ? value.locations.filter((l): l is JsonObject => !!l && typeof l === 'object' && !Array.isArray(l))
    : [];
  return {
    blocks: typeof value?.blocks === 'number' ? value.blocks : 0,
    locations,
    shownBlocks: typeof value?.shownBlocks === 'number' ? value.shownBlocks : 0,
    renderedAt: typeof value?.renderedAt === 'string' ? value.renderedAt : null,
  };
}

export class AlertPosts {
  constructor(
    private readonly state: StateStore,
    private readonly clock: () => Date,
    /** Cards of one alert are updated at most once in this interval (Teams rate limits per conversation). */
    private readonly intervalMs: number,
  ) {}

  /**
   * Reads, changes and writes one record with compare-and-set, again on a conflict. `change` returns the new
   * record (written) or null (nothing written); returns what `change` returned with the record it saw.
   */
  private async mutate<T>(
    tenantId: string,
    alertKey: string,
    change: (current: AlertPostsRecord, exists: boolean) => { next: AlertPostsRecord | null; result: T },
  ): Promise<T> {
    const key = keyOf(tenantId, alertKey);
    return retryOnConflict(async () => {
      const item = (await this.state.read([key])).get(key);
      const { next, result } = change(parse(item?.value), !!item);
      if (!next) return result;
      await this.state.write(key, { ...next }, item ? item.version : null);
      return result;
    });
  }

  async read(tenantId: string, alertKey: string): Promise<AlertPostsRecord> {
    const key = keyOf(tenantId, alertKey);
    return parse((await this.state.read([key])).get(key)?.value);
  }

  /** Counts one block; returns the record after it. */
  countBlock(tenantId: string, alertKey: string): Promise<AlertPostsRecord> {
    return this.mutate(tenantId, alertKey, (current) => {
      const next = { ...current, blocks: current.blocks + 1 };
      return { next, result: next };
    });
  }

  /** A new alert went out to these locations, showing `shownBlocks`: later updates go to them. */
  delivered(
    tenantId: string,
    alertKey: string,
    locations: JsonObject[],
    shownBlocks: number,
  ): Promise<AlertPostsRecord> {
    const renderedAt = this.clock().toISOString();
    return this.mutate(tenantId, alertKey, (current) => {
      const next = { ...current, locations, shownBlocks, renderedAt };
      return { next, result: next };
    });
  }

  /**
   * Claims the next update of the cards: only when there are cards, they show fewer blocks than were counted,
   * and they were not rendered within the interval (else: when to try again).
   */
  claimRefresh(tenantId: string, alertKey: string): Promise<RefreshClaim> {
    const now = this.clock().getTime();
    return this.mutate<RefreshClaim>(tenantId, alertKey, (current) => {
      if (current.locations.length === 0 || current.blocks <= current.shownBlocks)
        return { next: null, result: { kind: 'none' } };
      const since = current.renderedAt ? now - Date.parse(current.renderedAt) : Infinity;
      if (since < this.intervalMs) return { next: null, result: { kind: 'later', waitMs: this.intervalMs - since } };
      const next = { ...current, shownBlocks: current.blocks, renderedAt: new Date(now).toISOString() };
      return { next, result: { kind: 'now', record: next } };
    });
  }

  /** The problem was fixed: the record starts over (a reopened problem starts a new count); returns what it was. */
  forget(tenantId: string, alertKey: string): Promise<AlertPostsRecord | null> {
    return this.mutate<AlertPostsRecord | null>(tenantId, alertKey, (current, exists) =>
      exists
        ? { next: { blocks: 0, locations: [], shownBlocks: 0, renderedAt: null }, result: current }
        : { next: null, result: null },
    );
  }
}
