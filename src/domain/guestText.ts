/**
 * Every sentence the guest lifecycle (my guests, resend, remove, reviews, report) says to people, in one place,
 * so that it can be moved to message catalogs as a whole.
 */
export const guestText = {
  notOwner: (group: string) => `You are not an owner of ${group} (any more), so I did nothing.`,
  notMember: (guest: string, group: string) => `${guest} is no longer a member of ${group}, so there was nothing to do.`,
  notGuest: (guest: string) => `${guest} is not a guest account, so I did nothing.`,
  notPending: (guest: string) => `${guest} has already accepted the invitation, so there is nothing to resend.`,
  cooldown: (guest: string, next: string) => `An invitation was resent to ${guest} less than a day ago. You can resend again after ${next}. I did nothing.`,
  resent: (guest: string) => `I sent the invitation to ${guest} again.`,
  resendFailed: (guest: string, code: string) => `Microsoft Entra ID did not send the invitation to ${guest} again (${code}). Please try again later.`,
  removed: (guest: string, group: string, app: string) => `${guest} was removed from ${group} and no longer has access to ${app} through it.`,
  removeRefused: (guest: string, group: string, code: string) =>
    `Microsoft Entra ID refused to remove ${guest} from ${group} (${code}). A group synchronized from on-premises Active Directory, a mail-enabled group or a role-assignable group can only be changed by an admin, in the place that manages it; if the group is none of these, the bot may lack GroupMember.ReadWrite.All. Your admins can check the group. Nothing was changed.`,
  removeFailed: (guest: string, group: string, reference: string) =>
    `Removing ${guest} from ${group} did not finish because Microsoft Entra ID did not answer. I will try again; reference ${reference}.`,
  removeInProgress: 'This removal is already under way. The card shows the outcome when it is done.',
  confirmRemove: (guest: string, group: string, app: string) => `Remove ${guest} from ${group}? They lose access to ${app}.`,
  confirmRemoveNote: "The guest's account in your directory is not deleted; only the group membership is removed.",
  reviewAlreadyDecided: (guest: string, by: string) => `The review of ${guest} was already decided by ${by}. Nothing changed.`,
  reviewNotOpen: 'This review is closed (already decided, or the guest left the group). Nothing changed.',
  kept: (guest: string, by: string) => `${guest} kept by ${by}`,
  removedBy: (guest: string, by: string) => `${guest} removed by ${by}`,
  defaultAfterGrace: 'default after grace',
  defaultApplied: (group: string, action: 'keep' | 'remove', count: number) =>
    `No owner reviewed ${count} guest(s) of ${group} in time, so the default was applied: ${action === 'remove' ? 'they were removed from the group' : 'they were kept'}.`,
  addedOutsideBot: 'added outside the bot',
  noSponsor: 'no sponsor',
  pendingSince: (since: string) => `Pending acceptance since ${since}`,
  acceptedSince: (since: string) => `Accepted ${since}`,
  sponsorsInBotOnly: (permission: string) =>
    `Kept in the bot's records only (the inviting or approving owner). To have them in Entra too, grant the application permission ${permission} and set GUEST_SPONSORS_IN_ENTRA=true.`,
  sponsorsInEntra: (permission: string) => `Written to Entra (needs ${permission}; if it is not granted, guests are still invited, the sponsor stays in the bot's records and an alert names the permission).`,
  neverAccepted: (since: string) => `Never accepted (invited ${since})`,
} as const;
