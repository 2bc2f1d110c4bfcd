/** The settings a test starts from: every default, as src/config/ gives them with nothing set. */
import { loadSettings, type Settings } from '../../src/config';

export const TEST_SETTINGS: Settings = loadSettings({});

/** The settings-derived options of the domain services, for tests that build a service directly. */
export const SERVICE_SETTINGS = {
  replicationWaitMs: TEST_SETTINGS.operations.replicationWaitMs,
  maxAddresses: TEST_SETTINGS.bulk.maxAddresses,
  recheckAfterMs: TEST_SETTINGS.bulk.recheckAfterMs,
  remindAfterMs: TEST_SETTINGS.requests.remindAfterMs,
  expireAfterMs: TEST_SETTINGS.requests.expireAfterMs,
  quietPeriodMs: TEST_SETTINGS.alerts.quietPeriodMs,
  resendCooldownMs: TEST_SETTINGS.guests.resendCooldownMs,
  intervalMs: TEST_SETTINGS.guests.reviewIntervalMs,
  graceMs: TEST_SETTINGS.guests.reviewGraceMs,
  staleAfterMs: TEST_SETTINGS.guests.invitationStaleAfterMs,
} as const;
