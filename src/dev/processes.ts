/**
 * Small process helpers for `npm start` (./start.ts), the Playground (./playground.ts) and the end-to-end tests:
 * start a process in its own group (stopped with everything it started), wait for an HTTP endpoint, find a free port.
 * It must not import anything from src/bot or src/domain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';

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
