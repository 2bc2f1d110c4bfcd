/** Helpers for crash tests: kill a process group without warning, poll for a condition. */
import type { ManagedProcess, ProcessExit } from '../../../src/dev/processes';

/**
 * Sends `signal` (SIGKILL by default: no handler runs, nothing is flushed or closed) to the whole process group
 * of `proc` (startProcess starts each process as the leader of its own group) and waits until it has exited.
 */
export async function killGroup(proc: ManagedProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
  const pid = proc.child.pid;
  if (pid !== undefined && !proc.hasExited()) {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }
  return proc.exited;
}

export interface WaitUntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Extra text for the error on timeout (e.g. what was seen last), computed only then. */
  describe?: () => string;
}

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that.
 * Errors thrown by `probe` count as "not yet" (the last one is reported on timeout).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitUntilOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: string;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = '';
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const extra = [lastError && `last error: ${lastError}`, options.describe?.()].filter(Boolean).join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra ? `\n${extra}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
