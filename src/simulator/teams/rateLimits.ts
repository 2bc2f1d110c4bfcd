/**
 * Teams' bot rate limits as sliding windows over an injectable clock
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit; proactive-delivery.md §4, §7.7).
 */

export interface WindowLimit {
  requests: number;
  perMs: number;
}

/** Per bot and thread, for send / create conversation / update / delete: 7/1 s, 8/2 s, 60/30 s, 1800/3600 s. */
export const THREAD_SEND_LIMITS: readonly WindowLimit[] = [
  { requests: 7, perMs: 1_000 },
  { requests: 8, perMs: 2_000 },
  { requests: 60, perMs: 30_000 },
  { requests: 1_800, perMs: 3_600_000 },
];

/** Per bot and thread, for get members / get conversations: 14/1 s, 16/2 s, 120/30 s, 3600/3600 s. */
export const THREAD_ROSTER_LIMITS: readonly WindowLimit[] = [
  { requests: 14, perMs: 1_000 },
  { requests: 16, perMs: 2_000 },
  { requests: 120, perMs: 30_000 },
  { requests: 3_600, perMs: 3_600_000 },
];

/** Global: 50 requests a second per app per tenant (older revisions of the page: 30). */
export const APP_TENANT_LIMITS: readonly WindowLimit[] = [{ requests: 50, perMs: 1_000 }];

/** Times of the requests a key let through, oldest first, trimmed to the longest window. */
class Timeline {
  private readonly times: number[] = [];

  constructor(private readonly longestMs: number) {}

  trim(now: number): void {
    while (this.times.length > 0 && this.times[0] <= now - this.longestMs) this.times.shift();
  }

  /** Milliseconds until one more request fits every window; 0 when it fits now. */
  waitFor(now: number, limits: readonly WindowLimit[]): number {
    this.trim(now);
    let wait = 0;
    for (const limit of limits) {
      const inWindow = this.times.filter((t) => t > now - limit.perMs);
      if (inWindow.length >= limit.requests) {
        // The request fits once the oldest of the last `requests - 1 + 1` leaves the window.
        const blocking = inWindow[inWindow.length - limit.requests];
        wait = Math.max(wait, blocking + limit.perMs - now);
      }
    }
    return wait;
  }

  add(now: number): void {
    this.times.push(now);
  }
}

export interface LimitCheck {
  key: string;
  limits: readonly WindowLimit[];
}

/** Sliding-window counters per key. Refused requests do not count, so honouring Retry-After always succeeds. */
export class RateLimiter {
  private readonly timelines = new Map<string, Timeline>();

  constructor(private readonly now: () => number) {}

  /**
   * Checks every key; when all fit, records the request under each and answers 0. Otherwise answers the wait in
   * milliseconds before a retry fits, and records the refused request only when `countRefused` (then a client that
   * retries early throttles itself longer).
   */
  take(checks: readonly LimitCheck[], countRefused = false): number {
    const now = this.now();
    let wait = 0;
    for (const check of checks) wait = Math.max(wait, this.timeline(check).waitFor(now, check.limits));
    if (wait === 0 || countRefused) for (const check of checks) this.timeline(check).add(now);
    return wait;
  }

  reset(): void {
    this.timelines.clear();
  }

  private timeline(check: LimitCheck): Timeline {
    let t = this.timelines.get(check.key);
    if (!t) {
      t = new Timeline(Math.max(...check.limits.map((l) => l.perMs)));
      this.timelines.set(check.key, t);
    }
    return t;
  }
}
