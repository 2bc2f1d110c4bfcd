/**
 * Text is text: names from the directory (display names, group and app names) and what users type are shown
 * without markdown effect in every card and every catalog message, in English and Dutch. Teams renders message
 * text and Adaptive Card TextBlocks and facts as markdown, so a group renamed to `[Admin consent needed](https://…)`
 * must not become a link on a card from the bot.
 */
import { strict as assert } from 'node:assert';
import { CARD_NAMES, renderCardJson, type CardData, type CardName } from '../../src/bot/cards';
import { localizer, readCatalogs, type Localizer } from '../../src/i18n';
import { escapeMarkdown } from '../../src/i18n/markdown';
import { msg } from '../../src/domain/shared/message';
import { HOSTILE, effectsFromData, markdownTexts } from '../support/markdownCheck';

/** Every string in a value replaced by HOSTILE (ids, verbs and styles included: whatever data goes anywhere). */
function allHostile(value: unknown): unknown {
  if (typeof value === 'string') return HOSTILE;
  if (Array.isArray(value)) return value.map(allHostile);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, allHostile(v)]));
  return value;
}

function sample(l: Localizer, H: string): { [K in CardName]: CardData[K] } {
  const flow = { flowId: 'f-1', title: l.t('invite:title'), nextVerb: 'invite.app', cancelVerb: 'invite.cancel' };
  return {
    'choose-app': {
      ...flow,
      prompt: l.t('invite:chooseApp'),
      apps: [{ id: 'a1', displayName: H }],
      blocked: [{ appName: H, groupName: H, reason: l.t('invite:shortBlocker.dynamic') }],
    },
    'choose-group': {
      ...flow,
      nextVerb: 'invite.group',
      prompt: l.t('invite:chooseGroup', { app: H }),
      appName: H,
      groups: [{ id: 'g1', displayName: H }],
    },
    confirm: {
      flowId: 'f-1',
      title: l.t('invite:confirm.title'),
      facts: [{ label: l.t('common:fact.app'), value: H }],
      note: l.t('invite:confirm.note'),
      confirmTitle: l.t('invite:confirm.button'),
      confirmVerb: 'invite.confirm',
      cancelVerb: 'invite.cancel',
    },
    'invite-details': {
      flowId: 'f-1',
      appName: H,
      groupName: H,
      intro: l.t('invite:detailsIntro', { group: H, app: H }),
      email: '',
      message: '',
      error: l.t('invite:email.format'),
      bulk: true,
    },
    'request-details': {
      flowId: 'f-1',
      appName: H,
      groupName: H,
      intro: l.t('requests:detailsIntro', { group: H, app: H }),
      justification: '',
      error: '',
    },
    'request-approval': {
      requestId: 'r-1',
      title: l.t('requests:approval.title'),
      facts: [{ label: l.t('requests:fact.reason'), value: H }],
      status: '',
      statusStyle: 'default',
      comment: '',
      pending: true,
      refreshUserIds: ['29:megan'],
    },
    'request-list': {
      title: l.t('requests:list.title'),
      empty: l.t('requests:list.empty'),
      items: [{ requestId: 'r-1', heading: H, detail: l.t('requests:status.pending'), canWithdraw: true }],
    },
    outcome: {
      title: l.t('invite:outcome.invitedTitle'),
      color: 'Good',
      text: l.t('invite:outcome.invited', { email: H, group: H, app: H }),
      facts: [{ label: l.t('invite:fact.guest'), value: H }],
      note: '',
    },
    help: {
      commands: [{ name: l.t('common:commands.invite.name'), description: l.t('common:commands.invite.description') }],
    },
    report: {
      title: l.t('admin:report.title', { count: 2 }),
      color: 'Attention',
      subtitle: l.t('admin:report.subtitle', { at: l.dateTime('2026-12-02T10:00:00Z'), page: 1, pages: 2 }),
      facts: [{ label: l.t('admin:report.apps'), value: '7' }],
      sections: [
        {
          heading: l.t('admin:report.tenant'),
          color: 'Attention',
          lines: [H],
          actionTitle: l.t('admin:alert.acknowledge'),
          actionVerb: 'alert.ack',
          actionKey: 'groupDynamic:g1',
        },
      ],
      note: l.t('admin:report.more', { page: 2 }),
      actions: [{ title: l.t('admin:alert.acknowledge'), verb: 'alert.ack', key: 'groupDynamic:g1' }],
    },
    'bulk-invite': {
      flowId: 'f-1',
      prompt: l.t('bulk:listPrompt', { group: H, app: H }),
      error: l.t('bulk:noneValid'),
      reviewed: true,
      facts: [
        { label: l.t('bulk:review.willInvite'), value: '3' },
        { label: l.t('bulk:review.overHourlyLimit'), value: '1' },
      ],
      lines: [l.t('bulk:review.line', { position: 4, entry: H, reason: msg('bulk:problem.ownDomain') })],
      note: l.t('bulk:note.hourlyLimit', { left: 3, limit: 20, minutes: 12 }),
      addresses: H,
      message: '',
      sendTitle: l.t('bulk:sendButton', { count: 3 }),
    },
    'bulk-progress': {
      title: l.t('bulk:progress.finishedWithProblems'),
      color: 'Warning',
      facts: [{ label: l.t('bulk:counts.done'), value: '2' }],
      pages: [
        {
          id: 'bulk-page-0',
          visible: true,
          heading: l.t('bulk:page', { page: 1, pages: 2 }),
          lines: [l.t('bulk:outcomeLine', { address: H, state: l.t('bulk:state.invitedAdded') })],
          targets: [{ title: l.t('bulk:next'), elements: ['bulk-page-0', 'bulk-page-1'] }],
        },
      ],
      note: l.t('bulk:retryHint', { operationId: 'bulk:f-1' }),
    },
    'guest-list': {
      title: l.t('guests:list.title'),
      subtitle: l.t('guests:list.subtitle', { total: 1, page: 1, pages: 1 }),
      notice: l.t('guests:resend.done', { guest: H }),
      noticeStyle: 'good',
      empty: l.t('guests:list.empty'),
      filters: {
        show: true,
        pending: 'false',
        appId: 'all',
        apps: [
          { title: l.t('guests:list.allApps'), value: 'all' },
          { title: H, value: 'a1' },
        ],
      },
      items: [
        {
          heading: H,
          lines: [
            l.t('guests:list.appGroup', { app: H, group: H }),
            l.t('guests:list.pendingSince', { since: l.dateTime('2026-12-02T10:00:00Z') }),
            l.t('guests:list.noSponsor'),
          ],
        },
      ],
      select: {
        choices: [{ title: H, key: 'g1/u1' }],
        actions: [
          {
            title: l.t('guests:resend.button'),
            verb: 'guests.resend',
            style: 'default',
            data: { page: '0' },
            submitData: { verb: 'guests.resend', page: '0' },
            inputs: 'auto',
          },
        ],
      },
      footer: [
        {
          title: l.t('guests:list.apply'),
          verb: 'guests.list',
          style: 'positive',
          data: { page: '0' },
          submitData: { verb: 'guests.list', page: '0' },
          inputs: 'auto',
        },
      ],
    },
  };
}

describe('text from users and the directory has no markdown effect', () => {
  it('the escaping is idempotent and leaves plain text alone', () => {
    assert.equal(escapeMarkdown('Contoso Wiki'), 'Contoso Wiki');
    assert.equal(escapeMarkdown(escapeMarkdown(HOSTILE)), escapeMarkdown(HOSTILE));
    assert.equal(escapeMarkdown('**x**'), '\\*\\*x\\*\\*');
    assert.deepEqual(effectsFromData(HOSTILE).length, 10, 'the checker sees every effect in the raw text');
  });

  for (const locale of ['en-US', 'nl-NL']) {
    const l = localizer({ locale, timeZone: 'Europe/Amsterdam' });
    for (const name of CARD_NAMES) {
      it(`${locale} card ${name}: hostile names bound into it, through catalog messages or directly`, () => {
        for (const data of [sample(l, HOSTILE)[name], allHostile(sample(l, 'x')[name]) as CardData[typeof name]]) {
          const card = renderCardJson(name, data, l);
          const texts = markdownTexts(card);
          for (const text of texts) assert.deepEqual(effectsFromData(text), [], text);
          assert.ok(!JSON.stringify(card).includes('\\uE000'), 'no marker left in the card');
        }
      });
    }
    it(`${locale} card inputs and choices keep the value as typed (not escaped)`, () => {
      const card = renderCardJson(
        'invite-details',
        { ...sample(l, 'x')['invite-details'], email: 'first_last@adatum.com', message: '**hi**' },
        l,
      );
      const json = JSON.stringify(card);
      assert.ok(json.includes('"first_last@adatum.com"'), json);
      assert.ok(json.includes('"**hi**"'), json);
    });

    it(`${locale}: every catalog message with hostile values in every placeholder`, () => {
      const catalogs = readCatalogs();
      const lang = locale.slice(0, 2) as 'en' | 'nl';
      let checked = 0;
      const walk = (area: string, prefix: string, node: unknown): void => {
        if (typeof node === 'string') {
          const params: Record<string, string | number> = {};
          for (const m of node.matchAll(/\{\s*(\w+)\s*(,\s*(\w+))?/g))
            params[m[1]] = m[3] === 'plural' || m[3] === 'number' || m[3] === 'selectordinal' ? 1 : HOSTILE;
          if (Object.keys(params).length === 0) return;
          const text = l.t(`${area}:${prefix}`, params);
          assert.deepEqual(effectsFromData(text), [], `${area}:${prefix} → ${text}`);
          checked++;
          return;
        }
        if (node && typeof node === 'object')
          for (const [k, v] of Object.entries(node)) walk(area, prefix ? `${prefix}.${k}` : k, v);
      };
      for (const [area, tree] of Object.entries(catalogs[lang])) walk(area, '', tree);
      assert.ok(checked > 50, `${checked} messages with placeholders`);
    });

    it(`${locale}: a nested catalog message keeps its own formatting, its values escaped`, () => {
      const text = l.t('bulk:review.line', { position: 4, entry: HOSTILE, reason: msg('bulk:problem.ownDomain') });
      assert.deepEqual(effectsFromData(text), []);
    });
  }
});
