/** Cards of the guest lifecycle: `my guests`, the removal confirmation, the review card and the guest report. */
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import type { GuestFilter, GuestPage, GuestView } from '../../domain/guestLifecycle';
import type { ReviewDecision, ReviewView } from '../../domain/guestReview';
import type { AppGuestSummary } from '../../domain/guestReport';
import { guestText } from '../../domain/guestText';
import { renderCardJson, type GuestCardAction, type GuestListCard } from '../cards';
import { guestCardText as t, when } from './text';

export function action(title: string, verb: string, data: Record<string, string>, style: GuestCardAction['style'] = 'default', inputs: 'auto' | 'none' = 'none'): GuestCardAction {
  return { title, verb, style, data, submitData: { verb, ...data }, inputs };
}

function card(data: Partial<GuestListCard> & Pick<GuestListCard, 'title'>): Attachment {
  const full: GuestListCard = {
    subtitle: '',
    notice: '',
    noticeStyle: 'default',
    empty: '',
    filters: { show: false, pendingLabel: '', pending: 'false', appId: 'all', apps: [] },
    items: [],
    footer: [],
    ...data,
  };
  return CardFactory.adaptiveCard(renderCardJson('guest-list', full));
}

export function stateLine(view: { state: string | null; stateSince: string | null }): string {
  if (view.state === 'PendingAcceptance') return guestText.pendingSince(when(view.stateSince));
  if (view.state === 'Accepted') return guestText.acceptedSince(when(view.stateSince));
  return view.state ?? '';
}

function guestLines(g: GuestView): string[] {
  return [
    t.appGroup(g.appName, g.groupName),
    g.invitedByName ? t.invitedBy(g.invitedByName, when(g.invitedAt)) : guestText.addedOutsideBot,
    stateLine(g),
    g.sponsors.length > 0 ? t.sponsors(g.sponsors) : guestText.noSponsor,
  ].filter((line) => line !== '');
}

export function myGuestsCard(page: GuestPage, filter: GuestFilter, notice = '', noticeStyle: GuestListCard['noticeStyle'] = 'default'): Attachment {
  const listData = (p: number): Record<string, string> => ({ page: String(p), pending: filter.pendingOnly ? 'true' : 'false', appId: filter.appId ?? 'all' });
  const footer: GuestCardAction[] = [action(t.apply, 'guests.list', { page: '0' }, 'positive', 'auto')];
  if (page.page > 0) footer.push(action(t.previous, 'guests.list', listData(page.page - 1)));
  if (page.page < page.pages - 1) footer.push(action(t.next, 'guests.list', listData(page.page + 1)));
  return card({
    title: t.myGuestsTitle,
    subtitle: t.myGuestsSubtitle(page.total, page.page, page.pages),
    notice,
    noticeStyle,
    empty: t.myGuestsEmpty,
    filters: {
      show: true,
      pendingLabel: t.pendingOnly,
      pending: filter.pendingOnly ? 'true' : 'false',
      appId: filter.appId ?? 'all',
      apps: [{ title: t.allApps, value: 'all' }, ...page.apps.map((a) => ({ title: a.displayName, value: a.id }))],
    },
    items: page.items.map((g) => {
      const ids = { groupId: g.groupId, guestId: g.guestId };
      const actions = [action(t.remove, 'guests.remove', ids, 'destructive')];
      if (g.state === 'PendingAcceptance') actions.unshift(action(t.resend, 'guests.resend', ids));
      return { heading: g.email ? `${g.displayName} (${g.email})` : g.displayName, lines: guestLines(g), actions };
    }),
    footer,
  });
}

export function confirmRemoveCard(guest: string, group: string, app: string, ids: { groupId: string; guestId: string; nonce: string }): Attachment {
  return card({
    title: t.confirmTitle,
    notice: guestText.confirmRemove(guest, group, app),
    noticeStyle: 'warning',
    subtitle: guestText.confirmRemoveNote,
    footer: [action(t.confirmButton, 'guests.removeConfirm', ids, 'destructive'), action(t.cancel, 'guests.removeCancel', {})],
  });
}

export function noticeCard(title: string, text: string, style: GuestListCard['noticeStyle']): Attachment {
  return card({ title, notice: text, noticeStyle: style });
}

export function reviewCard(review: ReviewView, defaultDecision: ReviewDecision, options: { reminder?: boolean; notice?: string } = {}): Attachment {
  const undecided = review.entries.filter((e) => e.decision === null);
  return card({
    title: options.reminder ? t.reviewReminderTitle(review.groupName) : t.reviewTitle(review.groupName),
    subtitle: t.reviewSubtitle(review.appName, when(review.deadline), t.defaultWords[defaultDecision]),
    notice: options.notice ?? '',
    noticeStyle: options.notice ? 'warning' : 'default',
    items: review.entries.map((e) => {
      const ids = { reviewId: review.reviewId, groupId: review.groupId, guestId: e.guestId };
      const lines = [e.neverAccepted ? guestText.neverAccepted(when(e.invitedAt)) : t.added(when(e.invitedAt))];
      if (e.decision) lines.push(e.decision.decision === 'keep' ? guestText.kept(e.email, e.decision.by) : guestText.removedBy(e.email, e.decision.by));
      else lines.push(t.undecided);
      const actions = e.decision
        ? []
        : [action(t.keep, 'review.keep', ids, 'positive'), action(t.remove, 'review.remove', ids, 'destructive'), ...(e.neverAccepted ? [action(t.resend, 'guests.resend', ids)] : [])];
      return { heading: e.name && e.name !== e.email ? `${e.name} (${e.email})` : e.email, lines, actions };
    }),
    footer: undecided.length > 1 ? [action(t.keepAll, 'review.keepAll', { reviewId: review.reviewId, groupId: review.groupId }, 'positive')] : [],
  });
}

export function guestReportCard(apps: AppGuestSummary[]): Attachment {
  return card({
    title: t.reportTitle,
    empty: t.reportEmpty,
    items: apps.map((a) => ({ heading: a.appName, lines: [...t.reportLine(a)], actions: [] })),
  });
}
