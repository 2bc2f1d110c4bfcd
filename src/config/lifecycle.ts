/**
 * What the bot does over time and whom it reaches: access request reminders and expiry, admin alerts and setup
 * scans, the guest lifecycle (resends, reviews, sponsors), and the Teams app it installs for people.
 */
import { duration, guidList, oneOf, optionalGuid, type Env } from './parse';

export interface RequestSettings {
  remindAfterMs: number;
  expireAfterMs: number;
  sweepIntervalMs: number;
}

export interface AlertSettings {
  adminUserIds: string[];
  quietPeriodMs: number;
  scanIntervalMs: number;
}

/** The guest lifecycle settings. */
export interface GuestSettings {
  resendCooldownMs: number;
  reviewIntervalMs: number;
  reviewGraceMs: number;
  reviewDefault: 'remove' | 'keep';
  invitationStaleAfterMs: number;
  sponsorsInEntra: boolean;
}

/**
 * The Teams app, for installing it for people who never opened it: the manifest's id (TEAMS_APP_ID, to find the
 * catalog id from an existing installation) and its id in the org catalog (TEAMS_APP_CATALOG_ID, set by an admin).
 */
export interface TeamsAppSettings {
  manifestId: string | null;
  catalogId: string | null;
}

export interface LifecycleSettings {
  requests: RequestSettings;
  alerts: AlertSettings;
  /** The guest lifecycle: resends, periodic reviews, sponsors in Entra. */
  guests: GuestSettings;
  teamsApp: TeamsAppSettings;
}

function guests(env: Env): GuestSettings {
  return {
    resendCooldownMs: duration(env, 'RESEND_COOLDOWN', '24h'),
    reviewIntervalMs: duration(env, 'GUEST_REVIEW_INTERVAL', '90d'),
    reviewGraceMs: duration(env, 'GUEST_REVIEW_GRACE', '14d'),
    reviewDefault: oneOf(env, 'GUEST_REVIEW_DEFAULT', ['remove', 'keep'] as const, 'remove'),
    invitationStaleAfterMs: duration(env, 'INVITATION_STALE_AFTER', '30d'),
    sponsorsInEntra: oneOf(env, 'GUEST_SPONSORS_IN_ENTRA', ['false', 'true'] as const, 'false') === 'true',
  };
}

export function lifecycleSettings(env: Env): LifecycleSettings {
  return {
    alerts: {
      adminUserIds: guidList(env, 'ADMIN_USER_IDS'),
      quietPeriodMs: duration(env, 'ALERT_QUIET_PERIOD', '24h'),
      scanIntervalMs: duration(env, 'SETUP_SCAN_INTERVAL', '24h'),
    },
    requests: {
      remindAfterMs: duration(env, 'REQUEST_REMIND_AFTER', '48h'),
      expireAfterMs: duration(env, 'REQUEST_EXPIRE_AFTER', '14d'),
      sweepIntervalMs: duration(env, 'REQUEST_SWEEP_INTERVAL', '5m'),
    },
    guests: guests(env),
    teamsApp: { manifestId: optionalGuid(env, 'TEAMS_APP_ID'), catalogId: optionalGuid(env, 'TEAMS_APP_CATALOG_ID') },
  };
}
