/**
 * Which self-service apps a user can ask for: the apps whose groups can take members and have an owner to
 * decide, matched against what the user typed; an app that exists but cannot be requested is explained.
 */
import type { CatalogApp } from '../../graph/directory';
import { msg, type Msg } from '../shared/message';
import { groupBlockers, reportBlocked, type Actor, type AppChoice } from '../shared/model';
import type { RequestContext } from './context';

function simplify(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Groups of an app that can take members and have an owner to decide. */
function usableGroups(app: CatalogApp): CatalogApp['groups'] {
  return app.groups.filter((g) => groupBlockers(g.group).length === 0 && g.ownerCount > 0);
}

/** Apps whose name matches what the user typed: exact, then prefix or contained, then every word present. */
export function matchApps<T extends { displayName: string }>(apps: readonly T[], query: string): T[] {
  const q = simplify(query);
  if (!q) return [...apps];
  const exact = apps.filter((a) => simplify(a.displayName) === q);
  if (exact.length > 0) return exact;
  const contained = apps.filter((a) => simplify(a.displayName).includes(q));
  if (contained.length > 0) return contained;
  const words = q.split(' ');
  return apps.filter((a) => {
    const name = simplify(a.displayName).split(' ');
    return words.every((w) => name.some((n) => n.startsWith(w) || (w.length > 3 && n.includes(w))));
  });
}

/**
 * Self-service apps the user does not reach yet: groups that can take members, have owners, and do not have the
 * user. Membership is read with checkMemberGroups over the catalog's groups (memberOf needs Directory.Read.All
 * app-only: user-list-memberof.md).
 */
export async function findRequestableApps(ctx: RequestContext, actor: Actor): Promise<AppChoice[]> {
  const catalog = await ctx.catalog.apps();
  const memberOf = await ctx.options.directory.checkMemberGroups(actor.userId, [
    ...new Set(catalog.flatMap((a) => a.groups.map((g) => g.group.id))),
  ]);
  const choices: AppChoice[] = [];
  for (const app of catalog) {
    if (app.groups.some((g) => memberOf.has(g.group.id))) continue;
    const groups = usableGroups(app)
      .map((g) => ({ id: g.group.id, displayName: g.group.displayName }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName));
    if (groups.length > 0) choices.push({ id: app.id, displayName: app.displayName, groups });
  }
  return choices.sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/**
 * The user asked for an app by name and it is not requestable: when the app exists but has no group that can take
 * members, that is a setup problem: the admins hear of it (a block) and the user is told why. Null otherwise.
 */
export async function explainUnrequestable(ctx: RequestContext, actor: Actor, query: string): Promise<Msg | null> {
  const unusable = matchApps(
    (await ctx.catalog.apps()).filter((app) => usableGroups(app).length === 0),
    query,
  );
  if (unusable.length === 0) return null;
  for (const app of unusable) {
    await reportBlocked(ctx.options.onBlocked, ctx.options.logger, {
      tenantId: actor.tenantId,
      actor,
      doing: msg('admin:doing.requesting', { app: app.displayName }),
      kind: 'appNoUsableGroup',
      app: { id: app.id, displayName: app.displayName },
      group: null,
    });
  }
  return msg('requests:unrequestable', { apps: unusable.map((a) => a.displayName).join(', ') });
}
