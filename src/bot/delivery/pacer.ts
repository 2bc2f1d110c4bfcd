/**
 * Teams' rate limits for a bot, kept below on this side so that a burst is spread instead of answered with 429
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit): per bot and conversation
 * 7 requests a second, 8 per 2 s, 60 per 30 s and 1,800 an hour (sends, new conversations and card updates alike);
 * 50 requests a second per app and tenant. A 429's Retry-After pauses the conversation it came from.
 */

export interface Window {
  ms: number;
  max: number;
}

export interface PacerLimits {
  conversation: readonly Window[];
  tenant: readonly Window[];
  /** Added to every window: Teams counts when a request arrives, this side when it leaves. */
  marginMs: number;
}

export const TEAMS_LIMITS: PacerLimits = {
  conversation: [
    { ms: 1_000, max: 7 },
    { ms: 2_000, max: 8 },
    { ms: 30_000, max: 60 },
    { ms: 3_600_000, max: 1_800 },
  ],
  tenant: [{ ms: 1_000, max: 50 }],
  marginMs: 10,
};

/** Request times per key, newest last, and a pause (Retry-After) per key. */
export class Pacer {
  private readonly sent = new Map<string, number[]>();
  private readonly pausedUntil = new Map<string, number>();

  constructor(private readonly limits: PacerLimits = TEAMS_LIMITS) {}

  /** How long a request to `conversation` in `tenant` must wait from `now` (0: it may go now). */
  wait(tenant: string, conversation: string, now: number): number {
    const keys: Array<[string, readonly Window[]]> = [
      [`t:${tenant}`, this.limits.tenant],
      [`c:${conversation}`, this.limits.conversation],
    ];
    let at = now;
    for (const [key, windows] of keys) {
      at = Math.max(at, this.pausedUntil.get(key) ?? 0);
      const times = this.sent.get(key) ?? [];
      for (const window of windows) {
        // The request may go once the (max)th most recent one has left the window.
        if (times.length >= window.max)
          at = Math.max(at, times[times.length - window.max] + window.ms + this.limits.marginMs);
      }
    }
    return at - now;
  }

  /**
   * Counts a request (every HTTP attempt counts, a retried one included) as sent at `now`. Teams counts it when it
   * arrives, somewhere before the answer: call the returned function when the answer comes, and the request is
   * counted at that time instead (later, so the next ones keep their distance however long this one took).
   */
  take(tenant: string, conversation: string, now: number): (answeredAt: number) => void {
    const entries: Array<[number[], number]> = [];
    for (const [key, windows] of [
      [`t:${tenant}`, this.limits.tenant],
      [`c:${conversation}`, this.limits.conversation],
    ] as const) {
      const times = this.sent.get(key) ?? [];
      times.push(now);
      const longest = Math.max(...windows.map((w) => w.ms)) + this.limits.marginMs;
      let drop = 0;
      while (drop < times.length && times[drop] <= now - longest) drop++;
      if (drop > 0) times.splice(0, drop);
      this.sent.set(key, times);
      entries.push([times, now]);
    }
    return (answeredAt) => {
      for (const [times, at] of entries) {
        const index = times.lastIndexOf(at);
        if (index < 0 || answeredAt <= at) continue;
        times.splice(index, 1);
        let insert = times.length;
        while (insert > 0 && times[insert - 1] > answeredAt) insert--;
        times.splice(insert, 0, answeredAt);
      }
    };
  }

  /** Teams answered 429 with Retry-After: nothing goes to that conversation before `until`. */
  pause(conversation: string, until: number): void {
    const key = `c:${conversation}`;
    this.pausedUntil.set(key, Math.max(until, this.pausedUntil.get(key) ?? 0));
  }
}
