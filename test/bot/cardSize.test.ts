/**
 * No card the bot sends exceeds 80 KB in the worst case. Teams refuses a bot message over about 100 KB (UTF-16,
 * 413 MessageSizeTooBig) and advises keeping it at 80 KB or less (learn bots/how-to/format-your-bot-messages).
 * Every template (cards/*.json) is rendered through the one renderer with the most data the bot ever puts in it:
 * 50 guests on a page, 100 lines of a bulk invitation, names as long as Entra allows (256), the longest texts the
 * bot accepts, in English and in Dutch; the whole activity is measured in UTF-16.
 */
import { strict as assert } from 'node:assert';
import { CardFactory, MessageFactory } from 'botbuilder';
import {
  CARD_NAMES,
  renderCardJson,
  type CardData,
  type CardName,
  type Fact,
  type GuestCardAction,
} from '../../src/bot/cards';
import { localizer, type Localizer } from '../../src/i18n';
import { COMMENT_MAX, JUSTIFICATION_MAX } from '../../src/domain/requests/model';
import { WELCOME_MESSAGE_MAX } from '../../src/domain/shared/text';
import { APPS_PER_PAGE } from '../../src/bot/admin/cards';
import { shownBlocked } from '../../src/bot/cardFlow';
import { myGuestsCard, reviewCard } from '../../src/bot/guests/cards';
import type { GuestView } from '../../src/domain/guests/lifecycle';
import type { ReviewView } from '../../src/domain/guests/review';

const LIMIT = 80 * 1024;
/** Entra: displayName up to 256 characters; an address up to 254. Non-ASCII, as in many names. */
const name = (seed: string): string => `${seed} ${'Ŵęñdÿ-Åßçhér '.repeat(30)}`.slice(0, 256);
const email = (n: number): string => `${'x'.repeat(60)}.${n}@${'sub.'.repeat(40)}example.com`.slice(-254);
const text = (length: number): string =>
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(length / 56)).slice(0, length);
const ID = '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f06';
const facts = (count: number, valueLength = 256): Fact[] =>
  Array.from({ length: count }, (_, i) => ({ label: text(40) + i, value: name(`v${i}`).slice(0, valueLength) }));
const action = (title: string): GuestCardAction => ({
  title,
  verb: 'guest.remove',
  style: 'destructive',
  data: { groupId: ID, guestId: ID, page: '3' },
  submitData: { verb: 'guest.remove', groupId: ID, guestId: ID, page: '3' },
});

function worstCase(card: CardName, l: Localizer): CardData[CardName] {
  const flow = { flowId: ID, title: text(200), prompt: text(500), nextVerb: 'flow.next', cancelVerb: 'flow.cancel' };
  switch (card) {
    case 'choose-app':
      // 50 apps to choose from, 50 that cannot be shared (the card lists BLOCKED_SHOWN of them and counts the rest).
      return {
        ...flow,
        apps: Array.from({ length: 50 }, (_, i) => ({ id: ID, displayName: name(`app${i}`) })),
        blocked: shownBlocked(
          l,
          Array.from({ length: 50 }, (_, i) => ({
            appName: name(`a${i}`),
            groupName: name(`g${i}`),
            reason: text(300),
          })),
        ),
      };
    case 'choose-group':
      return {
        ...flow,
        appName: name('app'),
        groups: Array.from({ length: 50 }, (_, i) => ({ id: ID, displayName: name(`g${i}`) })),
      };
    case 'confirm':
      return {
        flowId: ID,
        title: text(200),
        facts: facts(6),
        note: text(1000),
        confirmTitle: text(40),
        confirmVerb: 'flow.confirm',
        cancelVerb: 'flow.cancel',
      };
    case 'invite-details':
      return {
        flowId: ID,
        appName: name('app'),
        groupName: name('group'),
        intro: text(500),
        email: email(1),
        message: text(WELCOME_MESSAGE_MAX),
        error: text(300),
        bulk: true,
      };
    case 'request-details':
      return {
        flowId: ID,
        appName: name('app'),
        groupName: name('group'),
        intro: text(500),
        justification: text(JUSTIFICATION_MAX),
        error: text(300),
      };
    case 'request-approval':
      return {
        requestId: ID,
        title: text(200),
        facts: [...facts(4), { label: 'Reason', value: text(JUSTIFICATION_MAX) }],
        status: text(600),
        statusStyle: 'good',
        comment: text(COMMENT_MAX),
        pending: true,
        refreshUserIds: Array.from({ length: 60 }, () => `29:${'x'.repeat(120)}`),
      };
    case 'request-list':
      return {
        title: text(200),
        empty: text(200),
        items: Array.from({ length: 20 }, () => ({
          requestId: ID,
          heading: name('h'),
          detail: text(800),
          canWithdraw: true,
        })),
      };
    case 'outcome':
      return { title: text(200), color: 'Attention', text: text(1000), facts: facts(8), note: text(1000) };
    case 'help':
      return { commands: Array.from({ length: 20 }, () => ({ name: text(40), description: text(300) })) };
    case 'report':
      return {
        title: text(200),
        color: 'Attention',
        subtitle: text(200),
        facts: facts(8, 600),
        note: text(300),
        actions: [{ title: text(40), verb: 'report.page', key: '2' }],
        // A page of APPS_PER_PAGE apps, each with several problem groups (summary and four fix steps each).
        sections: Array.from({ length: APPS_PER_PAGE + 1 }, (_, i) => ({
          heading: name(`app${i}`),
          color: 'Attention',
          lines: Array.from({ length: 10 }, () => text(300)),
          actionTitle: text(40),
          actionVerb: 'alert.ack',
          actionKey: `groupDynamic:${ID}`,
        })),
      };
    case 'bulk-invite':
      return {
        flowId: ID,
        prompt: text(500),
        error: text(300),
        reviewed: true,
        facts: facts(6),
        lines: Array.from({ length: 51 }, (_, i) => `${i + 1}: ${email(i)} — ${text(120)}`),
        note: text(1000),
        addresses: Array.from({ length: 100 }, (_, i) => email(i)).join('\n'),
        message: text(WELCOME_MESSAGE_MAX),
        sendTitle: text(40),
      };
    case 'bulk-progress':
      return {
        title: text(200),
        color: 'Good',
        facts: facts(8),
        note: text(500),
        pages: [0, 1].map((p) => ({
          id: `page-${p}`,
          visible: p === 0,
          heading: text(40),
          lines: Array.from({ length: 50 }, (_, i) => `${email(i)}: ${text(100)}`),
          targets: [{ title: text(20), elements: ['page-0', 'page-1'] }],
        })),
      };
    case 'guest-list':
      return {
        title: text(200),
        subtitle: text(300),
        notice: text(500),
        noticeStyle: 'warning',
        empty: text(200),
        filters: {
          show: true,
          pending: 'true',
          appId: ID,
          apps: Array.from({ length: 50 }, (_, i) => ({ title: name(`app${i}`), value: ID })),
        },
        // 50 guests on a page, each with its name and address, app and group, who invited them and when, state,
        // sponsors.
        items: Array.from({ length: 50 }, (_, i) => ({
          heading: `${name(`guest${i}`)} (${email(i)})`,
          lines: [text(200), text(200), text(200), text(200)],
        })),
        select: {
          choices: Array.from({ length: 50 }, (_, i) => ({
            title: `${name(`guest${i}`)} (${email(i)})`,
            key: `${ID}/${ID}`,
          })),
          actions: [action(text(20)), action(text(20)), action(text(20))],
        },
        footer: [action(text(20)), action(text(20)), action(text(20)), action(text(20))],
      };
  }
}

/** The size Teams counts: the activity that carries the card, in UTF-16. */
function activityBytes(card: Record<string, unknown>): number {
  const activity = MessageFactory.attachment(CardFactory.adaptiveCard(card));
  return Buffer.byteLength(JSON.stringify(activity), 'utf16le');
}

describe('card size: every template, worst case, both languages, at most 80 KB', () => {
  const languages: Array<[string, Localizer]> = [
    ['English', localizer({ locale: 'en-US' })],
    ['Dutch', localizer({ locale: 'nl-NL' })],
  ];
  for (const card of CARD_NAMES) {
    for (const [language, l] of languages) {
      it(`${card} (${language})`, () => {
        const bytes = activityBytes(renderCardJson(card, worstCase(card, l) as never, l));
        assert.ok(bytes <= LIMIT, `${card} in ${language}: ${(bytes / 1024).toFixed(1)} KB > 80 KB`);
      });
    }
  }

  // The cards the bot builds on the guest-list template, with the most it puts in them (50 guests, each pending, with
  // long names, groups, inviter and 20 sponsors), measured as sent.
  const AT = '2026-12-01T10:00:00Z';
  const guest = (i: number): GuestView => ({
    appId: ID,
    appName: name(`app${i}`),
    groupId: ID,
    groupName: name(`group${i}`),
    guestId: ID,
    displayName: name(`guest${i}`),
    email: email(i),
    state: 'PendingAcceptance',
    stateSince: AT,
    invitedByName: name(`owner${i}`),
    invitedAt: AT,
    sponsors: Array.from({ length: 20 }, (_, s) => name(`s${s}`)),
    addedAt: AT,
  });
  const review: ReviewView = {
    reviewId: ID,
    tenantId: ID,
    appId: ID,
    appName: name('app'),
    groupId: ID,
    groupName: name('group'),
    openedAt: AT,
    deadline: AT,
    cards: [],
    entries: Array.from({ length: 50 }, (_, i) => ({
      guestId: ID,
      email: email(i),
      name: name(`guest${i}`),
      neverAccepted: true,
      invitedAt: AT,
      decision: null,
    })),
  };
  for (const [language, l] of languages) {
    it(`my guests, 50 pending guests, each one can be chosen for Resend and Remove (${language})`, () => {
      const page = {
        items: Array.from({ length: 50 }, (_, i) => guest(i)),
        page: 3,
        pages: 9,
        total: 420,
        apps: Array.from({ length: 50 }, (_, i) => ({ id: ID, displayName: name(`app${i}`) })),
      };
      const card = myGuestsCard(l, page, { page: 3, pendingOnly: true, appId: ID }, text(500), 'warning', true)
        .content as Record<string, unknown>;
      const bytes = activityBytes(card);
      assert.ok(bytes <= LIMIT, `${(bytes / 1024).toFixed(1)} KB > 80 KB`);
      assert.equal(
        JSON.stringify(card).split(`"value":"${ID}/${ID}"`).length - 1,
        50,
        'every guest can still be chosen, its ids whole',
      );
    });
    it(`guest review, 50 undecided guests, each one can be chosen for Keep, Remove and Resend (${language})`, () => {
      const card = reviewCard(l, review, 'remove', { reminder: true, notice: text(500) }).content as Record<
        string,
        unknown
      >;
      const bytes = activityBytes(card);
      assert.ok(bytes <= LIMIT, `${(bytes / 1024).toFixed(1)} KB > 80 KB`);
      assert.equal(
        JSON.stringify(card).split(`"value":"${ID}"`).length - 1,
        50,
        'every guest can still be chosen, its id whole',
      );
    });
  }

  it('knows every template', () => {
    assert.deepEqual([...CARD_NAMES].sort(), [
      'bulk-invite',
      'bulk-progress',
      'choose-app',
      'choose-group',
      'confirm',
      'guest-list',
      'help',
      'invite-details',
      'outcome',
      'report',
      'request-approval',
      'request-details',
      'request-list',
    ]);
  });
});
