/**
 * The one message catalog: src/i18n/locales/<language>/<area>.json, ICU MessageFormat (plurals, placeholders),
 * read once at start-up with i18next and its ICU plugin. A key is `<area>:<path>`, e.g. `invite:refused.notOwner`.
 * Dates, times and lists are formatted with Intl in the recipient's locale and time zone. See docs/i18n.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n as I18n } from 'i18next';
import ICU from 'i18next-icu';
import type { Msg, MsgParam } from '../domain/shared/message';
import { escapeMarkdown, isCatalogText, rememberCatalogText } from './markdown';

export const LANGUAGES = ['en', 'nl'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Who a message is for: their Teams client locale (e.g. nl-NL) and IANA time zone, as last seen. */
export interface Audience {
  locale?: string | null;
  timeZone?: string | null;
}

/** nl, nl-NL, nl-BE (any Dutch) → Dutch; anything else → English. */
export function languageOf(locale: string | null | undefined): Language {
  return /^nl(?:[-_]|$)/i.test((locale ?? '').trim()) ? 'nl' : 'en';
}

export type Catalogs = Record<Language, Record<string, Record<string, unknown>>>;

/** Folder of the catalogs: next to this module (the build copies the JSON files), else in the source tree. */
function localesDir(): string {
  const here = path.join(__dirname, 'locales');
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', '..', 'src', 'i18n', 'locales');
}

/** Every catalog file, by language and area (file name without .json). */
export function readCatalogs(dir: string = localesDir()): Catalogs {
  const catalogs = {} as Catalogs;
  for (const language of LANGUAGES) {
    catalogs[language] = {};
    for (const file of fs
      .readdirSync(path.join(dir, language))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      catalogs[language][file.slice(0, -'.json'.length)] = JSON.parse(
        fs.readFileSync(path.join(dir, language, file), 'utf8'),
      ) as Record<string, unknown>;
    }
  }
  return catalogs;
}

let shared: I18n | undefined;

function instance(): I18n {
  if (shared) return shared;
  const catalogs = readCatalogs();
  const created = i18next.createInstance();
  void created.use(ICU).init({
    initAsync: false,
    resources: catalogs,
    lng: 'en',
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    ns: Object.keys(catalogs.en),
    defaultNS: 'common',
    returnNull: false,
    interpolation: { escapeValue: false },
  });
  shared = created;
  return created;
}

/**
 * A placeholder's value as text: names, addresses and typed text have no markdown effect (escaped); a message
 * rendered from the catalog before (e.g. a title passed on) keeps its own formatting.
 */
function asText(value: string): string {
  return isCatalogText(value) ? value : escapeMarkdown(value);
}

const validZones = new Map<string, boolean>();

function validTimeZone(zone: string | null | undefined): string | undefined {
  if (!zone) return undefined;
  let ok = validZones.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      ok = true;
    } catch {
      ok = false;
    }
    if (validZones.size < 1000) validZones.set(zone, ok);
  }
  return ok ? zone : undefined;
}

/** Renders catalog messages, dates and lists for one audience. */
export class Localizer {
  readonly language: Language;
  /** The BCP 47 locale Intl formats with: the audience's own when it is of the chosen language. */
  readonly locale: string;
  readonly timeZone: string | undefined;

  constructor(audience: Audience = {}) {
    this.language = languageOf(audience.locale);
    const own = (audience.locale ?? '').trim().replace('_', '-');
    const fits =
      own !== '' && languageOf(own) === this.language && Intl.DateTimeFormat.supportedLocalesOf(own).length > 0;
    this.locale = fits ? own : this.language === 'nl' ? 'nl-NL' : 'en-US';
    this.timeZone = validTimeZone(audience.timeZone);
  }

  /** The message under `key`, its placeholders filled in (a parameter may be a message itself). */
  t(key: string, params: Record<string, MsgParam> = {}): string {
    const values: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(params))
      values[name] = typeof value === 'object' ? this.msg(value) : typeof value === 'string' ? asText(value) : value;
    const text = instance().t(key, { ...values, lng: this.language });
    rememberCatalogText(text);
    return text;
  }

  /** A domain message; plain strings (kept by older records) are shown as text. */
  msg(message: Msg | string): string {
    return typeof message === 'string' ? asText(message) : this.t(message.key, message.params);
  }

  /** Date and time, e.g. "2 dec. 2026, 14:05" in the audience's time zone. */
  dateTime(value: Date | string): string {
    return new Intl.DateTimeFormat(this.locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: this.timeZone,
    }).format(new Date(value));
  }

  /** The date alone, e.g. "2 dec 2026" / "Dec 2, 2026", in the audience's time zone. */
  date(value: Date | string): string {
    return new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium', timeZone: this.timeZone }).format(
      new Date(value),
    );
  }

  /** "just now", "2 hours ago", "over 3 dagen": the largest whole unit between `value` and `now`. */
  relative(value: Date | string, now: Date): string {
    const seconds = Math.round((new Date(value).getTime() - now.getTime()) / 1000);
    const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
      ['day', 86400],
      ['hour', 3600],
      ['minute', 60],
    ];
    const format = new Intl.RelativeTimeFormat(this.locale, { numeric: 'auto' });
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
    }
    return this.t('common:justNow');
  }

  /** "A, B and C" / "A, B en C"; with `disjunction` "A, B or C" / "A, B of C". */
  list(items: readonly string[], type: 'conjunction' | 'disjunction' = 'conjunction'): string {
    return new Intl.ListFormat(this.locale, { style: 'long', type }).format(items);
  }

  /** The fixed texts of a card template (`cards:<name>.*`), bound to `${l.…}` in the template. */
  labels(card: string): Record<string, string> {
    let found = this.cardLabels.get(card);
    if (!found) {
      const texts = instance().getResource('en', 'cards', card) as Record<string, unknown> | undefined;
      found = Object.fromEntries(Object.keys(texts ?? {}).map((k) => [k, this.t(`cards:${card}.${k}`)]));
      this.cardLabels.set(card, found);
    }
    return found;
  }

  /** Fixed card texts never change for a language: each card's are looked up once. */
  private readonly cardLabels = new Map<string, Record<string, string>>();
}

const byAudience = new Map<string, Localizer>();

/** The localizer for an audience (cached: a few locales and time zones cover everyone). */
export function localizer(audience: Audience = {}): Localizer {
  const id = `${audience.locale ?? ''}|${audience.timeZone ?? ''}`;
  let found = byAudience.get(id);
  if (!found) {
    found = new Localizer(audience);
    if (byAudience.size < 500) byAudience.set(id, found);
  }
  return found;
}
