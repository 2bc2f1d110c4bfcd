/** Cards of membership requests: the owners' approval card and the lists. */
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import type { AccessRequestRecord } from '../store/store';
import { approvalOperationId } from '../domain/requestAccess';
import { renderCardJson, type CardData, type Fact } from './cards';

function when(iso: string | null): string {
  if (!iso) return '';
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

const stateWords: Record<AccessRequestRecord['state'], string> = {
  pending: 'Waiting for an owner',
  approved: 'Approved',
  denied: 'Denied',
  withdrawn: 'Withdrawn by the requester',
  expired: 'Expired without a decision',
};

function membershipText(request: AccessRequestRecord): string {
  const membership = request.outcome?.membership;
  if (membership === 'added') return `${request.requesterName} was added to ${request.groupName}.`;
  if (membership === 'alreadyMember') return `${request.requesterName} already was a member of ${request.groupName}.`;
  if (membership === 'refused') return `Microsoft Entra ID refused to add ${request.requesterName} to ${request.groupName} (${String(request.outcome?.code ?? 'error')}); an admin should check the group and the bot's permissions.`;
  if (membership === 'failed') {
    return `Adding ${request.requesterName} to ${request.groupName} failed (${String(request.outcome?.code ?? 'error')}). I will try again later; an admin can also run “retry operation ${approvalOperationId(request.id)}”.`;
  }
  if (request.state === 'approved') return `Adding ${request.requesterName} to ${request.groupName}…`;
  return '';
}

/** One line saying where the request stands, e.g. "Approved by Megan Bowen at 2026-11-24 10:02 UTC". */
export function statusLine(request: AccessRequestRecord): string {
  if (request.state === 'approved' || request.state === 'denied') {
    return `${stateWords[request.state]} by ${request.decidedByName ?? 'an owner'} at ${when(request.decidedAt)}. ${membershipText(request)}`.trim();
  }
  if (request.state === 'pending') return stateWords.pending;
  return `${stateWords[request.state]} (${when(request.decidedAt)}).`;
}

function facts(request: AccessRequestRecord): Fact[] {
  return [
    { label: 'Requested by', value: request.requesterName },
    { label: 'App', value: request.appName },
    { label: 'Group', value: request.groupName },
    { label: 'Reason', value: request.justification },
    { label: 'Asked at', value: when(request.createdAt) },
  ];
}

/** The approval card in its current state: buttons while pending, the decision afterwards. */
export function approvalCard(request: AccessRequestRecord, options: { reminder?: boolean; refreshUserIds?: string[]; notice?: string } = {}): Attachment {
  const pending = request.state === 'pending';
  const data: CardData['request-approval'] = {
    requestId: request.id,
    title: pending ? (options.reminder ? 'Reminder: access request waiting for you' : 'Access request') : `Access request: ${stateWords[request.state].toLowerCase()}`,
    facts: facts(request),
    status: options.notice ?? (pending ? '' : statusLine(request)),
    statusStyle: options.notice ? 'warning' : request.state === 'approved' ? 'good' : request.state === 'denied' ? 'attention' : 'default',
    comment: request.comment ? `“${request.comment}”` : '',
    pending,
    refreshUserIds: options.refreshUserIds ?? [],
  };
  const card = renderCardJson('request-approval', data);
  if (!pending || data.refreshUserIds.length === 0) delete card.refresh;
  return CardFactory.adaptiveCard(card);
}

export function requestListCard(title: string, empty: string, requests: AccessRequestRecord[], withdrawable: boolean): Attachment {
  const items = requests.map((r) => ({
    requestId: r.id,
    heading: `${r.appName} · ${r.groupName}`,
    detail: `${statusLine(r)} Asked ${when(r.createdAt)}${withdrawable ? '' : ` by ${r.requesterName}`}.`,
    canWithdraw: withdrawable && r.state === 'pending',
  }));
  return CardFactory.adaptiveCard(renderCardJson('request-list', { title, empty, items }));
}
