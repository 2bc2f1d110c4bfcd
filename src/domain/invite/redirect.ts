/** Where an invited guest lands after redeeming: the app's own page when it is a safe https URL, else the default. */

/** The app's homepage, else its login URL, when it is an absolute https URL with a host; otherwise `fallback`. */
export function invitationRedirect(
  app: { homepage?: string | null; loginUrl?: string | null },
  fallback: string,
): string {
  for (const candidate of [app.homepage, app.loginUrl]) {
    if (candidate && isSafeRedirect(candidate)) return candidate;
  }
  return fallback;
}

/**
 * An app's homepage and login URL are set by its owners (any string the portal takes, http: and javascript:
 * included): only an https URL with a host and no credentials is sent in an invitation.
 */
export function isSafeRedirect(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
}
