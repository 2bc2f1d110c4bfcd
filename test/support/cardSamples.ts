/**
 * One realistic data set per card template, in the reader's language: a new template needs one here (the type says
 * so). Every text that comes from users or the directory goes through `text`, so a test can put any string there.
 */
import type { CardData, CardName } from '../../src/bot/cards';
import type { Localizer } from '../../src/i18n';
import { msg } from '../../src/domain/shared/message';

export function cardSamples(
  l: Localizer,
  text: (realistic: string) => string = (realistic) => realistic,
): { [K in CardName]: CardData[K] } {
  const flow = { flowId: 'f-1', title: l.t('invite:title'), nextVerb: 'invite.app', cancelVerb: 'invite.cancel' };
  return {
    'choose-app': {
      ...flow,
      prompt: l.t('invite:chooseApp'),
      apps: [{ id: 'a1', displayName: text('Contoso Wiki') }],
      blocked: [
        { appName: text('Partner Portal'), groupName: text('Dyn'), reason: l.t('invite:shortBlocker.dynamic') },
      ],
    },
    'choose-group': {
      ...flow,
      nextVerb: 'invite.group',
      prompt: l.t('invite:chooseGroup', { app: text('Contoso Wiki') }),
      appName: text('Contoso Wiki'),
      groups: [{ id: 'g1', displayName: text('Wiki Readers') }],
    },
    confirm: {
      flowId: 'f-1',
      title: l.t('invite:confirm.title'),
      facts: [{ label: l.t('common:fact.app'), value: text('Contoso Wiki') }],
      note: l.t('invite:confirm.note'),
      confirmTitle: l.t('invite:confirm.button'),
      confirmVerb: 'invite.confirm',
      cancelVerb: 'invite.cancel',
    },
    'invite-details': {
      flowId: 'f-1',
      appName: text('Contoso Wiki'),
      groupName: text('Wiki Readers'),
      intro: l.t('invite:detailsIntro', { group: text('Wiki Readers'), app: text('Contoso Wiki') }),
      email: '',
      message: '',
      error: l.t('invite:email.format'),
      bulk: true,
    },
    'request-details': {
      flowId: 'f-1',
      appName: text('Contoso Wiki'),
      groupName: text('Wiki Readers'),
      intro: l.t('requests:detailsIntro', { group: text('Wiki Readers'), app: text('Contoso Wiki') }),
      justification: '',
      error: '',
    },
    'request-approval': {
      requestId: 'r-1',
      title: l.t('requests:approval.title'),
      facts: [{ label: l.t('requests:fact.reason'), value: text('Audit') }],
      status: '',
      statusStyle: 'default',
      comment: '',
      pending: true,
      refreshUserIds: ['29:megan'],
    },
    'request-list': {
      title: l.t('requests:list.title'),
      empty: l.t('requests:list.empty'),
      items: [
        {
          requestId: 'r-1',
          heading: text('Contoso Wiki · Wiki Readers'),
          detail: l.t('requests:status.pending'),
          canWithdraw: true,
        },
      ],
    },
    outcome: {
      title: l.t('invite:outcome.invitedTitle'),
      color: 'Good',
      text: l.t('invite:outcome.invited', {
        email: text('pat@adatum.com'),
        group: text('Wiki Readers'),
        app: text('Contoso Wiki'),
      }),
      facts: [{ label: l.t('invite:fact.guest'), value: text('pat@adatum.com') }],
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
          lines: [text('1. …')],
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
      prompt: l.t('bulk:listPrompt', { group: text('Wiki Readers'), app: text('Contoso Wiki') }),
      error: l.t('bulk:noneValid'),
      reviewed: true,
      facts: [
        { label: l.t('bulk:review.willInvite'), value: '3' },
        { label: l.t('bulk:review.overHourlyLimit'), value: '1' },
      ],
      lines: [
        l.t('bulk:review.line', {
          position: 4,
          entry: text('megan@contoso.com'),
          reason: msg('bulk:problem.ownDomain'),
        }),
      ],
      note: l.t('bulk:note.hourlyLimit', { left: 3, limit: 20, minutes: 12 }),
      addresses: text('pat@adatum.com'),
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
          lines: [l.t('bulk:outcomeLine', { address: text('pat@adatum.com'), state: l.t('bulk:state.invitedAdded') })],
          targets: [{ title: l.t('bulk:next'), elements: ['bulk-page-0', 'bulk-page-1'] }],
        },
      ],
      note: l.t('bulk:retryHint', { operationId: 'bulk:f-1' }),
    },
    'guest-list': {
      title: l.t('guests:list.title'),
      subtitle: l.t('guests:list.subtitle', { total: 1, page: 1, pages: 1 }),
      notice: l.t('guests:resend.done', { guest: text('pat@adatum.com') }),
      noticeStyle: 'good',
      empty: l.t('guests:list.empty'),
      filters: {
        show: true,
        pending: 'false',
        appId: 'all',
        apps: [
          { title: l.t('guests:list.allApps'), value: 'all' },
          { title: text('Contoso Wiki'), value: 'a1' },
        ],
      },
      items: [
        {
          heading: text('Pat (pat@adatum.com)'),
          lines: [
            l.t('guests:list.appGroup', { app: text('Contoso Wiki'), group: text('Wiki Readers') }),
            l.t('guests:list.pendingSince', { since: l.dateTime('2026-12-02T10:00:00Z') }),
            l.t('guests:list.noSponsor'),
          ],
        },
      ],
      select: {
        choices: [{ title: text('Pat (pat@adatum.com)'), key: 'g1/u1' }],
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
