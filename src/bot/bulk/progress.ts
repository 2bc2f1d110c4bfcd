/**
 * Updates one card in place while slow work reports progress: at most once every `minIntervalMs` (Teams allows a
 * bot about 7 messages a second and 60 in 30 s per conversation; field notes), updates one after the other, the
 * last one always shown, and the final state never overwritten by a late progress update.
 */
export class CardProgress<T> {
  private last = 0;
  private pending: T | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly update: (value: T, final: boolean) => Promise<unknown>,
    private readonly minIntervalMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new state to show; shown now or at the next allowed moment (only the latest one). */
  progress(value: T): void {
    if (this.closed) return;
    this.pending = value;
    const wait = this.last + this.minIntervalMs - this.now();
    if (wait <= 0) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref?.();
    }
  }

  /** The final state: shown after any update in flight, and nothing after it. */
  async final(value: T): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    const wait = this.last + this.minIntervalMs - this.now();
    await this.chain;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, this.minIntervalMs)));
    this.last = this.now();
    await this.update(value, true);
  }

  private flush(): void {
    this.timer = null;
    const value = this.pending;
    if (value === null || this.closed) return;
    this.pending = null;
    this.last = this.now();
    this.chain = this.chain.then(() => this.update(value, false)).catch(() => undefined);
  }
}
