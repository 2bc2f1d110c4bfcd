/**
 * The bot as its own process (node dist/src/index.js), and its structured log.
 *
 * The bot writes one JSON object per line (`{time, level, event, ...fields}`); other lines (Node warnings)
 * are kept by the process's recentOutput() but are not log records.
 */
import path from 'node:path';
import { freePort, startProcess, waitForHttp, type ManagedProcess } from '../../../src/dev/processes';
import { projectRoot } from '../../../src/projectRoot';
import { NODE_FLAGS } from '../../../src/runtime';

export interface BotLogLine {
  time?: string;
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface BotLogWaitOptions {
  /** Look only at lines after this position (from mark()). */
  since?: number;
  /** Further condition on the line. */
  match?: (line: BotLogLine) => boolean;
  timeoutMs?: number;
}

/** Collects the bot's log records as they are written; lets a test wait for one. */
export class BotLog {
  private readonly entries: BotLogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private lastOutputAt = Date.now();

  /** Pass as (or call from) startProcess's `onLine`: every output line, JSON or not. */
  readonly onLine = (line: string): void => {
    this.lastOutputAt = Date.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // not a log record (e.g. a Node warning)
    }
    if (!parsed || typeof parsed !== 'object' || typeof (parsed as { event?: unknown }).event !== 'string') return;
    this.entries.push(parsed as BotLogLine);
    this.waiters.forEach((wake) => wake());
  };

  /** Every log record so far, oldest first. */
  lines(): BotLogLine[] {
    return [...this.entries];
  }

  /** The records named `event` (after position `since`). */
  events(event: string, since = 0): BotLogLine[] {
    return this.entries.slice(since).filter((l) => l.event === event);
  }

  /** A position in the log: pass it as `since` to look only at what comes after. */
  mark(): number {
    return this.entries.length;
  }

  /** Waits for a record named `event` (after `since`, matching `match`); returns it. */
  waitFor(event: string, options: BotLogWaitOptions = {}): Promise<BotLogLine> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const find = () =>
      this.entries.slice(options.since ?? 0).find((l) => l.event === event && (options.match?.(l) ?? true));
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise<BotLogLine>((resolve, reject) => {
      const wake = () => {
        const hit = find();
        if (!hit) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.entries.slice(-15).map((l) => JSON.stringify(l).slice(0, 300));
        reject(
          new Error(
            `the bot logged no '${event}' within ${timeoutMs} ms; its last records:\n${seen.join('\n') || '(none)'}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  /** Waits until the bot has written nothing (log record or not) for `quietMs`, e.g. after background work. */
  async waitForQuiet(quietMs: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idle = Date.now() - this.lastOutputAt;
      if (idle >= quietMs) return;
      if (Date.now() > deadline)
        throw new Error(`the bot kept writing to its log for ${timeoutMs} ms (wanted ${quietMs} ms of quiet)`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(quietMs - idle, 100)));
    }
  }
}

export interface BotOptions {
  /** The Graph endpoint (the simulator's graphBaseUrl). */
  graphBaseUrl: string;
  /** STORE_PATH: the SQLite file. */
  storePath: string;
  /** More environment for the bot (e.g. SETUP_SCAN_INTERVAL), over this process's environment. */
  env?: Record<string, string>;
  /** LOG_LEVEL, debug by default. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Called for every output line as well. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How long to wait for /healthz (default 30 s). */
  timeoutMs?: number;
}

export interface BotProcess {
  process: ManagedProcess;
  port: number;
  /** http://127.0.0.1:<port>/api/messages, for the Playground. */
  endpoint: string;
  log: BotLog;
  stop(): Promise<void>;
}

/** Starts node dist/src/index.js on a free port and waits until /healthz answers. */
export async function startBot(options: BotOptions): Promise<BotProcess> {
  const root = projectRoot();
  const port = await freePort();
  const log = new BotLog();
  const proc = startProcess('bot', process.execPath, [...NODE_FLAGS, path.join(root, 'dist', 'src', 'index.js')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      GRAPH_BASE_URL: options.graphBaseUrl,
      STORE_PATH: options.storePath,
      LOG_LEVEL: options.logLevel ?? 'debug',
      // The demo tenant's Guest Invite app (its manifest id): the bot finds its catalog id to install itself for
      // people.
      TEAMS_APP_ID: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e01',
      ...options.env,
    },
    onLine: (line, stream) => {
      log.onLine(line);
      options.onLine?.(line, stream);
    },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: options.timeoutMs ?? 30_000, process: proc });
  } catch (error) {
    await proc.stop().catch(() => undefined);
    throw error;
  }
  return { process: proc, port, endpoint: `http://127.0.0.1:${port}/api/messages`, log, stop: () => proc.stop() };
}
