/** Cards of the guest lifecycle: `my guests`, the removal confirmation, the review card and the guest report. */
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import type { GuestFilter, GuestPage, GuestView } from '../../domain/guests/lifecycle';
import type { ReviewDecision, ReviewView } from '../../domain/guests/review';
import { decidedBy } from '../../domain/guests/reviewDecisions';
import type { AppGuestSummary } from '../../domain/guests/report';
import type { Localizer } from '../../i18n';
import { renderCardJson, type GuestCardAction, type GuestListCard } from '../cards';

export function action(
  title: string,
  verb: string,
  data: Record<string, string>,
  style: GuestCardAction['style'] = 'default',
  inputs: 'auto' | 'none' = 'none',
): GuestCardAction {
  return { title, verb, style, data, submitData: { verb, ...data }, inputs };
}

/** The guest-list template with what `data` leaves out empty (the guest list, the review, the erasure card). */
export function guestListCard(l: Localizer, data: Partial<GuestListCard> & Pick<GuestListCard, 'title'>): Attachment {
  const full: GuestListCard = {
    subtitle: '',
    notice: '',
    noticeStyle: 'default',
    empty: '',
    filters: { show: false, pending: 'false', appId: 'all', apps: [] },
    items: [],
    select: { choices: [], actions: [] },
    footer: [],
    ...data,
  };
  return CardFactory.adaptiveCard(renderCardJson('guest-list', full, l));
}

/** A date of the guest's record or of Entra, in the reader's language and time zone ('' when unknown). */
const when = (l: Localizer, iso: string | null | undefined): string => (iso ? l.dateTime(iso) : '');

export function stateLine(l: Localizer, view: { state: string | null; stateSince: string | null }): string {
  if (view.state === 'PendingAcceptance') return l.t('guests:list.pendingSince', { since: when(l, view.stateSince) });
  if (view.state === 'Accepted') return l.t('guests:list.acceptedSince', { since: when(l, view.stateSince) });
  return view.state ?? '';
}

function guestLines(l: Localizer, g: GuestView): string[] {
  return [
    l.t('guests:list.appGroup', { app: g.appName, group: g.groupName }),
    g.invitedByName
      ? l.t('guests:list.invitedBy', { name: g.invitedByName, at: when(l, g.invitedAt) })
      : l.t('guests:list.addedOutsideBot'),
    stateLine(l, g),
    g.sponsors.length > 0
      ? l.t('guests:list.sponsors', { count: g.sponsors.length, names: l.list(g.sponsors) })
      : l.t('guests:list.noSponsor'),
  ].filter((line) => line !== '');
}

const heading = (name: string | null | undefined, email: string | null | undefined): string =>
  name && email && name !== email ? `${name} (${email})` : email || name || '';

/** The value of a guest in the `guest` list of `my guests`: its group and its id (both checked again on the server). */
export const guestChoice = (groupId: string, guestId: string): string => `${groupId}/${guestId}`;

/** The group and guest of a `guest` choice, or null when the value is missing or not of that form. */
export function parseGuestChoice(value: unknown): { groupId: string; guestId: string } | null {
  if (typeof value !== 'string') return null;
  const parts = value.split('/');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? { groupId: parts[0], guestId: parts[1] } : null;
}

export function myGuestsCard(
  l: Localizer,
  page: GuestPage,
  filter: GuestFilter,
  notice = '',
  noticeStyle: GuestListCard['noticeStyle'] = 'default',
  canExport = false,
): Attachment {
  const listData = (p: number): Record<string, string> => ({
    page: String(p),
    pending: filter.pendingOnly ? 'true' : 'false',
    appId: filter.appId ?? 'all',
  });
  const footer: GuestCardAction[] = [
    action(l.t('guests:list.apply'), 'guests.list', { page: '0' }, 'positive', 'auto'),
  ];
  if (page.page > 0) footer.push(action(l.t('guests:list.previous'), 'guests.list', listData(page.page - 1)));
  if (page.page < page.pages - 1) footer.push(action(l.t('guests:list.next'), 'guests.list', listData(page.page + 1)));
  if (canExport) footer.push(action(l.t('files:export.button'), 'guests.export', {}));
  return guestListCard(l, {
    title: l.t('guests:list.title'),
    subtitle: l.t('guests:list.subtitle', { total: page.total, page: page.page + 1, pages: page.pages }),
    notice,
    noticeStyle,
    empty: l.t('guests:list.empty'),
    filters: {
      show: true,
      pending: filter.pendingOnly ? 'true' : 'false',
      appId: filter.appId ?? 'all',
      apps: [
        { title: l.t('guests:list.allApps'), value: 'all' },
        ...page.apps.map((a) => ({ title: a.displayName, value: a.id })),
      ],
    },
    items: page.items.map((g) => ({ heading: heading(g.displayName, g.email), lines: guestLines(l, g) })),
    select: {
      choices: page.items.map((g) => ({
        title: heading(g.displayName, g.email),
        key: guestChoice(g.groupId, g.guestId),
      })),
      actions: [
        ...(page.items.some((g) => g.state === 'PendingAcceptance')
          ? [action(l.t('guests:resend.button'), 'guests.resend', listData(page.page), 'default', 'auto')]
          : []),
        action(l.t('guests:remove.button'), 'guests.remove', listData(page.page), 'destructive', 'auto'),
      ],
    },
    footer,
  });
}

export function confirmRemoveCard(
  l: Localizer,
  guest: string,
  group: string,
  app: string,
  ids: { groupId: string; guestId: string; nonce: string },
): Attachment {
  return guestListCard(l, {
    title: l.t('guests:remove.confirmTitle'),
    notice: l.t('guests:remove.confirm', { guest, group, app }),
    noticeStyle: 'warning',
    subtitle: l.t('guests:remove.confirmNote'),
    footer: [
      action(l.t('guests:remove.confirmButton'), 'guests.removeConfirm', ids, 'destructive'),
      action(l.t('guests:remove.cancel'), 'guests.removeCancel', {}),
    ],
  });
}

export function noticeCard(l: Localizer, title: string, text: string, style: GuestListCard['noticeStyle']): Attachment {
  return guestListCard(l, { title, notice: text, noticeStyle: style });
}

export function reviewCard(
  l: Localizer,
  review: ReviewView,
  defaultDecision: ReviewDecision,
  options: { reminder?: boolean; notice?: string } = {},
): Attachment {
  const undecided = review.entries.filter((e) => e.decision === null);
  const ids = { reviewId: review.reviewId, groupId: review.groupId };
  return guestListCard(l, {
    title: l.t(options.reminder ? 'guests:review.reminderTitle' : 'guests:review.title', { group: review.groupName }),
    subtitle: l.t('guests:review.subtitle', {
      app: review.appName,
      deadline: when(l, review.deadline),
      decision: defaultDecision,
    }),
    notice: options.notice ?? '',
    noticeStyle: options.notice ? 'warning' : 'default',
    items: review.entries.map((e) => {
      const lines = [
        l.t(e.neverAccepted ? 'guests:review.neverAccepted' : 'guests:review.added', { at: when(l, e.invitedAt) }),
      ];
      if (e.decision)
        lines.push(
          l.t(e.decision.decision === 'keep' ? 'guests:review.kept' : 'guests:review.removed', {
            guest: e.email,
            by: decidedBy(e.decision),
          }),
        );
      else lines.push(l.t('guests:review.undecided'));
      return { heading: heading(e.name, e.email), lines };
    }),
    select: {
      choices: undecided.map((e) => ({ title: heading(e.name, e.email), key: e.guestId })),
      actions: [
        action(l.t('guests:review.keep'), 'review.keep', ids, 'positive', 'auto'),
        action(l.t('guests:remove.button'), 'review.remove', ids, 'destructive', 'auto'),
        ...(undecided.some((e) => e.neverAccepted)
          ? [action(l.t('guests:resend.button'), 'guests.resend', ids, 'default', 'auto')]
          : []),
      ],
    },
    footer: undecided.length > 1 ? [action(l.t('guests:review.keepAll'), 'review.keepAll', ids, 'positive')] : [],
  });
}

export function guestReportCard(l: Localizer, apps: AppGuestSummary[], canExport = false): Attachment {
  return guestListCard(l, {
    title: l.t('guests:report.title'),
    empty: l.t('guests:report.empty'),
    items: apps.map((a) => ({
      heading: a.appName,
      lines: [
        l.t('guests:report.guests', { count: a.guests }),
        l.t('guests:report.pending', { count: a.pending }),
        l.t('guests:report.overdue', { count: a.overdue }),
        l.t('guests:report.noSponsor', { count: a.noSponsor }),
        l.t('guests:report.removed', { count: a.removed }),
      ],
      actions: [],
    })),
    footer: canExport && apps.length > 0 ? [action(l.t('files:export.button'), 'report.export', {})] : [],
  });
}
