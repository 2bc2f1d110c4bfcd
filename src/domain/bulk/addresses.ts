/**
 * Parses the address list an owner pastes for a bulk invitation: one address a line, or separated by commas or
 * semicolons, each optionally as `Name <address>`. Every address goes through the one strict parser (../email.ts).
 * Domains the organization blocks for B2B collaboration cannot be read through Graph v1.0 with the bot's
 * permissions, so they are learnt from POST /invitations' refusal when the invitations are sent.
 */
import { isOwnDomain, parseEmail } from '../shared/email';
import { cleanText } from '../shared/text';
import type { Msg } from '../shared/message';

export type LineProblem = 'syntax' | 'ownDomain' | 'duplicate' | 'overLimit';

export interface ListEntry {
  /** 1-based position of the entry in the list. */
  position: number;
  /** The entry as typed (trimmed, at most 300 characters). */
  raw: string;
  /** The normalized address, when it parsed. */
  address: string | null;
  displayName: string | null;
  problem: LineProblem | null;
  /** The strict parser's explanation, for a syntax problem. */
  detail: Msg | null;
}

export interface ParsedList {
  valid: ListEntry[];
  invalid: ListEntry[];
  /** Entries found (non-empty), the invalid ones included. */
  total: number;
}

export interface ParseOptions {
  max: number;
  ownDomains: readonly string[];
}

/** Splits on newlines, commas and semicolons that are not inside `<…>` or double quotes. */
export function splitEntries(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let angle = false;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if (ch === '\n' || ch === '\r' || ((ch === ',' || ch === ';') && !angle && !quoted)) {
      out.push(current);
      current = '';
      if (ch === '\n' || ch === '\r') {
        angle = false;
        quoted = false;
      }
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** `Name <address>`, `"Name" <address>`, `<address>` or a bare address (a `mailto:` prefix is dropped). */
export function splitNameAndAddress(entry: string): { name: string | null; address: string } {
  const match = /^(.*?)<([^<>]*)>$/.exec(entry.trim());
  let name: string | null = null;
  let address = entry.trim();
  if (match) {
    address = match[2].trim();
    const rawName = match[1]
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    const cleaned = cleanText(rawName, { multiline: false }).slice(0, 256);
    name = cleaned.length > 0 ? cleaned : null;
  }
  address = address.replace(/^mailto:/i, '');
  return { name, address };
}

export function parseAddressList(text: string, options: ParseOptions): ParsedList {
  const entries = splitEntries(text);
  const valid: ListEntry[] = [];
  const invalid: ListEntry[] = [];
  const seen = new Set<string>();
  entries.forEach((rawEntry, i) => {
    const raw = rawEntry.slice(0, 300);
    const base = { position: i + 1, raw, address: null, displayName: null, problem: null, detail: null };
    if (i >= options.max) {
      invalid.push({ ...base, problem: 'overLimit' });
      return;
    }
    const { name, address } = splitNameAndAddress(rawEntry);
    const parsed = parseEmail(address);
    if (!parsed.ok) {
      invalid.push({ ...base, problem: 'syntax', detail: parsed.message });
      return;
    }
    const entry: ListEntry = { ...base, address: parsed.address, displayName: name };
    const key = parsed.address.toLowerCase();
    if (isOwnDomain(parsed.domain, options.ownDomains)) invalid.push({ ...entry, problem: 'ownDomain' });
    else if (seen.has(key)) invalid.push({ ...entry, problem: 'duplicate' });
    else {
      seen.add(key);
      valid.push(entry);
    }
  });
  return { valid, invalid, total: entries.length };
}
