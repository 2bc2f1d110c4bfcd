/** Every word the guest lifecycle cards and replies show, in one place (to be moved to message catalogs as a whole). */
export const guestCardText = {
  myGuestsTitle: 'Your guests',
  myGuestsSubtitle: (total: number, page: number, pages: number) => `${total} guest${total === 1 ? '' : 's'} in the groups you own · page ${page + 1} of ${pages}`,
  myGuestsEmpty: 'There are no guests in the groups you own (with these filters).',
  pendingOnly: 'Pending only',
  allApps: 'All apps',
  apply: 'Apply filters',
  previous: 'Previous page',
  next: 'Next page',
  resend: 'Resend invitation',
  remove: 'Remove from group',
  confirmTitle: 'Remove guest?',
  confirmButton: 'Remove',
  cancel: 'Cancel',
  cancelled: 'Cancelled. Nothing was changed.',
  appGroup: (app: string, group: string) => `${app} · ${group}`,
  invitedBy: (by: string, at: string) => `Invited by ${by} on ${at}`,
  added: (at: string) => `Added ${at}`,
  sponsors: (names: string[]) => `Sponsor${names.length === 1 ? '' : 's'}: ${names.join(', ')}`,
  reviewTitle: (group: string) => `Review: do these guests still need ${group}?`,
  reviewReminderTitle: (group: string) => `Reminder: review the guests of ${group}`,
  reviewSubtitle: (app: string, deadline: string, byDefault: string) => `${app} · decide by ${deadline}; after that the default applies: ${byDefault}.`,
  keep: 'Keep',
  keepAll: 'Keep all',
  undecided: 'Waiting for an owner’s decision',
  notDone: 'Not done',
  notSignedIn: 'Only a signed-in Microsoft Entra user can do this.',
  unknownAction: 'That card action is not one I know, so I did nothing.',
  working: 'Working on it…',
  workingText: 'This card shows the outcome in a moment.',
  reportTitle: 'Guest report',
  reportEmpty: 'The bot has not added any guest yet.',
  reportLine: (r: { guests: number; pending: number; overdue: number; noSponsor: number; removed: number }) =>
    [`Guests: ${r.guests}`, `Pending invitations: ${r.pending}`, `Reviews overdue: ${r.overdue}`, `Without a sponsor in Entra: ${r.noSponsor}`, `Removed in the last 30 days: ${r.removed}`],
  forAdmins: 'The guest report is for admins. Nothing was changed.',
  defaultWords: { keep: 'keep them', remove: 'remove them' },
} as const;

/** "2026-11-24 10:02 UTC" */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '';
}
