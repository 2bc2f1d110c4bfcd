/** What a failed end-to-end test leaves behind to look at. */
import type { Page } from 'playwright-core';
import type { ManagedProcess } from '../../../src/dev/processes';
import { screenshot } from './browser';

/**
 * After a failed test: a screenshot (test-results/<name>-failure.png) and the last lines of each process's
 * output on stderr. Never throws.
 */
export async function reportFailure(
  name: string,
  page: Page | undefined,
  processes: Array<ManagedProcess | undefined>,
  lines = 40,
): Promise<void> {
  if (page) {
    try {
      console.error(`  screenshot: ${await screenshot(page, `${name}-failure`)}`);
    } catch (error) {
      console.error(`  (no screenshot: ${(error as Error).message})`);
    }
  }
  for (const proc of processes) {
    if (!proc) continue;
    const state = proc.hasExited() ? ' (it has exited)' : '';
    console.error(`  --- last ${lines} lines of the ${proc.name}${state} ---`);
    for (const line of proc.recentOutput().slice(-lines)) console.error(`  ${line}`);
  }
}
