/**
 * Text commands, recognised forgivingly (any case, extra spaces, trailing punctuation, after an @mention), in
 * English and in Dutch; the English ones work whatever the user's language. The Dutch ones include the words the
 * cards teach (card titles such as “Configuratiecontrole”, Microsoft's “Opnieuw proberen”) and “hulp”.
 */
import type { Localizer } from '../i18n';

export type Command =
  | { name: 'invite' }
  | { name: 'inviteGuests' }
  | { name: 'request'; appQuery?: string }
  | { name: 'myRequests' }
  | { name: 'pendingRequests' }
  | { name: 'setupCheck'; page: number }
  | { name: 'alerts' }
  | { name: 'alertsHere' }
  | { name: 'alertsOff' }
  | { name: 'retryOperation'; id: string }
  | { name: 'erasePerson'; target: string }
  | { name: 'myGuests' }
  | { name: 'guestReport' }
  | { name: 'help' }
  | { name: 'cancel' };

const exact: Record<string, Command> = {
  'invite guest': { name: 'invite' },
  'invite a guest': { name: 'invite' },
  'invite guests': { name: 'inviteGuests' },
  'invite several guests': { name: 'inviteGuests' },
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
  // Dutch
  'gast uitnodigen': { name: 'invite' },
  'een gast uitnodigen': { name: 'invite' },
  'gasten uitnodigen': { name: 'inviteGuests' },
  'meerdere gasten uitnodigen': { name: 'inviteGuests' },
  uitnodigen: { name: 'invite' },
  'toegang aanvragen': { name: 'request' },
  aanvragen: { name: 'request' },
  'mijn aanvragen': { name: 'myRequests' },
  'mijn aanvraag': { name: 'myRequests' },
  'mijn toegangsaanvragen': { name: 'myRequests' },
  'uw toegangsaanvragen': { name: 'myRequests' },
  'openstaande aanvragen': { name: 'pendingRequests' },
  'openstaande aanvraag': { name: 'pendingRequests' },
  'configuratie controleren': { name: 'setupCheck', page: 1 },
  configuratiecontrole: { name: 'setupCheck', page: 1 },
  meldingen: { name: 'alerts' },
  configuratieproblemen: { name: 'alerts' },
  'openstaande configuratieproblemen': { name: 'alerts' },
  'meldingen hier': { name: 'alertsHere' },
  'meldingen uit': { name: 'alertsOff' },
  'mijn gasten': { name: 'myGuests' },
  'mijn gast': { name: 'myGuests' },
  'uw gasten': { name: 'myGuests' },
  gastenrapport: { name: 'guestReport' },
  'gasten rapport': { name: 'guestReport' },
  hulp: { name: 'help' },
  annuleren: { name: 'cancel' },
  stoppen: { name: 'cancel' },
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
  const retry = /^(?:retry operation|bewerking herhalen|bewerking opnieuw proberen) (\S{1,120})$/.exec(normalized);
  if (retry) {
    const original = (text ?? '').trim().split(/\s+/).pop() ?? retry[1];
    return { name: 'retryOperation', id: original.slice(0, 120) };
  }
  const erase = /^(?:erase person|persoon wissen)(?: (.{1,320}))?$/.exec(normalized);
  if (erase) {
    // The address or id as typed (an @mention removed); the domain checks its form.
    const original = (text ?? '')
      .replace(/<at>[^<]*<\/at>/gi, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const target = erase[1]
      ? original
          .split(' ')
          .slice(2)
          .join(' ')
          .replace(/[.!]+$/, '')
      : '';
    return { name: 'erasePerson', target };
  }
  const page = /^(?:setup check page|configuratie controleren pagina|configuratiecontrole pagina) (\d{1,4})$/.exec(
    normalized,
  );
  if (page) return { name: 'setupCheck', page: Number(page[1]) };
  const request = /^(?:request access (?:to|for)|toegang aanvragen (?:voor|tot)) (.+)$/.exec(normalized);
  if (request) {
    // Keep the app name as typed (case included) for the reply; matching ignores case anyway.
    const original = (text ?? '')
      .replace(/<at>[^<]*<\/at>/gi, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const at = original.toLowerCase().indexOf(request[1]);
    return {
      name: 'request',
      appQuery: (at >= 0 ? original.slice(at, at + request[1].length) : request[1]).slice(0, 200),
    };
  }
  return null;
}

/** The commands the help card lists, in the order shown. */
const listed = [
  'invite',
  'inviteGuests',
  'request',
  'myRequests',
  'pendingRequests',
  'myGuests',
  'setupCheck',
  'alerts',
  'guestReport',
  'retryOperation',
  'erasePerson',
  'cancel',
  'help',
] as const;

/** The help card's command list in the reader's language (`common:commands.*`). */
export function commandList(l: Localizer): Array<{ name: string; description: string }> {
  return listed.map((c) => ({
    name: l.t(`common:commands.${c}.name`),
    description: l.t(`common:commands.${c}.description`),
  }));
}
