/** Text commands, recognised forgivingly (any case, extra spaces, trailing punctuation, after an @mention). */

export type Command =
  | { name: 'invite' }
  | { name: 'request'; appQuery?: string }
  | { name: 'myRequests' }
  | { name: 'pendingRequests' }
  | { name: 'setupCheck'; page: number }
  | { name: 'alerts' }
  | { name: 'alertsHere' }
  | { name: 'alertsOff' }
  | { name: 'retryOperation'; id: string }
  | { name: 'myGuests' }
  | { name: 'guestReport' }
  | { name: 'help' }
  | { name: 'cancel' };

const exact: Record<string, Command> = {
  'invite guest': { name: 'invite' },
  'invite a guest': { name: 'invite' },
  'invite guests': { name: 'invite' },
  invite: { name: 'invite' },
  'request access': { name: 'request' },
  request: { name: 'request' },
  'my requests': { name: 'myRequests' },
  'my request': { name: 'myRequests' },
  'pending requests': { name: 'pendingRequests' },
  'pending request': { name: 'pendingRequests' },
  'setup check': { name: 'setupCheck', page: 1 },
  alerts: { name: 'alerts' },
  'alerts here': { name: 'alertsHere' },
  'alerts off': { name: 'alertsOff' },
  'my guests': { name: 'myGuests' },
  'my guest': { name: 'myGuests' },
  'guest report': { name: 'guestReport' },
  help: { name: 'help' },
  '?': { name: 'help' },
  cancel: { name: 'cancel' },
  stop: { name: 'cancel' },
  quit: { name: 'cancel' },
  exit: { name: 'cancel' },
};

export function normalizeText(text: string | undefined): string {
  return (text ?? '')
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!]+$/, '')
    .toLowerCase();
}

export function parseCommand(text: string | undefined): Command | null {
  const normalized = normalizeText(text);
  const known = exact[normalized];
  if (known) return known;
  const retry = /^retry operation (\S{1,120})$/.exec(normalized);
  if (retry) {
    const original = (text ?? '').trim().split(/\s+/).pop() ?? retry[1];
    return { name: 'retryOperation', id: original.slice(0, 120) };
  }
  const page = /^setup check page (\d{1,4})$/.exec(normalized);
  if (page) return { name: 'setupCheck', page: Number(page[1]) };
  const request = /^request access (?:to|for) (.+)$/.exec(normalized);
  if (request) {
    // Keep the app name as typed (case included) for the reply; matching ignores case anyway.
    const original = (text ?? '').replace(/<at>[^<]*<\/at>/gi, ' ').replace(/\s+/g, ' ').trim();
    const at = original.toLowerCase().indexOf(request[1]);
    return { name: 'request', appQuery: (at >= 0 ? original.slice(at, at + request[1].length) : request[1]).slice(0, 200) };
  }
  return null;
}

export const commandList: Array<{ name: string; description: string }> = [
  { name: 'invite guest', description: 'Invite someone from outside the organization to an app whose access group you own.' },
  { name: 'request access', description: 'Ask the owners of an app’s access group to let you in (also: “request access to” followed by the app’s name).' },
  { name: 'my requests', description: 'See your access requests; withdraw one that is still waiting.' },
  { name: 'pending requests', description: 'See the requests waiting for your decision as an owner.' },
  { name: 'my guests', description: 'See the guests in the groups you own: accepted or pending, sponsors; resend an invitation or remove a guest.' },
  { name: 'setup check', description: 'Admins: what is missing for self-service app sharing, and how to fix it (setup check page 2, …).' },
  { name: 'alerts', description: 'Admins: open setup problems; acknowledge one. “alerts here” in a channel sends alerts there, “alerts off” stops it.' },
  { name: 'guest report', description: 'Admins: per app, guests, pending invitations, overdue reviews, guests without a sponsor, recent removals.' },
  { name: 'retry operation', description: 'Admins: run a failed invitation or approval again from where it stopped (retry operation <id> from the failure notice).' },
  { name: 'cancel', description: 'Stop what we are doing; nothing is changed.' },
  { name: 'help', description: 'Show this list.' },
];
