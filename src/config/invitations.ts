/** Inviting guests: where they land, how many invitations and reads per person, bulk lists and list files. */
import { ConfigError, duration, httpsUrl, integer, positiveInteger, read, type Env } from './parse';

/** Files in the 1:1 chat (docs/files.md). */
export interface FileSettings {
  /** FILE_MAX_BYTES: the largest file read (2 MB). */
  maxBytes: number;
  /** The most an Excel workbook may hold once uncompressed (ten times FILE_MAX_BYTES). */
  maxUncompressedBytes: number;
  /** FILE_HOSTS: SharePoint/OneDrive host names files are fetched from; empty: derived from the initial domain. */
  hosts: string[];
}

export interface BulkSettings {
  maxAddresses: number;
  recheckAfterMs: number;
}

export interface InvitationSettings {
  defaultRedirectUrl: string;
  /** New invitations (and new requests) per user over a sliding hour. */
  actionsPerUserPerHour: number;
  /**
   * Commands that read much of the directory (request access, my guests, guest report, bulk check) per user over a
   * sliding hour.
   */
  readsPerUserPerHour: number;
  /**
   * Bulk invitations: most addresses in one list (BULK_INVITE_MAX); owners re-read before adding after
   * BULK_RECHECK_AFTER.
   */
  bulk: BulkSettings;
  /** Guest lists sent as files and the guest list exported as one. */
  files: FileSettings;
}

/**
 * BULK_INVITE_MAX: 1 to 1000 (a 1000-address job stays well inside a card and an hour of Graph's invitation limits).
 */
function bulkMax(env: Env): number {
  const value = positiveInteger(env, 'BULK_INVITE_MAX', 100);
  if (value > 1000) throw new ConfigError('BULK_INVITE_MAX', `must be at most 1000, got '${value}'`);
  return value;
}

/**
 * FILE_MAX_BYTES (1 KB to 20 MB) and FILE_HOSTS (host names, e.g. contoso.sharepoint.com, contoso-my.sharepoint.com).
 */
function files(env: Env): FileSettings {
  const maxBytes = integer(env, 'FILE_MAX_BYTES', 2 * 1024 * 1024, 1024);
  if (maxBytes > 20 * 1024 * 1024)
    throw new ConfigError('FILE_MAX_BYTES', `must be at most 20971520 (20 MB), got '${maxBytes}'`);
  const raw = read(env, 'FILE_HOSTS');
  const hosts = raw
    ? raw
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map((h) => h.toLowerCase())
    : [];
  const bad = hosts.find((h) => !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(h));
  if (bad)
    throw new ConfigError('FILE_HOSTS', `must be host names separated by commas (no scheme or path), got '${bad}'`);
  return { maxBytes, maxUncompressedBytes: maxBytes * 10, hosts };
}

export function invitationSettings(env: Env): InvitationSettings {
  return {
    defaultRedirectUrl: httpsUrl(env, 'INVITE_REDIRECT_URL_DEFAULT', 'https://myapps.microsoft.com'),
    actionsPerUserPerHour: positiveInteger(env, 'INVITES_PER_USER_PER_HOUR', 20),
    readsPerUserPerHour: positiveInteger(env, 'READS_PER_USER_PER_HOUR', 60),
    bulk: { maxAddresses: bulkMax(env), recheckAfterMs: duration(env, 'BULK_RECHECK_AFTER', '5m') },
    files: files(env),
  };
}
