/**
 * A setup problem (setup check report, admin alert) in the reader's language, rendered from what identifies it:
 * its kind, app, group and detail. The use cases keep an English summary and fix steps with each problem (stored
 * with alerts, written to logs); what admins read comes from the catalog (`admin:problem.*`, `admin:fix.*`).
 */
import { REQUIRED_PERMISSION_NAMES } from '../graph/permissions';
import type { Localizer } from '../i18n';

export interface ProblemLike {
  kind: string;
  key: string;
  appName: string | null;
  groupName: string | null;
  summary: string;
  fix: string[];
}

const steps = (l: Localizer, group: string, count: number, params: Record<string, string>): string[] =>
  Array.from({ length: count }, (_, i) => l.t(`admin:fix.${group}.s${i + 1}`, params));

/**
 * Summary and fix steps of a problem. `setting` is the tenant's allowInvitesFrom for invitesNotAllowed (read from
 * the stored summary when not given). A kind the catalog does not know keeps its stored text.
 */
export function problemText(
  l: Localizer,
  problem: ProblemLike,
  setting?: string | null,
): { summary: string; fix: string[] } {
  const app = problem.appName ?? l.t('admin:problem.theApp');
  const group = problem.groupName ?? l.t('admin:problem.theGroup');
  const detail = problem.key.includes(':') ? problem.key.slice(problem.key.indexOf(':') + 1) : '';
  const params = { app, group };
  switch (problem.kind) {
    case 'invitesNotAllowed': {
      const value = setting ?? /allowInvitesFrom = ([^)]+)\)/.exec(problem.summary)?.[1] ?? 'restricted';
      return {
        summary: l.t('admin:problem.invitesNotAllowed', { setting: value }),
        fix: steps(l, 'inviteSetting', 3, {}),
      };
    }
    case 'missingPermission': {
      const permission = detail && detail !== 'graph' ? detail : '';
      return {
        summary: l.t('admin:problem.missingPermission', { permission: permission || l.t('admin:problem.itNeeds') }),
        fix: steps(l, 'permission', 3, {
          permission: permission || l.t('admin:problem.theMissingPermission'),
          all: REQUIRED_PERMISSION_NAMES.join(', '),
        }),
      };
    }
    case 'groupNoOwners':
      return { summary: l.t('admin:problem.groupNoOwners', params), fix: steps(l, 'noOwners', 1, params) };
    case 'groupDynamic':
    case 'groupSynced':
    case 'groupMailEnabled':
    case 'groupRoleAssignable':
    case 'groupNotSecurity':
    case 'appNoUsableGroup':
      return { summary: l.t(`admin:problem.${problem.kind}`, params), fix: steps(l, 'createGroup', 4, params) };
    case 'botCannotReach': {
      const reason = ['permissionMissing', 'appNotInCatalog', 'blockedByPolicy'].includes(detail)
        ? detail
        : 'permissionMissing';
      const count = reason === 'blockedByPolicy' ? 2 : 3;
      return {
        summary: l.t(`reach:problem.${reason}`),
        fix: Array.from({ length: count }, (_, i) => l.t(`reach:fix.${reason}.s${i + 1}`)),
      };
    }
    default:
      return { summary: problem.summary, fix: problem.fix };
  }
}
