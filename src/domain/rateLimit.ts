/** Per-user limits on directory-changing actions (against spam), counted per clock hour in the store (compare-and-set). */
import { ConflictError, type StateStore } from '../store/store';

export class HourlyLimiter {
  constructor(
    private readonly state: StateStore,
    private readonly limitPerHour: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** What is left of this clock hour's allowance, and in how many whole minutes (at least 1) it starts again. */
  async allowance(kind: string, tenantId: string, userId: string): Promise<{ limit: number; left: number; freeInMinutes: number }> {
    const now = this.clock().getTime();
    const hour = Math.floor(now / 3_600_000);
    const key = `rate/${kind}/${tenantId}/${userId}/${hour}`;
    const current = (await this.state.read([key])).get(key);
    const count = typeof current?.value.count === 'number' ? current.value.count : 0;
    return { limit: this.limitPerHour, left: Math.max(0, this.limitPerHour - count), freeInMinutes: Math.max(1, Math.ceil(((hour + 1) * 3_600_000 - now) / 60_000)) };
  }

  /** Counts one action (or `requested` at once, e.g. one per address of a bulk invitation); false (and nothing counted) when the user already used up this hour's allowance. */
  async take(kind: string, tenantId: string, userId: string, requested = 1): Promise<boolean> {
    const hour = Math.floor(this.clock().getTime() / 3_600_000);
    const key = `rate/${kind}/${tenantId}/${userId}/${hour}`;
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = (await this.state.read([key])).get(key);
      const count = typeof current?.value.count === 'number' ? current.value.count : 0;
      const amount = Math.max(1, requested);
      if (count + amount > this.limitPerHour) return false;
      try {
        await this.state.write(key, { count: count + amount, hour }, current ? current.version : null);
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return false;
  }
}
