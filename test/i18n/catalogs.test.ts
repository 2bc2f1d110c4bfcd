/**
 * The catalogs stay complete and consistent: every key of one language exists in the other, with the same
 * placeholders and plural/select arguments; every message parses as ICU MessageFormat; every key the code names
 * literally exists.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { type LANGUAGES, languageOf, localizer, readCatalogs, type Catalogs } from '../../src/i18n';
import { msg } from '../../src/domain/shared/message';
import { projectRoot } from '../../src/projectRoot';

const ROOT = projectRoot(__dirname);

/** `area:path.to.key` → message, for one language. */
function flatten(catalogs: Catalogs, language: (typeof LANGUAGES)[number]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (prefix: string, node: unknown): void => {
    if (typeof node === 'string') out.set(prefix, node);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) walk(prefix.endsWith(':') ? `${prefix}${k}` : `${prefix}.${k}`, v);
    else assert.fail(`${language} ${prefix}: not a string or object`);
  };
  for (const [area, tree] of Object.entries(catalogs[language])) walk(`${area}:`, tree);
  return out;
}

/** intl-messageformat is an ES module: loaded once before the tests. */
let parse: (message: string) => unknown[];

/** The arguments of an ICU message with their kinds, e.g. ["count:plural", "group:argument"]. */
function argumentsOf(message: string, where: string): string[] {
  const kinds: Record<number, string> = { 1: 'argument', 2: 'number', 3: 'date', 4: 'time', 5: 'select', 6: 'plural' };
  const found = new Set<string>();
  const walk = (elements: unknown[]): void => {
    for (const el of elements as Array<{
      type: number;
      value?: unknown;
      options?: Record<string, { value: unknown[] }>;
    }>) {
      if (kinds[el.type])
        found.add(
          `${String(el.value)}:${kinds[el.type] === 'argument' || kinds[el.type] === 'number' ? 'argument' : kinds[el.type]}`,
        );
      for (const option of Object.values(el.options ?? {})) walk(option.value);
    }
  };
  let ast: unknown[];
  try {
    ast = parse(message);
  } catch (err) {
    assert.fail(`${where} does not parse as ICU MessageFormat: ${String(err)}`);
  }
  walk(ast);
  return [...found].sort();
}

describe('message catalogs (src/i18n/locales)', () => {
  before(async () => {
    const { IntlMessageFormat } = await import('intl-messageformat');
    parse = (message) => new IntlMessageFormat(message, 'en', undefined, { ignoreTag: true }).getAst() as unknown[];
  });
  const catalogs = readCatalogs();
  const en = flatten(catalogs, 'en');
  const nl = flatten(catalogs, 'nl');

  it('has the same area files in every language', () => {
    assert.deepEqual(Object.keys(catalogs.nl).sort(), Object.keys(catalogs.en).sort());
  });

  it('has every key in both languages', () => {
    assert.deepEqual(
      [...en.keys()].filter((k) => !nl.has(k)),
      [],
      'keys missing in nl',
    );
    assert.deepEqual(
      [...nl.keys()].filter((k) => !en.has(k)),
      [],
      'keys missing in en',
    );
  });

  it('uses the same placeholders and plural/select arguments in both languages', () => {
    const differ: string[] = [];
    for (const [key, english] of en) {
      const dutch = nl.get(key);
      if (dutch === undefined) continue;
      const a = argumentsOf(english, `en ${key}`).join(', ');
      const b = argumentsOf(dutch, `nl ${key}`).join(', ');
      if (a !== b) differ.push(`${key}: en [${a}] nl [${b}]`);
    }
    assert.deepEqual(differ, []);
  });

  it('has no empty message', () => {
    assert.deepEqual(
      [...en, ...nl].filter(([, v]) => v.trim() === '').map(([k]) => k),
      [],
    );
  });

  it('knows every key the code names literally (t(…), msg(…), titles)', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) files.push(full);
      }
    };
    walk(path.join(ROOT, 'src'));
    const areas = Object.keys(catalogs.en).join('|');
    const literal = new RegExp(`['"\`]((?:${areas}):[A-Za-z0-9_.-]+)['"\`]`, 'g');
    const unknown: string[] = [];
    let seen = 0;
    for (const file of files) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(literal)) {
        seen++;
        const key = match[1];
        // A key that is a prefix of others (e.g. a card's labels) counts when something lies under it.
        if (!en.has(key) && ![...en.keys()].some((k) => k.startsWith(`${key}.`)))
          unknown.push(`${path.relative(ROOT, file)}: ${key}`);
      }
    }
    assert.ok(seen > 100, `found only ${seen} keys in the code`);
    assert.deepEqual(unknown, []);
  });

  it('picks Dutch for nl, nl-NL and nl-BE and English for everything else', () => {
    assert.deepEqual(
      ['nl', 'nl-NL', 'nl-BE', 'NL-nl', 'en-US', 'de-DE', '', undefined, 'nld'].map((l) => languageOf(l)),
      ['nl', 'nl', 'nl', 'nl', 'en', 'en', 'en', 'en', 'en'],
    );
  });

  it('renders placeholders, plurals, nested messages, dates in the time zone, relative times and lists', () => {
    const dutch = localizer({ locale: 'nl-NL', timeZone: 'Europe/Amsterdam' });
    const english = localizer({ locale: 'en-US', timeZone: 'America/New_York' });
    assert.equal(
      dutch.t('requests:pendingResent', { count: 1 }),
      'Er wacht 1 aanvraag op uw beslissing: de kaart staat hierboven.',
    );
    assert.equal(
      english.t('requests:pendingResent', { count: 3 }),
      '3 requests are waiting for your decision: the cards are above.',
    );
    assert.match(
      dutch.msg(msg('invite:refused.groupBlocked', { why: msg('common:blocker.dynamic', { group: 'G', app: 'A' }) })),
      /^G heeft dynamisch lidmaatschap: .* Ik heb niets gedaan\.$/,
    );
    const at = '2026-12-02T23:30:00Z';
    assert.match(dutch.dateTime(at), /3 dec\.? 2026.*00:30/);
    assert.match(english.dateTime(at), /Dec 2, 2026.*6:30/);
    assert.equal(dutch.relative('2026-12-02T21:30:00Z', new Date(at)), '2 uur geleden');
    assert.equal(english.relative('2026-12-05T23:30:00Z', new Date(at)), 'in 3 days');
    assert.equal(dutch.list(['Megan', 'Alex', 'Lee']), 'Megan, Alex en Lee');
    assert.equal(
      localizer({ locale: 'nl-NL', timeZone: 'Not/AZone' }).timeZone,
      undefined,
      'an unknown time zone is ignored',
    );
  });
});
