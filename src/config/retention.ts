/** How long each kind of stored data is kept (docs/privacy.md), checked against the settings that need it longer. */
import { ConfigError, DAY, HOUR, duration, type Env } from './parse';
import type { ProcessSettings } from './operations';
import type { LifecycleSettings } from './lifecycle';

/** Retention per kind of data; each is counted from the moment the record was finished or last written. */
export interface RetentionSettings {
  sweepIntervalMs: number;
  auditMs: number;
  removedGuestsMs: number;
  finishedOperationsMs: number;
  closedRequestsMs: number;
  dialogStateMs: number;
  reviewStateMs: number;
  rateKeysMs: number;
  alertsMs: number;
}

/** A retention of at least `minMs` (another setting that needs the data that long), named in the message. */
function retentionAtLeast(env: Env, name: string, fallback: string, minMs: number, because: string): number {
  const value = duration(env, name, fallback);
  const hours = (ms: number): number => Math.ceil(ms / 3_600_000);
  if (value < minMs) {
    throw new ConfigError(name, `must be at least ${because} (${hours(minMs)}h), got ${hours(value)}h`);
  }
  return value;
}

export function retentionSettings(
  env: Env,
  s: Pick<ProcessSettings, 'operations'> & Pick<LifecycleSettings, 'guests' | 'alerts'>,
): RetentionSettings {
  const ops = s.operations;
  const retries = Math.max(ops.retryAfterMs * (ops.retryMax + 1), ops.replicationWaitMs);
  return {
    sweepIntervalMs: duration(env, 'RETENTION_SWEEP_INTERVAL', '1h'),
    auditMs: retentionAtLeast(env, 'AUDIT_RETENTION', '365d', 30 * DAY, '30 days'),
    removedGuestsMs: duration(env, 'REMOVED_GUEST_RETENTION', '90d'),
    finishedOperationsMs: retentionAtLeast(
      env,
      'OPERATION_RETENTION',
      '30d',
      retries + DAY,
      'the automatic retries and REPLICATION_WAIT plus a day',
    ),
    closedRequestsMs: duration(env, 'REQUEST_RETENTION', '90d'),
    dialogStateMs: retentionAtLeast(env, 'DIALOG_STATE_RETENTION', '7d', HOUR, 'an hour'),
    reviewStateMs: retentionAtLeast(
      env,
      'REVIEW_STATE_RETENTION',
      '60d',
      s.guests.reviewGraceMs + DAY,
      'GUEST_REVIEW_GRACE plus a day',
    ),
    rateKeysMs: retentionAtLeast(
      env,
      'RATE_KEY_RETENTION',
      '7d',
      Math.max(s.guests.resendCooldownMs, HOUR),
      'RESEND_COOLDOWN and an hour',
    ),
    alertsMs: retentionAtLeast(env, 'ALERT_RETENTION', '90d', s.alerts.quietPeriodMs, 'ALERT_QUIET_PERIOD'),
  };
}
