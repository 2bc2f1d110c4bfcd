/**
 * The processes a bench run measures (bot, echo bot, Graph simulator) and what /proc says about their CPU and memory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, waitForHttp, type ManagedProcess } from '../../src/dev/processes';
import { projectRoot } from '../../src/projectRoot';
import { NODE_FLAGS } from '../../src/runtime';

/** Kernel clock ticks per second (USER_HZ): 100 on Linux. */
const TICKS_PER_SECOND = 100;

export interface Measured {
  name: string;
  pid: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  process: ManagedProcess;
  /** Lines it wrote (counted, not kept: its logs are part of its cost, not of the bench's). */
  lines: number;
  stop(): Promise<void>;
}

/** User + system CPU of a process so far, in ms (from /proc/PID/stat; 10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Resident set size of a process now, in MiB (VmRSS of /proc/PID/status). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

async function start(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  ready: (port: number) => string,
  nodeArgs: string[] = [],
): Promise<Measured> {
  const root = projectRoot();
  const port = await freePort();
  const counter = { lines: 0 };
  // The bot runs as in production (NODE_FLAGS); the echo bot gets the same flags, so both are measured alike.
  const proc = startProcess(
    name,
    process.execPath,
    [
      ...NODE_FLAGS,
      ...nodeArgs,
      path.join(root, 'dist', script),
      ...args.map((a) => a.replace('{port}', String(port))),
    ],
    {
      cwd: root,
      env: { ...process.env, ...env, PORT: String(port) },
      keepLines: 40,
      onLine: () => {
        counter.lines++;
      },
    },
  );
  await waitForHttp(ready(port), { timeoutMs: 30_000, process: proc });
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`${name} has no process id`);
  return {
    name,
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    process: proc,
    get lines() {
      return counter.lines;
    },
    stop: () => proc.stop(5_000),
  };
}

export function startEcho(): Promise<Measured> {
  return start('echo bot', 'test/bench/echoServer.js', [], {}, (port) => `http://127.0.0.1:${port}/healthz`);
}

export function startSimulatorProcess(tenantFile: string): Promise<Measured> {
  return start(
    'Graph simulator',
    'src/simulator/main.js',
    ['--tenant', tenantFile, '--port', '{port}'],
    {},
    (port) => `http://127.0.0.1:${port}/_simulator/health`,
  );
}

export interface BotProcessOptions {
  graphBaseUrl: string;
  storePath: string;
  /** More environment (DATABASE_URL, LOG_LEVEL...). */
  env?: Record<string, string>;
  /** Node options, e.g. --cpu-prof (BENCH_NODE_ARGS). */
  nodeArgs?: string[];
}

export function startBotProcess(name: string, options: BotProcessOptions): Promise<Measured> {
  return start(
    name,
    'src/index.js',
    [],
    {
      GRAPH_MODE: 'simulator',
      GRAPH_BASE_URL: options.graphBaseUrl,
      STORE_PATH: options.storePath,
      LOG_LEVEL: 'info',
      INVITES_PER_USER_PER_HOUR: '1000000',
      ...options.env,
    },
    (port) => `http://127.0.0.1:${port}/healthz`,
    options.nodeArgs,
  );
}
