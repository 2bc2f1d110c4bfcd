/** Per-user limits on directory-changing actions (against spam), counted per clock hour in the store (compare-and-set). */
import { ConflictError, type StateStore } from '../store/store';

export class HourlyLimiter {
  constructor(
    private readonly state: StateStore,
    private readonly limitPerHour: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

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
