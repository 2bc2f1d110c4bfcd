/**
 * Dutch only: every message of every catalog area rendered in Dutch (every plural with 0, 1 and 5, every select
 * branch, found by parsing the message), every card template rendered in Dutch, and what the bot says to a Dutch
 * user, hold no English word: none of the words of the English catalog's texts and none of the words of the texts
 * in the code (string literals of src/bot and src/domain, e.g. names the domain hands to a sentence). Product names,
 * identifiers (permissions, settings, addresses) and the allow-listed words below are left out, each with a reason.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { CARD_NAMES, renderCardJson } from '../../src/bot/cards';
import { adminRoleNames } from '../../src/bot/admin/commands';
import { localizer, readCatalogs, type Localizer } from '../../src/i18n';
import { projectRoot } from '../../src/projectRoot';
import { loadDemoSeed } from '../../src/simulator';
import { cardSamples } from '../support/cardSamples';
import { cardOf, createHarness, type Harness, type Turn, users } from '../support/botHarness';

const ROOT = projectRoot(__dirname);

/** Names that stay as they are in Dutch (Microsoft's own naming rules): removed before the words are checked. */
const PRODUCT_NAMES = [
  'Guest Invite',
  // The column of Entra's bulk-invite template, quoted as the file has it.
  'Send invitation message',
  'Microsoft Entra ID',
  'Microsoft Entra',
  'Microsoft Graph',
  'Microsoft Teams',
  'Microsoft',
  'Entra',
  'Teams',
  'Active Directory',
  'Exchange',
];

/** Words that are also Dutch, or the term Microsoft's Dutch UI uses, and why. */
const ALLOWED: Record<string, string> = {
  in: 'Dutch word (in)',
  is: 'Dutch word (is)',
  of: 'Dutch word (or)',
  over: 'Dutch word (about, in)',
  was: 'Dutch word (was)',
  we: 'Dutch word (we)',
  per: 'Dutch word (per)',
  open: 'Dutch word (open, opens)',
  later: 'Dutch word (later)',
  moment: 'Dutch word (moment)',
  maximum: 'Dutch word (maximum)',
  rest: 'Dutch word (the rest)',
  stop: 'Dutch word (stop, stopt)',
  type: 'Dutch word (type of group); also the imperative "typ" is Dutch',
  sorry: 'used in Dutch as it is',
  filters: 'Dutch plural of filter',
  app: 'Microsoft Dutch term',
  apps: 'Microsoft Dutch term',
  bot: 'Microsoft Dutch term',
  chat: 'Microsoft Dutch term',
  cloud: 'Microsoft Dutch term (cloudbeveiligingsgroep)',
  tenant: 'Microsoft Dutch term',
  account: 'Microsoft Dutch term (gastaccount)',
  sponsor: 'Microsoft Dutch term (Entra ID sponsors)',
  sponsors: 'Microsoft Dutch term (Entra ID sponsors)',
  directory: 'Microsoft Dutch term',
  help: 'Microsoft Dutch UI names Help "Help"; the command is also accepted as "hulp"',
  'on-premises': 'Microsoft Dutch term',
  hand: 'Dutch word (aan de hand van)',
  ad: 'AD, short for Active Directory',
  id: 'abbreviation (id)',
  api: 'abbreviation (API-machtigingen in the portal)',
  ip: 'abbreviation (IP-adres)',
  'e-mailadres': 'Dutch word; the English file messages name it as a column header a Dutch list may have',
  computer: 'Dutch word (computer)',
  me: 'Dutch word (stuur me een bericht)',
  manifest: 'Microsoft Dutch term (het manifest van een Teams-app)',
  upload: 'Dutch verb (uploaden; Teams-beheercentrum: Nieuwe app uploaden)',
  start: 'Dutch word (starten: start de bot opnieuw)',
  let: 'Dutch word (let op)',
  team: 'Microsoft Dutch term (team, kanaal)',
  info: "Excel's Dutch menu: Bestand > Info",
  email: 'a column header the file reader accepts, named as a list may have it',
  mb: 'unit (MB)',
  csv: 'file format (CSV)',
  xlsx: 'file name extension',
  xls: 'file name extension',
  true: "a value the file's column holds, as Entra's template writes it",
  false: "a value the file's column holds, as Entra's template writes it",
};

/** Directory and user data the samples put in messages: not ours to translate, removed before the check. */
const DATA = [
  'Contoso Wiki',
  'Wiki Readers',
  'Partner Portal',
  'Portal Partners',
  'Megan Bowen',
  'Adele Vance',
  'Alex Wilber',
  'Pat Partner',
  'Contoso',
  'Audit',
  'Welkom',
  'Dyn',
];

/** Names in the demo tenant people see in a conversation (users, groups, apps, the organization): data, too. */
function directoryNames(): string[] {
  const seed = loadDemoSeed() as unknown as Record<string, unknown>;
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'displayName' && typeof value === 'string') names.add(value);
      else walk(value);
    }
  };
  // Not directoryRoles: role names are the bot's to say, in the reader's language.
  for (const part of ['tenant', 'users', 'groups', 'servicePrincipals']) walk(seed[part]);
  return [...names].sort((a, b) => b.length - a.length);
}

/** Words of a text, lower case; "komma’s", "e-mail" and "mail-enabled" are one word each. */
function words(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+(?:[-’']\p{L}+)*/gu) ?? [];
}

/** A rendered text without product names, sample data and identifiers (User.Invite.All, allowInvitesFrom = none). */
function checkable(text: string, data: readonly string[] = DATA): string {
  let out = text;
  for (const name of [...data, ...PRODUCT_NAMES]) out = out.split(name).join(' ');
  return out
    .replace(/=\s*[\p{L}\d]+/gu, ' ')
    .split(/\s+/)
    .filter((token) => !/\p{L}[._=@/]\p{L}|\p{Ll}\p{Lu}|\d|_/u.test(token))
    .join(' ');
}

/** ICU AST, as intl-messageformat's parser returns it (type 0 literal, 1 argument, 2 number, 5 select, 6 plural). */
interface Element {
  type: number;
  value?: unknown;
  options?: Record<string, { value: Element[] }>;
}
let parse: (message: string) => Element[];

/** `area:path.to.key` → message, for one language. */
function flatten(tree: Record<string, Record<string, unknown>>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (key: string, node: unknown): void => {
    if (typeof node === 'string') out.set(key, node);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) walk(key.endsWith(':') ? key + k : `${key}.${k}`, v);
  };
  for (const [area, messages] of Object.entries(tree)) walk(`${area}:`, messages);
  return out;
}

/** The words of the literal texts of a message (not its argument names or select keys). */
function literalWords(message: string, into: Set<string>): void {
  const walk = (elements: Element[]): void => {
    for (const el of elements) {
      if (el.type === 0) for (const w of words(checkable(String(el.value)))) into.add(w);
      for (const option of Object.values(el.options ?? {})) walk(option.value);
    }
  };
  walk(parse(message));
}

/**
 * Texts for people in the code: string literals of src/bot and src/domain with at least two words (not property
 * names, which are what people type, e.g. the Dutch commands).
 */
function codeTexts(): string[] {
  const texts: string[] = [];
  const visit = (node: ts.Node): void => {
    const isName = node.parent !== undefined && ts.isPropertyAssignment(node.parent) && node.parent.name === node;
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      !isName &&
      /\p{L}+ \p{L}+/u.test(node.text)
    )
      texts.push(node.text);
    ts.forEachChild(node, visit);
  };
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts'))
        visit(ts.createSourceFile(full, fs.readFileSync(full, 'utf8'), ts.ScriptTarget.ES2022, true));
    }
  };
  walk(path.join(ROOT, 'src', 'bot'));
  walk(path.join(ROOT, 'src', 'domain'));
  return texts;
}

/** English words: those of the English catalog's texts and of the texts in the code, minus the allow-list. */
function englishVocabulary(): Set<string> {
  const vocabulary = new Set<string>();
  for (const message of flatten(readCatalogs().en).values()) literalWords(message, vocabulary);
  for (const text of codeTexts()) for (const w of words(checkable(text))) vocabulary.add(w);
  for (const w of Object.keys(ALLOWED)) vocabulary.delete(w);
  return vocabulary;
}

/** The English words in a Dutch text, as "word" (once each). */
function englishIn(text: string, vocabulary: Set<string>, data?: readonly string[]): string[] {
  return [...new Set(words(checkable(text, data)).filter((w) => vocabulary.has(w)))];
}

const AT = '2026-12-02T10:00:00Z';

/** Arguments that are counts, in messages that print them without a plural: 0, 1 and 5 as well. */
const COUNTS = [
  'count',
  'total',
  'shown',
  'left',
  'length',
  'max',
  'limit',
  'page',
  'pages',
  'position',
  'blocks',
  'minutes',
  'hours',
  'cooldownHours',
];

/**
 * Every message under a catalog path (e.g. `admin:doing`), rendered with simple values: what code nests in a sentence.
 */
function messagesUnder(l: Localizer, path: string, args: Record<string, string>): string[] {
  const [area, rest] = path.split(':');
  const node = rest.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], readCatalogs().nl[area]);
  // A message that nests others itself (e.g. requests:status.withMembership) is not one of them.
  return Object.keys(node as object)
    .map((k) => l.t(`${path}.${k}`, args))
    .filter((text) => !text.includes('{'));
}

/** Realistic values per argument name (what the code passes), in Dutch; other names get a name from the directory. */
function sampleArguments(l: Localizer): Record<string, Array<string | number>> {
  const names = {
    app: 'Contoso Wiki',
    group: 'Wiki Readers',
    email: 'pat@adatum.com',
    requester: 'Adele Vance',
    text: 'mijn gasten',
  };
  const at = l.dateTime(AT);
  const samples: Record<string, Array<string | number>> = {
    address: [names.email],
    email: [names.email],
    entry: ['Pat Partner <pat@adatum.com>'],
    domain: ['adatum.com'],
    all: ['User.Invite.All, GroupMember.ReadWrite.All'],
    permission: ['User.Invite.All'],
    setting: ['adminsAndGuestInviters'],
    app: [names.app],
    apps: [l.list(['Contoso Wiki', 'Partner Portal'])],
    group: [names.group],
    tenant: ['Contoso'],
    at: [at],
    since: [at],
    deadline: [at],
    last: [at],
    when: [l.relative(AT, new Date('2026-12-02T12:00:00Z'))],
    by: ['Megan Bowen', l.t('guests:review.byDefault')],
    name: [names.requester, l.t('admin:alert.someone')],
    requester: [names.requester],
    owner: [names.requester, l.t('guests:sponsors.theOwner')],
    guest: ['Pat Partner', l.t('guests:someGuest')],
    names: [l.list(['Megan Bowen', 'Alex Wilber'])],
    owners: [l.list(['Megan Bowen', 'Alex Wilber'])],
    code: ['Authorization_RequestDenied'],
    detail: ['Request_BadRequest'],
    reference: ['a1b2c3d4'],
    id: ['invite:abc-1'],
    operationId: ['invite:abc-1'],
    comment: ['Welkom'],
    query: ['Wiki'],
    text: [names.text],
    who: messagesUnder(l, 'invite:inviteSetting', { setting: 'adminsAndGuestInviters' }),
    why: messagesUnder(l, 'common:blocker', names),
    doing: [...messagesUnder(l, 'admin:doing', { ...names, step: 'member' }), l.t('admin:alert.usingTheBot')],
    traits: [messagesUnder(l, 'admin:trait', { membership: 'assigned', count: '2' }).join(', ')],
    reason: messagesUnder(l, 'bulk:problem', { max: '50', limit: '20', minutes: '5' }),
    state: messagesUnder(l, 'bulk:state', {}),
    status: messagesUnder(l, 'requests:status', { by: 'Megan Bowen', at }),
    decided: [l.t('requests:status.approved', { by: 'Megan Bowen', at })],
    membership: messagesUnder(l, 'requests:membership', {
      ...names,
      code: 'Request_BadRequest',
      operationId: 'invite:abc-1',
    }),
    summary: messagesUnder(l, 'admin:problem', { ...names, setting: 'none', permission: 'User.Invite.All' }),
    title: [l.t('invite:title'), l.t('requests:title')],
    roles: [adminRoleNames(l)],
  };
  for (const count of COUNTS) samples[count] = [0, 1, 5];
  return samples;
}

/**
 * Every combination of select branches and plural counts (0, 1, 5) of a message, with the other arguments filled in.
 */
function argumentSets(
  message: string,
  samples: Record<string, Array<string | number>>,
): Array<Record<string, string | number>> {
  const choices = new Map<string, Array<string | number>>();
  const walk = (elements: Element[]): void => {
    for (const el of elements) {
      const arg = String(el.value);
      if (el.type === 6) choices.set(arg, [0, 1, 5]);
      else if (el.type === 5)
        choices.set(
          arg,
          Object.keys(el.options ?? {}).map((k) => (k === 'other' ? 'x' : k)),
        );
      else if ((el.type === 1 || el.type === 2) && !choices.has(arg))
        choices.set(arg, samples[arg] ?? (el.type === 2 ? [0, 1, 5] : ['Contoso']));
      for (const option of Object.values(el.options ?? {})) walk(option.value);
    }
  };
  walk(parse(message));
  let sets: Array<Record<string, string | number>> = [{}];
  for (const [arg, values] of choices) sets = sets.flatMap((set) => values.map((v) => ({ ...set, [arg]: v })));
  return sets;
}

/** Texts people see in a card (not ids, verbs or choice values). */
function cardTexts(card: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown, inFacts: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, inFacts));
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    const keys = [
      'text',
      'title',
      'label',
      'placeholder',
      'errorMessage',
      'fallbackText',
      'altText',
      ...(inFacts ? ['value'] : []),
    ];
    for (const key of keys) if (typeof n[key] === 'string') out.push(n[key] as string);
    for (const [key, v] of Object.entries(n)) if (typeof v === 'object') walk(v, key === 'facts');
  };
  walk(card, false);
  return out;
}

describe('Dutch only: no English word in what a Dutch reader sees', () => {
  const nl = localizer({ locale: 'nl-NL', timeZone: 'Europe/Amsterdam' });
  let vocabulary: Set<string>;
  before(async () => {
    const { IntlMessageFormat } = await import('intl-messageformat');
    parse = (message) =>
      new IntlMessageFormat(message, 'nl', undefined, { ignoreTag: true }).getAst() as unknown as Element[];
    vocabulary = englishVocabulary();
  });

  it('knows enough English to fail: the English catalog and the code give it words, which Dutch lacks', () => {
    for (const w of ['invite', 'guest', 'administrator', 'nothing', 'changed']) assert.ok(vocabulary.has(w), w);
    assert.deepEqual(englishIn('Er is niets gewijzigd.', vocabulary), []);
    assert.deepEqual(englishIn('Nothing was changed (Global Administrator).', vocabulary), [
      'nothing',
      'changed',
      'global',
      'administrator',
    ]);
  });

  it('every Dutch message, with every plural count and select branch', () => {
    const samples = sampleArguments(nl);
    const found: string[] = [];
    let rendered = 0;
    for (const [key, message] of flatten(readCatalogs().nl)) {
      for (const args of argumentSets(message, samples)) {
        const text = nl.t(key, args);
        rendered++;
        const english = englishIn(text, vocabulary);
        if (english.length) found.push(`${key} ${JSON.stringify(args)}: ${english.join(', ')} in “${text}”`);
      }
    }
    assert.ok(rendered > 400, `rendered only ${rendered}`);
    assert.deepEqual(found, []);
  });

  for (const name of CARD_NAMES) {
    it(`card ${name}`, () => {
      const texts = cardTexts(renderCardJson(name, cardSamples(nl)[name], nl));
      assert.ok(texts.length > 0);
      assert.deepEqual(
        texts.flatMap((t) => englishIn(t, vocabulary).map((w) => `${w} in “${t}”`)),
        [],
      );
    });
  }

  describe('what the bot says to a Dutch user', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    const said = (turn: Turn): string[] =>
      [...turn.replies, ...turn.updates]
        .flatMap((a) => [a.text ?? '', ...cardTexts(cardOf(a))])
        .filter((t) => t !== '');

    it('commands of every kind, admin commands refused to an owner who is no admin', async () => {
      const chat = h.chat(users.megan);
      chat.locale = 'nl-NL';
      const texts: string[] = [];
      for (const text of [
        'help',
        'wat kun je?',
        'configuratie controleren',
        'meldingen',
        'gastenrapport',
        'bewerking herhalen invite:x-1',
        'gast uitnodigen',
        'annuleren',
        'mijn gasten',
        'mijn aanvragen',
        'openstaande aanvragen',
        'toegang aanvragen',
      ]) {
        texts.push(...said(await chat.send(text)));
      }
      assert.ok(texts.length >= 12);
      assert.ok(
        texts.some(
          (t) =>
            t.includes('Globale beheerder, Beheerder met bevoorrechte rol, ') && t.includes(' of Groepsbeheerder.'),
        ),
        'the roles, in Dutch',
      );
      const data = directoryNames();
      assert.deepEqual(
        texts.flatMap((t) => englishIn(t, vocabulary, data).map((w) => `${w} in “${t}”`)),
        [],
      );
    });
  });
});
