/** The end-to-end harness: processes, the Playground (UI and HTTP API), Chromium, demo configs. */
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { ManagedProcess } from '../../../src/dev/start';
import { projectRoot } from '../../../src/projectRoot';
import { screenshot } from './browser';

export {
  describeExit,
  freePort,
  isPortFree,
  startPlayground,
  startProcess,
  waitForHttp,
  type ManagedProcess,
  type PlaygroundOptions,
  type RunningPlayground,
} from '../../../src/dev/start';
export { projectRoot };
export * from './alertStore';
export * from './bot';
export * from './botStore';
export * from './browser';
export * from './echoBot';
export * from './playgroundApi';
export * from './playgroundConfig';

/** The committed Playground config (the demo tenant, as Megan Bowen). */
export const REPO_PLAYGROUND_CONFIG = path.join(projectRoot(), '.m365agentsplayground.yml');

/**
 * After a failed test: a screenshot (test-results/<name>-failure.png) and the last lines of each process's
 * output on stderr. Never throws.
 */
export async function reportFailure(name: string, page: Page | undefined, processes: Array<ManagedProcess | undefined>, lines = 40): Promise<void> {
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
