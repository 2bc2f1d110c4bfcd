/** The Teams double linked to the Graph simulator's Teams apps (proactive-delivery.md §7.6, §7.14). */
import type { TeamsApps } from '../teamsApps';
import type { TeamsState } from './state';

export interface GraphLink {
  /** Tells Graph about an install or uninstall made on the double. */
  mirror(aadObjectId: string, installed: boolean): void;
  /** Waits for installs that came from Graph to be applied and their events posted. */
  settle(): Promise<void>;
  unlink(): void;
}

/** Keeps the double's personal installs and the Graph simulator's in step, both ways (§7.6, §7.14). */
export function linkGraph(
  apps: TeamsApps,
  botAppId: string,
  state: TeamsState,
  actions: { install: (aad: string) => Promise<void>; uninstall: (aad: string) => Promise<void> },
): GraphLink {
  const app = apps.appByBotId(botAppId);
  if (!app) throw new Error(`No app in the Graph simulator's Teams catalog has botId ${botAppId}`);
  const pending = new Set<Promise<void>>();
  let mirroring = false;
  // Installations present in the seed: reachable from the start, without events.
  for (const p of apps.installedUsers(app.id)) {
    const person = state.person(p);
    person.scope = 'personal';
    person.everInstalled = true;
    state.personalConversation(person);
  }
  const unlink = apps.onChange((change) => {
    if (mirroring || change.app.id !== app.id) return;
    const apply = change.action === 'add' ? actions.install(change.userId) : actions.uninstall(change.userId);
    const done: Promise<void> = apply.finally(() => pending.delete(done));
    pending.add(done);
  });
  return {
    mirror(aad, installed) {
      mirroring = true;
      try {
        apps.setInstalled(aad, app.id, installed);
      } finally {
        mirroring = false;
      }
    },
    async settle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    unlink,
  };
}
