/**
 * Text from users and the directory shown without markdown effect. Teams renders message text and Adaptive Card
 * TextBlocks (and facts) as markdown: a display name like `[Admin consent needed](https://…)` would be a link from
 * the trusted bot. Every such value is escaped here, at the two places text reaches a reader: the message catalog's
 * placeholders (Localizer.t) and the card renderer's data (src/bot/cards.ts).
 *
 * The escaping is idempotent (escaping escaped text changes nothing): a backslash followed by ASCII punctuation is
 * kept as the escape it is, so a catalog message whose placeholders were escaped can go into a card unchanged.
 */

const ALWAYS = new Set(['\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '#', '{', '}']);
const PUNCTUATION = /[!-/:-@[-`{-~]/;

/** The text with every markdown character escaped (links, emphasis, code, headings, lists, mentions, autolinks). */
export function escapeMarkdown(text: string): string {
  let out = '';
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const next = text[i + 1] ?? '';
    if (c === '\\' && PUNCTUATION.test(next)) {
      out += c + next;
      i++;
      lineStart = false;
      continue;
    }
    if (c === '\n') {
      out += c;
      lineStart = true;
      continue;
    }
    const listMarker = lineStart && (c === '-' || c === '+' || c === '=');
    const orderedList = (c === '.' || c === ')') && /(?:^|\n)\s*\d+$/.test(text.slice(0, i));
    // `https://…` and `www.…` are made links by Teams even without brackets.
    const autolink = c === ':' && text.startsWith('//', i + 1);
    if (ALWAYS.has(c) || listMarker || orderedList || autolink) out += '\\';
    out += c;
    if (c !== ' ' && c !== '\t') lineStart = false;
  }
  return out.replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`);
}

/** Whether a string may carry markdown at all (plain words and numbers need no escaping). */
export function hasMarkdownCharacters(text: string): boolean {
  return /[\\`*_[\]<>|~#{}\-+=.):]/.test(text);
}

const CATALOG_TEXT_MAX = 20_000;
const catalogText = new Set<string>();

/** Remembers a message rendered from the catalog (its placeholders escaped): safe to show as it is. */
export function rememberCatalogText(text: string): void {
  if (catalogText.size >= CATALOG_TEXT_MAX) catalogText.clear();
  catalogText.add(text);
}

/**
 * Whether this exact string was rendered from the catalog by this process: its markdown is the catalog's own
 * (e.g. **request access**) and its placeholders are already escaped. Anything else is data.
 */
export function isCatalogText(text: string): boolean {
  return catalogText.has(text);
}
