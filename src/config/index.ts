/**
 * Typed settings, read and validated in one place at start-up: `loadSettings` puts together one group per file of
 * this folder (each reads its variables and holds their defaults; ./parse.ts has the helpers). A bad value stops
 * start-up with a ConfigError naming the variable. Services are built from a group (a slice of Settings).
 */
import { accessSettings, type AccessSettings } from './access';
import { invitationSettings, type InvitationSettings } from './invitations';
import { lifecycleSettings, type LifecycleSettings } from './lifecycle';
import { observabilitySettings, type ObservabilitySettings } from './observability';
import { processSettings, type ProcessSettings } from './operations';
import type { Env } from './parse';
import { retentionSettings, type RetentionSettings } from './retention';
import { storeSettings, type StoreSettings } from './store';

export { ConfigError } from './parse';

export interface Settings
  extends AccessSettings, StoreSettings, ObservabilitySettings, ProcessSettings, InvitationSettings, LifecycleSettings {
  /** How long each kind of stored data is kept (docs/privacy.md), and how often the retention sweep runs. */
  retention: RetentionSettings;
}

export function loadSettings(env: Env = process.env): Settings {
  const settings = {
    ...accessSettings(env),
    ...storeSettings(env),
    ...processSettings(env),
    ...invitationSettings(env),
    ...lifecycleSettings(env),
    ...observabilitySettings(env),
  };
  return { ...settings, retention: retentionSettings(env, settings) };
}
