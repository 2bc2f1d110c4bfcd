/**
 * Per-user limits (against spam and against reading the directory in a loop), counted over a sliding window in
 * the store (compare-and-set): the actions of the last `windowMs` count, whatever the clock hour. One record per
 * user and kind holds the times (and sizes) of the actions still inside the window.
 */
import type { StateStore } from '../../store/store';
import { retryOnConflict } from './retryOnConflict';

type Entry = [at: number, amount: number];

const HOUR_MS = 3_600_000;

export class HourlyLimiter {
  constructor(
    private readonly state: StateStore,
    private readonly limitPerHour: number,
    private readonly clock: () => Date = () => new Date(),
    private readonly windowMs: number = HOUR_MS,
  ) {}

  private key(kind: string, tenantId: string, userId: string): string {
    return `rate/${kind}/${tenantId}/${userId}`;
  }

  private async current(key: string, now: number): Promise<{ entries: Entry[]; version: string | null }> {
    const record = (await this.state.read([key])).get(key);
    const raw = record?.value.entries;
    const entries = Array.isArray(raw)
      ? (raw as unknown[]).filter(
          (e): e is Entry =>
            Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'number' && e[0] > now - this.windowMs,
        )
      : [];
    return { entries, version: record ? record.version : null };
  }

  /**
   * What is left of the allowance now, and in how many whole minutes (at least 1) the oldest counted action leaves the
   * window.
   */
  async allowance(
    kind: string,
    tenantId: string,
    userId: string,
  ): Promise<{ limit: number; left: number; freeInMinutes: number }> {
    const now = this.clock().getTime();
    const { entries } = await this.current(this.key(kind, tenantId, userId), now);
    const used = entries.reduce((sum, [, amount]) => sum + amount, 0);
    const oldest = entries.length > 0 ? Math.min(...entries.map(([at]) => at)) : now;
    return {
      limit: this.limitPerHour,
      left: Math.max(0, this.limitPerHour - used),
      freeInMinutes: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 60_000)),
    };
  }

  /**
   * Counts one action (or `requested` at once, e.g. one per address of a bulk invitation); false (and nothing counted)
   * when the window's allowance is used up.
   */
  async take(kind: string, tenantId: string, userId: string, requested = 1): Promise<boolean> {
    const key = this.key(kind, tenantId, userId);
    return retryOnConflict(
      async () => {
        const now = this.clock().getTime();
        const { entries, version } = await this.current(key, now);
        const amount = Math.max(1, requested);
        if (entries.reduce((sum, [, n]) => sum + n, 0) + amount > this.limitPerHour) return false;
        await this.state.write(key, { entries: [...entries, [now, amount]] }, version);
        return true;
      },
      { onGiveUp: () => false },
    );
  }
}
