/**
 * Chromium (Debian's /usr/bin/chromium through playwright-core) and helpers for the Playground's chat UI.
 *
 * The UI has few stable hooks. What these helpers rely on (Playground 0.2.28):
 * - chat input `div[role="textbox"][data-lexical-editor="true"]`, send button `button[aria-label="Send Message"]`;
 * - each message is a block whose direct child is `[aria-label="Message header"]`; a bot message's header
 *   holds `[aria-label="Message author"]` (the user's own messages have none);
 * - the chat list on the left repeats the last message's text: match inside messages, never the page;
 * - a card is `.ac-adaptiveCard`; an expanded ChoiceSet renders `input[type=radio]` labelled by the choice
 *   title; text inputs are labelled by their `label`; actions are `button[title="..."]`;
 * - an updated message (updateActivity) is re-rendered in place; reloading the page empties the chat.
 * - an Action.Submit whose data has a top-level `key` (or an `msteams` object) does nothing when clicked: the
 *   page throws instead of submitting (see playgroundUiCanSubmit in playgroundApi.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { projectRoot } from '../../../src/projectRoot';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Chromium with a throwaway profile. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-invite-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function chatInput(page: Page): Locator {
  return page.locator('div[role="textbox"][data-lexical-editor="true"]');
}

/** Opens the Playground UI (personal chat) and waits until one can chat; hides the log panel. */
export async function openPlayground(page: Page, url: string, timeoutMs = 45_000): Promise<void> {
  await page.goto(url, { timeout: timeoutMs });
  await chatInput(page).waitFor({ state: 'visible', timeout: timeoutMs });
  // the log panel repeats message texts; it is shown on load, a moment after the chat box
  await hideLogPanel(page, 3000);
}

/**
 * Hides the Playground's log panel if it is shown, waiting up to `waitMs` for it to appear. On a busy page
 * (many cards arriving while it loads) it can appear only after openPlayground() stopped waiting for it.
 */
export async function hideLogPanel(page: Page, waitMs = 0): Promise<void> {
  const hide = page.locator('button[title="Hide log panel"]');
  const shown =
    waitMs > 0
      ? await hide.waitFor({ state: 'visible', timeout: waitMs }).then(
          () => true,
          () => false,
        )
      : await hide.isVisible();
  if (shown) await hide.click();
}

/** All chat messages (user's and bot's) in the open conversation. */
export function messages(page: Page): Locator {
  return page.locator('div:has(> [aria-label="Message header"])');
}

export function botMessages(page: Page): Locator {
  return messages(page).filter({ has: page.locator('[aria-label="Message author"]') });
}

/** Types `text` into the chat box and sends it; waits until the box is empty again. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const input = chatInput(page);
  await input.click();
  await page.keyboard.type(text);
  await page.locator('button[aria-label="Send Message"]').click();
  await page.waitForFunction((el) => (el?.textContent ?? '').trim() === '', await input.elementHandle(), {
    timeout: 5000,
  });
}

/** Waits for a bot message (text or card, new or updated in place) containing `text`; returns the last one. */
export async function waitForBotMessage(page: Page, text: string | RegExp, timeoutMs = 15_000): Promise<Locator> {
  const found = botMessages(page).filter({ hasText: text }).last();
  await found.waitFor({ state: 'visible', timeout: timeoutMs });
  return found;
}

export function cards(page: Page): Locator {
  return page.locator('.ac-adaptiveCard');
}

export function lastCard(page: Page): Locator {
  return cards(page).last();
}

export interface CardMatch {
  /** Text the card contains. */
  text?: string | RegExp;
  /** Title of a button it has. */
  button?: string;
  /** Title of a radio choice it has. */
  choice?: string;
  /** Label of an input it has. */
  label?: string;
}

let cardTags = 0;

/**
 * Waits for a card matching `match` that no earlier nextCard() call has seen, so that cards left in the
 * chat by earlier steps (with the same buttons and choices) are never picked again. A card updated in place
 * is rendered anew, so it counts as unseen. Returns a locator pinned to that card.
 */
export async function nextCard(page: Page, match: CardMatch, timeoutMs = 15_000): Promise<Locator> {
  let candidates = page.locator('.ac-adaptiveCard:not([data-e2e-seen])');
  if (match.text !== undefined) candidates = candidates.filter({ hasText: match.text });
  if (match.button !== undefined)
    candidates = candidates.filter({ has: page.locator(`button[title=${JSON.stringify(match.button)}]`) });
  if (match.choice !== undefined)
    candidates = candidates.filter({ has: page.getByRole('radio', { name: match.choice, exact: true }) });
  if (match.label !== undefined) candidates = candidates.filter({ has: page.getByLabel(labelPattern(match.label)) });
  const card = candidates.last();
  await card.waitFor({ state: 'visible', timeout: timeoutMs });
  const tag = `card-${++cardTags}`;
  await card.evaluate((el, value) => el.setAttribute('data-e2e-card', value), tag);
  await cards(page).evaluateAll((all) => all.forEach((el) => el.setAttribute('data-e2e-seen', '')));
  return page.locator(`.ac-adaptiveCard[data-e2e-card="${tag}"]`);
}

function labelPattern(label: string): RegExp {
  // a required input's label gets a trailing "*"
  return new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`);
}

/** Selects the radio button titled `title` in an expanded ChoiceSet of `card`. */
export async function selectChoice(card: Locator, title: string): Promise<void> {
  await card.getByRole('radio', { name: title, exact: true }).check();
}

/**
 * Types into the card input labelled `label` (a single- or multi-line Input.Text): click, type, Tab.
 * `locator.fill()` is avoided: its value was sometimes missing from the submitted data.
 * In a multi-line input "\n" types a line break.
 */
export async function typeInto(card: Locator, label: string, text: string): Promise<void> {
  const input = card.getByLabel(labelPattern(label));
  await input.click();
  await input.press('ControlOrMeta+a');
  await card.page().keyboard.type(text);
  await card.page().keyboard.press('Tab');
}

/** Clicks the card action (Action.Submit/Execute/...) titled `title`. */
export async function clickButton(card: Locator, title: string): Promise<void> {
  await card.locator(`button[title=${JSON.stringify(title)}]`).click();
}

export const RESULTS_DIR = path.join(projectRoot(), 'test-results');

/** Saves a screenshot of the page as test-results/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
