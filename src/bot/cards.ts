/** The one card renderer: cards/*.json templates expanded with adaptivecards-templating. */
import type { Template } from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import type { Localizer } from '../i18n';
import { escapeMarkdown, hasMarkdownCharacters, isCatalogText } from '../i18n/markdown';
import chooseApp from '../../cards/choose-app.json';
import chooseGroup from '../../cards/choose-group.json';
import confirm from '../../cards/confirm.json';
import inviteDetails from '../../cards/invite-details.json';
import requestDetails from '../../cards/request-details.json';
import requestApproval from '../../cards/request-approval.json';
import requestList from '../../cards/request-list.json';
import outcome from '../../cards/outcome.json';
import help from '../../cards/help.json';
import report from '../../cards/report.json';
import bulkInvite from '../../cards/bulk-invite.json';
import bulkProgress from '../../cards/bulk-progress.json';
import guestList from '../../cards/guest-list.json';

export interface Fact {
  label: string;
  value: string;
}

interface FlowCard {
  flowId: string;
  title: string;
  prompt: string;
  nextVerb: string;
  cancelVerb: string;
}

export interface CardData {
  'choose-app': FlowCard & {
    apps: Array<{ id: string; displayName: string }>;
    blocked: Array<{ appName: string; groupName: string; reason: string }>;
  };
  'choose-group': FlowCard & { appName: string; groups: Array<{ id: string; displayName: string }> };
  confirm: {
    flowId: string;
    title: string;
    facts: Fact[];
    note: string;
    confirmTitle: string;
    confirmVerb: string;
    cancelVerb: string;
  };
  'invite-details': {
    flowId: string;
    appName: string;
    groupName: string;
    intro: string;
    email: string;
    message: string;
    error: string;
    /** Offers the list of several guests. */ bulk?: boolean;
  };
  'request-details': {
    flowId: string;
    appName: string;
    groupName: string;
    intro: string;
    justification: string;
    error: string;
  };
  'request-approval': {
    requestId: string;
    title: string;
    facts: Fact[];
    status: string;
    statusStyle: 'default' | 'good' | 'attention' | 'warning' | 'accent';
    comment: string;
    pending: boolean;
    refreshUserIds: string[];
  };
  'request-list': {
    title: string;
    empty: string;
    items: Array<{ requestId: string; heading: string; detail: string; canWithdraw: boolean }>;
  };
  outcome: {
    title: string;
    color: 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';
    text: string;
    facts: Fact[];
    note: string;
  };
  help: { commands: Array<{ name: string; description: string }> };
  report: {
    title: string;
    color: 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';
    subtitle: string;
    facts: Fact[];
    sections: Array<{
      heading: string;
      color: 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';
      lines: string[];
      actionTitle: string;
      actionVerb: string;
      actionKey: string;
    }>;
    note: string;
    /** Buttons at the bottom of the card. */
    actions: Array<{ title: string; verb: string; key: string }>;
  };
  'bulk-invite': {
    flowId: string;
    prompt: string;
    error: string;
    reviewed: boolean;
    facts: Fact[];
    lines: string[];
    note: string;
    addresses: string;
    message: string;
    /** Empty when nothing can be sent yet. */
    sendTitle: string;
  };
  'bulk-progress': {
    title: string;
    color: 'Default' | 'Good' | 'Warning' | 'Attention' | 'Accent';
    facts: Fact[];
    /** Pages of the per-address outcome, switched in the client (Action.ToggleVisibility). */
    pages: Array<{
      id: string;
      visible: boolean;
      heading: string;
      lines: string[];
      targets: Array<{ title: string; elements: string[] }>;
    }>;
    note: string;
  };
  'guest-list': GuestListCard;
}

/** A button of the guest cards: Action.Execute data, and the same with the verb for the Action.Submit fallback. */
export interface GuestCardAction {
  title: string;
  verb: string;
  style: 'default' | 'positive' | 'destructive';
  data: Record<string, string>;
  submitData: Record<string, string>;
  /** 'auto' sends the card's inputs (filters) with the action; 'none' sends only `data`. */
  inputs?: 'auto' | 'none';
}

export interface GuestListCard {
  title: string;
  subtitle: string;
  notice: string;
  noticeStyle: 'default' | 'good' | 'attention' | 'warning' | 'accent';
  empty: string;
  filters: { show: boolean; pending: string; appId: string; apps: Array<{ title: string; value: string }> };
  items: Array<{ heading: string; lines: string[] }>;
  /**
   * The guests one can act on, in one list (`guest` input), and the buttons that act on the chosen one. Fifty guests
   * with buttons of their own do not fit in a Teams message; the server checks the chosen value again on click.
   */
  select: { choices: Array<{ title: string; key: string }>; actions: GuestCardAction[] };
  footer: GuestCardAction[];
}

export type CardName = keyof CardData;

const templates: Record<CardName, object> = {
  'choose-app': chooseApp,
  'choose-group': chooseGroup,
  confirm,
  'invite-details': inviteDetails,
  'request-details': requestDetails,
  'request-approval': requestApproval,
  'request-list': requestList,
  outcome,
  help,
  report,
  'bulk-invite': bulkInvite,
  'bulk-progress': bulkProgress,
  'guest-list': guestList,
};

const compiled = new Map<CardName, Template>();

let templatingModule: typeof import('adaptivecards-templating') | undefined;

/**
 * adaptivecards-templating (with adaptive-expressions and its parser, about 12 MiB resident) is loaded when the
 * first card is rendered, not at start-up: an idle instance does not hold it.
 */
function templating(): typeof import('adaptivecards-templating') {
  // A synchronous lazy load: rendering is synchronous, so a dynamic import() would not do.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  templatingModule ??= require('adaptivecards-templating') as typeof import('adaptivecards-templating');
  return templatingModule;
}

/** Removes control characters and characters that reorder or hide text from strings shown in a card. */
export function displayText(value: string, maxLength = 1000): string {
  const cleaned = value
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 1)}…` : cleaned;
}

/** Private-use characters that mark data in the expanded card until it is known where each value went. */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARKED = /\uE000([^\uE000\uE001]*)\uE001/g;

/**
 * A value from data is marked (when it has any markdown character and is not a catalog message, whose
 * placeholders are escaped already); after expansion a marked value becomes escaped text where a card renders
 * markdown (TextBlock, FactSet) and stays as it is everywhere else (inputs, choices, button titles, action data).
 */
function markData(value: string, maxLength: number): string {
  const text = displayText(value, maxLength).replace(/[\uE000\uE001]/g, '');
  return hasMarkdownCharacters(text) && !isCatalogText(text) ? `${OPEN}${text}${CLOSE}` : text;
}

function unmark(text: string, markdown: boolean): string {
  return text.includes(OPEN)
    ? text
        .replace(MARKED, (_m, data: string) => (markdown ? escapeMarkdown(data) : data))
        .replace(/[\uE000\uE001]/g, '')
    : text;
}

function settleFact(fact: unknown): unknown {
  if (!fact || typeof fact !== 'object' || Array.isArray(fact)) return settle(fact);
  return Object.fromEntries(
    Object.entries(fact as Record<string, unknown>).map(([k, v]) => [k, settle(v, k === 'title' || k === 'value')]),
  );
}

/** Where the expanded card renders markdown: TextBlock text and FactSet titles and values. */
function settle(node: unknown, markdown = false): unknown {
  if (typeof node === 'string') return unmark(node, markdown);
  if (Array.isArray(node)) return node.map((n) => settle(n, markdown));
  if (!node || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const type = record.type;
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => {
      if (type === 'TextBlock' && k === 'text') return [k, settle(v, true)];
      if (type === 'FactSet' && k === 'facts') return [k, Array.isArray(v) ? v.map(settleFact) : settle(v)];
      return [k, settle(v)];
    }),
  );
}

/** Fields that name what an action or a choice acts on: never shortened (a shortened id names nothing). */
const KEYS = new Set(['key', 'data', 'submitData']);

function clean(value: unknown, maxLength = 1000): unknown {
  if (typeof value === 'string') return markData(value, maxLength);
  if (Array.isArray(value)) return value.map((v) => clean(v, maxLength));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        clean(v, KEYS.has(k) ? Number.POSITIVE_INFINITY : maxLength),
      ]),
    );
  }
  return value;
}

/**
 * Teams refuses a message over about 100 KB, counted in UTF-16, and advises at most 80 KB (413 MessageSizeTooBig:
 * learn bots/how-to/format-your-bot-messages). The card itself stays below this, leaving room for the activity.
 */
export const CARD_BYTES_MAX = 78 * 1024;
/**
 * The longest text a card shows per field, tried in turn until the card fits (long names and lists shrink, ids do not).
 * The last steps are reached only by a page of 50 guests whose names, addresses and groups are all near Entra's limits.
 */
const TEXT_LIMITS = [1000, 500, 250, 160, 100, 64, 40];

/** The size Teams counts: UTF-16. */
export function cardBytes(card: unknown): number {
  return JSON.stringify(card).length * 2;
}

/**
 * The expanded card JSON; data shows as text wherever the card renders markdown (see `markData`).
 * The template's fixed texts come from the catalog (`cards:<name>.*`, bound as `${l.…}`) in the reader's language.
 */
export function renderCardJson<K extends CardName>(
  name: K,
  data: CardData[K],
  loc: Localizer,
): Record<string, unknown> {
  let template = compiled.get(name);
  if (!template) {
    template = new (templating().Template)(templates[name]);
    compiled.set(name, template);
  }
  let card: Record<string, unknown> = {};
  for (const limit of TEXT_LIMITS) {
    card = settle(template.expand({ $root: { ...(clean(data, limit) as object), l: loc.labels(name) } })) as Record<
      string,
      unknown
    >;
    if (cardBytes(card) <= CARD_BYTES_MAX) return card;
  }
  return card;
}

export function renderCard<K extends CardName>(name: K, data: CardData[K], loc: Localizer): Attachment {
  return CardFactory.adaptiveCard(renderCardJson(name, data, loc));
}

/** The template names, for tests that render every card. */
export const CARD_NAMES = Object.keys(templates) as CardName[];
