/**
 * The whole product for an end-to-end suite: the Graph tenant simulator (in this process, demo tenant), the bot
 * as its own process on a temporary SQLite store, and for each demo user a Microsoft 365 Agents Playground in
 * front of that bot with its own headless Chromium.
 *
 * useStack() registers the suite's hooks: `before` starts everything, `afterEach` reports a failed test
 * (screenshots, the processes' last output), `after` stops everything and removes the temporary folder.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startPlayground, type RunningPlayground } from '../../../src/dev/playground';
import { loadDemoSeed, startSimulator, type RunningSimulator } from '../../../src/simulator';
import { startBot, type BotProcess } from './bot';
import { launchBrowser, type Browser } from './browser';
import { PlaygroundApi } from './playgroundApi';
import { writePlaygroundConfig, type DemoUserKey } from './playgroundConfig';
import { reportFailure } from './report';

export interface StackOptions<U extends DemoUserKey> {
  /** Names the temporary folder (guest-invite-<name>-e2e-*) and the failure reports (test-results/<name>-*). */
  name: string;
  /** One Playground and one browser for each, started in this order; the first one's report comes first. */
  users: readonly [U, ...U[]];
  /** A Playground config for a user; by default one written for that user by writePlaygroundConfig(). */
  configPaths?: Partial<Record<U, string>>;
  /** More environment for the bot (e.g. SETUP_SCAN_INTERVAL). */
  botEnv?: Record<string, string>;
  /** The timeout of the `before` hook (default 150 s). */
  setupTimeoutMs?: number;
  /** Skip the remaining tests once one has failed: each builds on the one before. */
  stopAfterFailure?: boolean;
  /** More setup once everything runs; a failure there is reported like any other setup failure. */
  setup?: (stack: Stack<U>) => Promise<void>;
}

export interface Stack<U extends DemoUserKey> {
  /** The temporary folder, removed at the end. */
  readonly tmp: string;
  /** The bot's SQLite store (STORE_PATH). */
  readonly storePath: string;
  readonly simulator: RunningSimulator;
  readonly bot: BotProcess;
  /** The Playground of `user`. */
  playground(user: U): RunningPlayground;
  /** The browser page for `user`'s Playground (not opened yet: see openPlayground()). */
  page(user: U): Page;
  /** Connects to the conversation stream of `user`'s Playground; closed at the end. */
  connect(user: U): Promise<PlaygroundApi>;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the end-to-end stack has no ${what} (it is not running)`);
  return value;
}

/** Registers the hooks that run the stack for the current `describe`; returns the stack (usable once `before` ran). */
export function useStack<U extends DemoUserKey>(options: StackOptions<U>): Stack<U> {
  let tmp: string | undefined;
  let simulator: RunningSimulator | undefined;
  let bot: BotProcess | undefined;
  const playgrounds = new Map<U, RunningPlayground>();
  const browsers = new Map<U, Browser>();
  const apis: PlaygroundApi[] = [];
  let failed = false;

  const stack: Stack<U> = {
    get tmp() {
      return required(tmp, 'temporary folder');
    },
    get storePath() {
      return path.join(stack.tmp, 'bot.sqlite');
    },
    get simulator() {
      return required(simulator, 'simulator');
    },
    get bot() {
      return required(bot, 'bot');
    },
    playground: (user) => required(playgrounds.get(user), `Playground for ${user}`),
    page: (user) => required(browsers.get(user), `browser for ${user}`).page,
    async connect(user) {
      const api = await PlaygroundApi.connect(stack.playground(user).url);
      apis.push(api);
      return api;
    },
  };

  /** One report per user (screenshot of their page), the first one with the output of every process. */
  const report = async (name: string): Promise<void> => {
    const processes = [bot?.process, ...options.users.map((user) => playgrounds.get(user)?.process)];
    for (const [i, user] of options.users.entries()) {
      const suffix = options.users.length > 1 ? `-${user}` : '';
      await reportFailure(`${name}${suffix}`, browsers.get(user)?.page, i === 0 ? processes : [], 60);
    }
  };

  before(async function () {
    this.timeout(options.setupTimeoutMs ?? 150_000);
    try {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), `guest-invite-${options.name}-e2e-`));
      simulator = await startSimulator({ seed: loadDemoSeed(), port: 0, recordBodies: true });
      bot = await startBot({ graphBaseUrl: simulator.graphBaseUrl, storePath: stack.storePath, env: options.botEnv });
      // one after the other: each takes a free port only once it is sure the others hold their own
      for (const user of options.users) {
        const playground = await startPlayground({
          botEndpoint: bot.endpoint,
          configPath: options.configPaths?.[user] ?? writePlaygroundConfig(user, tmp),
          logFile: path.join(tmp, `playground-${user}.log`),
        });
        const others = [...playgrounds.values()];
        playgrounds.set(user, playground);
        for (const other of others) assert.notEqual(other.port, playground.port);
      }
      const launched = await Promise.all(options.users.map(() => launchBrowser()));
      options.users.forEach((user, i) => browsers.set(user, launched[i]));
      await options.setup?.(stack);
    } catch (error) {
      console.error(`  setup failed: ${(error as Error).message}`);
      await report(`${options.name}-setup`);
      throw error;
    }
  });

  beforeEach(function () {
    if (options.stopAfterFailure && failed) this.skip();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      failed = true;
      await report(`${options.name}-${this.currentTest.title.replace(/\W+/g, '-')}`);
    }
  });

  after(async function () {
    this.timeout(30_000);
    apis.forEach((api) => api.close());
    await Promise.all([...browsers.values()].map((browser) => browser.close().catch(() => undefined)));
    await Promise.all([...playgrounds.values()].map((playground) => playground.stop().catch(() => undefined)));
    await bot?.stop().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  return stack;
}
