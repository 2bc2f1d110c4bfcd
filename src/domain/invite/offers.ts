/**
 * What an owner may share: the apps whose self-service groups they own and that can take guests, read from the
 * catalog (walked from the apps: `ownedObjects` is not supported with application permissions). A group they own
 * that cannot take guests is listed apart, and the admins hear of it.
 */
import type { CatalogApp } from '../../graph/directory';
import { msg } from '../shared/message';
import {
  blockerProblem,
  groupBlockers,
  type Actor,
  type AppChoice,
  type BlockedReporter,
  type GroupBlocker,
} from '../shared/model';

/** A group the actor owns, assigned to an app, that cannot take guests. */
export interface BlockedGroup {
  appId: string;
  appName: string;
  groupId: string;
  groupName: string;
  blockers: GroupBlocker[];
}

export interface ShareableApps {
  apps: AppChoice[];
  /** Groups the actor owns and that are assigned to an app, but cannot take guests. */
  blocked: BlockedGroup[];
}

const byName = (a: { displayName: string }, b: { displayName: string }): number =>
  a.displayName.localeCompare(b.displayName);

/**
 * The apps the actor may share, groups sorted by name, and the blocked groups, sorted by app; the admins hear of
 * each blocked group (in the order the catalog lists them).
 */
export async function findShareableApps(
  catalog: readonly CatalogApp[],
  actor: Actor,
  report: BlockedReporter,
): Promise<ShareableApps> {
  const { apps, blocked } = ownedGroups(catalog, actor);
  await reportBlockedGroups(blocked, actor, report);
  for (const app of apps) app.groups.sort(byName);
  return { apps: apps.sort(byName), blocked: blocked.sort((a, b) => a.appName.localeCompare(b.appName)) };
}

/** The actor's groups in the catalog, in its order: the ones that can take guests by app, and the blocked ones. */
function ownedGroups(catalog: readonly CatalogApp[], actor: Actor): { apps: AppChoice[]; blocked: BlockedGroup[] } {
  const apps = new Map<string, AppChoice>();
  const blocked: BlockedGroup[] = [];
  for (const app of catalog) {
    for (const { group, ownerIds } of app.groups) {
      if (!ownerIds.includes(actor.userId)) continue;
      const blockers = groupBlockers(group);
      if (blockers.length > 0) {
        blocked.push({
          appId: app.id,
          appName: app.displayName,
          groupId: group.id,
          groupName: group.displayName,
          blockers,
        });
        continue;
      }
      const choice = apps.get(app.id) ?? { id: app.id, displayName: app.displayName, groups: [] };
      choice.groups.push({ id: group.id, displayName: group.displayName });
      apps.set(app.id, choice);
    }
  }
  return { apps: [...apps.values()], blocked };
}

/** Each blocked group counts as a block: the admins hear of it, one report each, in the order they were found. */
async function reportBlockedGroups(
  blocked: readonly BlockedGroup[],
  actor: Actor,
  report: BlockedReporter,
): Promise<void> {
  for (const b of blocked) {
    await report({
      tenantId: actor.tenantId,
      actor,
      doing: msg('admin:doing.sharing', { app: b.appName }),
      kind: blockerProblem[b.blockers[0]],
      app: { id: b.appId, displayName: b.appName },
      group: { id: b.groupId, displayName: b.groupName },
    });
  }
}
