/** The end-to-end harness: processes, the Playground (UI and HTTP API), Chromium, demo configs, the whole stack. */
import path from 'node:path';
import { projectRoot } from '../../../src/projectRoot';

export {
  describeExit,
  freePort,
  isPortFree,
  startProcess,
  waitForHttp,
  type ManagedProcess,
} from '../../../src/dev/processes';
export { startPlayground, type PlaygroundOptions, type RunningPlayground } from '../../../src/dev/playground';
export { projectRoot };
export * from './alertStore';
export * from './bot';
export * from './botStore';
export * from './browser';
export * from './echoBot';
export * from './playgroundApi';
export * from './playgroundConfig';
export * from './report';
export * from './stack';

/** The committed Playground config (the demo tenant, as Megan Bowen). */
export const REPO_PLAYGROUND_CONFIG = path.join(projectRoot(), '.m365agentsplayground.yml');
