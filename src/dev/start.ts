/**
 * `npm start`: runs the bot (dist/src/index.js) and the Microsoft 365 Agents Playground in front of it,
 * so that you can chat with Guest Invite in a browser as the demo tenant's Megan Bowen.
 *
 * The npm script builds first; this file builds nothing. It also exports the small process helpers it
 * uses (start a process in its own group, wait for an HTTP endpoint, start the Playground), which the
 * end-to-end tests reuse. It must not import anything from src/bot or src/domain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

import { projectRoot } from '../projectRoot';
import { NODE_FLAGS } from '../runtime';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** True once `exited` has resolved. */
  hasExited(): boolean;
  /** The last lines it wrote on stdout and stderr, oldest first. */
  recentOutput(): string[];
  /** SIGTERM to its whole process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for every line the process writes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How many lines recentOutput() keeps (default 200). */
  keepLines?: number;
}

/** Process groups still running; killed when this process exits, however it exits. */
const runningGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of runningGroups) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export function describeExit(exit: ProcessExit): string {
  if (exit.error) return `could not start (${exit.error.message})`;
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
}

/**
 * Starts `command` in a process group of its own (so that stop() also ends whatever it starts),
 * with no stdin, its output split into lines.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: StartProcessOptions = {},
): ManagedProcess {
  const keep = options.keepLines ?? 200;
  const lines: string[] = [];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid !== undefined) runningGroups.add(pid);

  const record = (stream: 'stdout' | 'stderr') => (line: string) => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
    options.onLine?.(line, stream);
  };
  readline.createInterface({ input: child.stdout! }).on('line', record('stdout'));
  readline.createInterface({ input: child.stderr! }).on('line', record('stderr'));

  let done = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    const finish = (exit: ProcessExit) => {
      if (done) return;
      done = true;
      if (pid !== undefined) {
        runningGroups.delete(pid);
        signalGroup(pid, 'SIGKILL'); // whatever the leader left behind
      }
      resolve(exit);
    };
    child.once('exit', (code, signal) => finish({ code, signal }));
    child.once('error', (error) => finish({ code: null, signal: null, error }));
  });

  return {
    name,
    child,
    exited,
    hasExited: () => done,
    recentOutput: () => [...lines],
    async stop(graceMs = 3000) {
      if (done || pid === undefined) {
        await exited;
        return;
      }
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface WaitForHttpOptions {
  timeoutMs?: number;
  /** Stop waiting (and fail) as soon as this process exits. */
  process?: ManagedProcess;
}

/** Polls `url` until it answers 200. */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const proc = options.process;
    if (proc?.hasExited()) {
      const exit = await proc.exited;
      const tail = proc.recentOutput().slice(-20).join('\n');
      throw new Error(`${proc.name} ${describeExit(exit)} before ${url} answered. Its last output:\n${tail}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** True when nothing listens on `port` (checked on all interfaces, as the Playground listens). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

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

/** The Playground's log file: `logFile`, else `M365_AGENTS_PLAYGROUND_LOGFILE`, else devTools/m365agentsplayground.log. */
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
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    if (!(await isPortFree(port))) {
      throw new Error(`port ${port} is busy (another Playground?); stop what uses it or choose another port`);
    }
    const root = projectRoot();
    const logFile = playgroundLogFile(options);
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
    const timeoutMs = options.timeoutMs ?? 30_000;
    const actual = await new Promise<number>((resolve, reject) => {
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
    if (actual !== port) {
      await proc.stop();
      if (attempt < attempts) continue;
      throw new Error(`the Playground took port ${actual} instead of ${port} (port ${port} became busy)`);
    }
    try {
      await waitForHttp(`http://127.0.0.1:${port}/_debug/ping`, { timeoutMs, process: proc });
    } catch {
      const what = proc.hasExited()
        ? `${describeExit(await proc.exited)} before it answered /_debug/ping`
        : 'did not answer /_debug/ping';
      await proc.stop();
      throw playgroundFailure(what, proc, logFile);
    }
    return { url: `http://localhost:${port}`, port, process: proc, stop: () => proc.stop() };
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a port number, got '${raw}'`);
  return value;
}

function forward(prefix: string) {
  return (line: string, stream: 'stdout' | 'stderr') => {
    (stream === 'stderr' ? process.stderr : process.stdout).write(`${prefix} ${line}\n`);
  };
}

async function main(): Promise<number> {
  const root = projectRoot();
  const botPort = portFromEnv('PORT', 3978);
  const playgroundPort = portFromEnv('PLAYGROUND_PORT', 56150);
  const botEntry = path.join(root, 'dist', 'src', 'index.js');
  if (!fs.existsSync(botEntry)) {
    console.error(`[start] ${path.relative(root, botEntry)} is missing: run \`npm run build\` first (npm start does).`);
    return 1;
  }
  if (!(await isPortFree(botPort))) {
    console.error(`[start] port ${botPort} is busy: stop what uses it, or set PORT to another port.`);
    return 1;
  }
  if (!(await isPortFree(playgroundPort))) {
    console.error(
      `[start] port ${playgroundPort} is busy (another Playground?): stop it, or set PLAYGROUND_PORT to another port.`,
    );
    return 1;
  }

  console.log(`[start] starting the bot on port ${botPort}`);
  const bot = startProcess('bot', process.execPath, [...NODE_FLAGS, botEntry], {
    cwd: root,
    env: { LOG_FORMAT: 'pretty', ...process.env, PORT: String(botPort) },
    onLine: forward('[bot]'),
  });
  let playground: RunningPlayground | undefined;
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all([playground?.stop(), bot.stop()]);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`[start] ${signal}: stopping the bot and the Playground`);
      void stopAll().then(() => process.exit(0));
    });
  }

  try {
    await waitForHttp(`http://127.0.0.1:${botPort}/healthz`, { timeoutMs: 60_000, process: bot });
    console.log(`[start] the bot is up; starting the Playground on port ${playgroundPort}`);
    playground = await startPlayground({
      botEndpoint: `http://127.0.0.1:${botPort}/api/messages`,
      port: playgroundPort,
      configPath: path.join(root, '.m365agentsplayground.yml'),
      onLine: forward('[playground]'),
    });
  } catch (error) {
    if (stopping) return 0;
    console.error(`[start] ${(error as Error).message}`);
    await stopAll();
    return 1;
  }

  console.log(`[start] the Playground writes its log (each activity, each error) to ${playgroundLogFile({})}`);
  console.log(`Open ${playground.url} to chat with Guest Invite as Megan Bowen (demo tenant)`);
  const first = await Promise.race([
    bot.exited.then((exit) => ({ proc: bot, exit })),
    playground.process.exited.then((exit) => ({ proc: playground!.process, exit })),
  ]);
  if (stopping) return 0;
  console.error(`[start] ${first.proc.name} ${describeExit(first.exit)}; stopping everything`);
  await stopAll();
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`[start] ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
