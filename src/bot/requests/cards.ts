/** Cards of membership requests: the owners' approval card and the lists, in the reader's language and time zone. */
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import type { AccessRequestRecord } from '../../store/store';
import { approvalOperationId } from '../../domain/requests/approval';
import type { Localizer } from '../../i18n';
import { renderCardJson, type CardData, type Fact } from '../cards';

function when(l: Localizer, iso: string | null): string {
  return iso ? l.dateTime(iso) : '';
}

function membershipText(l: Localizer, request: AccessRequestRecord): string {
  const membership = request.outcome?.membership;
  const names = {
    requester: request.requesterName,
    group: request.groupName,
    code: String(request.outcome?.code ?? 'error'),
    operationId: approvalOperationId(request.id),
  };
  if (membership === 'added' || membership === 'alreadyMember' || membership === 'refused' || membership === 'failed')
    return l.t(`requests:membership.${membership}`, names);
  if (membership === 'approverNotOwner') return l.t('security:approverNotOwner', names);
  if (request.state === 'approved') return l.t('requests:membership.adding', names);
  return '';
}

/** One line saying where the request stands, e.g. "Approved by Megan Bowen on 24 Nov 2026, 10:02." */
export function statusLine(l: Localizer, request: AccessRequestRecord): string {
  if (request.state === 'approved' || request.state === 'denied') {
    const decided = l.t(`requests:status.${request.state}`, {
      by: request.decidedByName ?? l.t('requests:status.anOwner'),
      at: when(l, request.decidedAt),
    });
    const membership = membershipText(l, request);
    return membership ? l.t('requests:status.withMembership', { decided, membership }) : decided;
  }
  if (request.state === 'pending') return l.t('requests:status.pending');
  return l.t(`requests:status.${request.state}`, { at: when(l, request.decidedAt) });
}

function facts(l: Localizer, request: AccessRequestRecord): Fact[] {
  return [
    { label: l.t('requests:fact.requester'), value: request.requesterName },
    { label: l.t('common:fact.app'), value: request.appName },
    { label: l.t('common:fact.group'), value: request.groupName },
    { label: l.t('requests:fact.reason'), value: request.justification },
    { label: l.t('requests:fact.askedAt'), value: when(l, request.createdAt) },
  ];
}

/** The approval card in its current state: buttons while pending, the decision afterwards. */
export function approvalCard(
  l: Localizer,
  request: AccessRequestRecord,
  options: { reminder?: boolean; refreshUserIds?: string[]; notice?: string } = {},
): Attachment {
  const pending = request.state === 'pending';
  const data: CardData['request-approval'] = {
    requestId: request.id,
    title: pending
      ? l.t(options.reminder ? 'requests:approval.reminderTitle' : 'requests:approval.title')
      : l.t('requests:approval.decidedTitle', { state: request.state }),
    facts: facts(l, request),
    status: options.notice ?? (pending ? '' : statusLine(l, request)),
    statusStyle: options.notice
      ? 'warning'
      : request.state === 'approved'
        ? 'good'
        : request.state === 'denied'
          ? 'attention'
          : 'default',
    comment: request.comment ? l.t('requests:approval.quoted', { comment: request.comment }) : '',
    pending,
    refreshUserIds: options.refreshUserIds ?? [],
  };
  const card = renderCardJson('request-approval', data, l);
  if (!pending || data.refreshUserIds.length === 0) delete card.refresh;
  return CardFactory.adaptiveCard(card);
}

/** The requester's own list ("my requests"). */
export function requestListCard(l: Localizer, requests: AccessRequestRecord[], withdrawable: boolean): Attachment {
  const items = requests.map((r) => ({
    requestId: r.id,
    heading: `${r.appName} · ${r.groupName}`,
    detail: l.t(withdrawable ? 'requests:list.detail' : 'requests:list.detailBy', {
      status: statusLine(l, r),
      at: when(l, r.createdAt),
      requester: r.requesterName,
    }),
    canWithdraw: withdrawable && r.state === 'pending',
  }));
  return CardFactory.adaptiveCard(
    renderCardJson('request-list', { title: l.t('requests:list.title'), empty: l.t('requests:list.empty'), items }, l),
  );
}
