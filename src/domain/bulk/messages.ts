/**
 * Every user-facing string of the bulk invitation (domain outcomes, review and progress cards), in one place so
 * that moving them to message catalogs is mechanical.
 */
import type { LineProblem } from './addresses';

export const bulkText = {
  title: 'Invite guests',
  severalButton: 'Several guests…',
  commandDescription: 'Invite several people from outside the organization at once (up to the configured maximum) to an app whose access group you own.',
  listPrompt: (appName: string, groupName: string): string => `The guests will join ${groupName} and get access to ${appName}.`,
  listLabel: 'Guest email addresses',
  listPlaceholder: 'One a line, or separated by commas or semicolons; "Name <name@partner.com>" works too',
  listRequired: 'Enter at least one email address.',
  messageLabel: 'Welcome message (optional, the same for every guest)',
  messagePlaceholder: 'Shown in the invitation email',
  checkButton: 'Check the list',
  sendButton: (n: number): string => `Send to ${n} valid ${n === 1 ? 'address' : 'addresses'}`,
  cancelButton: 'Cancel',
  emptyList: 'The list has no addresses. Enter at least one.',
  noneValid: 'None of these addresses can be invited. Fix the list and check it again.',
  reviewHeading: 'Review before anything is sent',
  willInvite: 'Will be invited',
  existingGuests: 'Already guests (only added)',
  alreadyMembers: 'Already members (skipped)',
  notUsable: 'Lines that cannot be used',
  blockedNote: 'Domains your organization blocks for guests are checked when the invitations are sent.',
  lookupUnavailable: 'Microsoft Entra ID did not answer the look-up, so existing guests are counted when the invitations are sent.',
  problem: (problem: LineProblem, detail: string | null, max: number): string => {
    switch (problem) {
      case 'syntax':
        return detail ?? 'not an email address';
      case 'ownDomain':
        return 'your organization’s own domain: people with it are members, not guests';
      case 'duplicate':
        return 'duplicate in the list';
      case 'overLimit':
        return `over the limit of ${max} addresses at once`;
    }
  },
  rateLimited: (allowed: number): string =>
    `That is more invitations than you may still send this hour (${allowed} left). Send fewer addresses or try again later. I did nothing.`,
  progressTitle: 'Inviting guests…',
  finishedTitle: 'Guests invited',
  finishedWithProblemsTitle: 'Guests invited, with problems',
  stoppedTitle: 'Invitations stopped',
  counts: { done: 'Done', waiting: 'Waiting for Microsoft Entra ID', failed: 'Failed or refused', skipped: 'Already members', pending: 'Still to do' },
  waitingNote: 'Microsoft Entra ID is still setting up some new guest accounts; they are added to the group within minutes, and this card shows it.',
  page: (page: number, pages: number): string => `Page ${page} of ${pages}`,
  previous: 'Previous',
  next: 'Next',
  state: {
    pending: 'to do',
    inviting: 'sending',
    invited: 'invited, adding',
    existing: 'existing guest, adding',
    member: 'already a member',
    added: 'added',
    invitedAdded: 'invited and added',
    waiting: 'invited, waiting for Microsoft Entra ID',
    refused: 'refused',
    failed: 'failed',
  } as Record<string, string>,
  reason: {
    notOwner: (group: string): string => `You are not an owner of ${group} (any more), so no more guests were added to it.`,
    invitesNotAllowed: 'your organization’s guest invite settings do not allow it',
    invitationRefused: (detail: string): string => `Microsoft Entra ID refused the invitation (blocked domain?): ${detail}`,
    writeRefused: (detail: string): string => `Microsoft Entra ID refused the membership: ${detail}`,
    failed: (detail: string): string => `could not be finished: ${detail}`,
    replicationTimeout: 'the new guest account did not show up in time; an admin can retry the operation',
  },
  inProgress: 'These invitations are already being sent. This card shows the outcome when it is done.',
  retryHint: (operationId: string): string => `Some addresses failed. An admin can run them again with “retry operation ${operationId}”.`,
};
