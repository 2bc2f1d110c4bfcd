/**
 * The Microsoft 365 Agents Playground in front of the bot (`agentsplayground`): started on a port, checked that it
 * took that port and serves, and why it failed (its output and the error lines of its log file).
 * It must not import anything from src/bot or src/domain.
 */
import fs from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../projectRoot';
import { describeExit, freePort, isPortFree, startProcess, waitForHttp, type ManagedProcess } from './processes';

export interface PlaygroundOptions {
  /** The bot's messaging endpoint, e.g. http://127.0.0.1:3978/api/messages. */
  botEndpoint: string;
  /** The port to serve on; a free one when omitted. A busy port is an error. */
  port?: number;
  /** The .m365agentsplayground.yml to use (mock tenant, users, chats). */
  configPath: string;
  /** Where the Playground writes its own log (default: ./devTools/m365agentsplayground.log). */
  logFile?: string;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  timeoutMs?: number;
}

export interface RunningPlayground {
  /** The UI, e.g. http://localhost:56150 (the Bot Connector mock is `${url}/_connector`). */
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The Playground's log file: `logFile`, else `M365_AGENTS_PLAYGROUND_LOGFILE`, else devTools/m365agentsplayground.log.
 */
export function playgroundLogFile(options: Pick<PlaygroundOptions, 'logFile'>): string {
  return (
    options.logFile ??
    process.env.M365_AGENTS_PLAYGROUND_LOGFILE ??
    path.join(projectRoot(), 'devTools', 'm365agentsplayground.log')
  );
}

/** Why the Playground failed: its output, and the `error` lines of its log file (where it says why). */
function playgroundFailure(what: string, proc: ManagedProcess, logFile: string): Error {
  let logged: string[] = [];
  try {
    logged = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('error '));
  } catch {
    // no log file
  }
  const output = proc.recentOutput().join('\n') || '(none)';
  return new Error(
    `the Playground ${what}. Its output:\n${output}\nErrors in ${logFile}:\n${logged.slice(-10).join('\n') || '(none)'}`,
  );
}

/**
 * Starts `agentsplayground -e <bot> -c msteams -p <port> --disable-telemetry` and waits until it serves.
 *
 * The Playground does not fail on a busy port: it silently listens on a random one. When its stdout is
 * not a terminal it prints only `Listening on <port>` there (everything else goes to its log file), so the
 * port is checked before and confirmed from that line after. A config file it does not accept makes it
 * exit 1 right after that line, saying why only in its log file.
 */
export async function startPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  const attempts = options.port === undefined ? 3 : 1;
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    if (!(await isPortFree(port))) {
      throw new Error(`port ${port} is busy (another Playground?); stop what uses it or choose another port`);
    }
    const logFile = playgroundLogFile(options);
    const { proc, listening } = spawnPlayground(options, port, logFile, timeoutMs);
    const actual = await listening;
    if (actual !== port) {
      await proc.stop();
      if (attempt < attempts) continue;
      throw new Error(`the Playground took port ${actual} instead of ${port} (port ${port} became busy)`);
    }
    await confirmServing(proc, port, logFile, timeoutMs);
    return { url: `http://localhost:${port}`, port, process: proc, stop: () => proc.stop() };
  }
}

/**
 * Starts the Playground process on `port`; `listening` resolves with the port it says it listens on, or rejects
 * (the process stopped) when it exits first or says nothing within `timeoutMs`.
 */
function spawnPlayground(
  options: PlaygroundOptions,
  port: number,
  logFile: string,
  timeoutMs: number,
): { proc: ManagedProcess; listening: Promise<number> } {
  const root = projectRoot();
  let onListening: (port: number) => void = () => undefined;
  const proc = startProcess(
    'Playground',
    path.join(root, 'node_modules', '.bin', 'agentsplayground'),
    ['-e', options.botEndpoint, '-c', 'msteams', '-p', String(port), '--disable-telemetry'],
    {
      cwd: root,
      env: {
        ...process.env,
        TEAMSAPPTESTER_BROWSER: 'none',
        M365_AGENTS_PLAYGROUND_CONFIG_PATH: options.configPath,
        M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      },
      onLine: (line, stream) => {
        const match = /^Listening on (\d+)/.exec(line);
        if (match) onListening(Number(match[1]));
        options.onLine?.(line, stream);
      },
    },
  );
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(playgroundFailure(`did not say 'Listening on <port>' within ${timeoutMs} ms`, proc, logFile)),
      timeoutMs,
    );
    onListening = (announced) => {
      clearTimeout(timer);
      resolve(announced);
    };
    void proc.exited.then((exit) => {
      clearTimeout(timer);
      reject(playgroundFailure(`${describeExit(exit)} before it served`, proc, logFile));
    });
  }).catch(async (error: unknown) => {
    await proc.stop();
    throw error;
  });
  return { proc, listening };
}

/** Waits until the Playground answers /_debug/ping; else stops it and says why. */
async function confirmServing(proc: ManagedProcess, port: number, logFile: string, timeoutMs: number): Promise<void> {
  try {
    await waitForHttp(`http://127.0.0.1:${port}/_debug/ping`, { timeoutMs, process: proc });
  } catch {
    const what = proc.hasExited()
      ? `${describeExit(await proc.exited)} before it answered /_debug/ping`
      : 'did not answer /_debug/ping';
    await proc.stop();
    throw playgroundFailure(what, proc, logFile);
  }
}
