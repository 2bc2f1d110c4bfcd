/** Cards for admins: the setup report (paged to stay well under Teams' message size limit), alerts and their list. */
import { CardFactory, type Attachment } from 'botbuilder';
import type { AlertNotice } from '../../domain/admin/alerts';
import type { AppHealth, SetupReport } from '../../domain/admin/setupCheck';
import type { AlertRecord } from '../../store/store';
import type { Localizer } from '../../i18n';
import { renderCardJson, type CardData } from '../cards';
import { problemText, type ProblemLike } from '../problemText';
import { isMsg } from '../../domain/shared/message';

type Section = CardData['report']['sections'][number];

/** Apps per page of the setup report. */
export const APPS_PER_PAGE = 10;

const noAction = { actionTitle: '', actionVerb: '', actionKey: '' };

function problemLines(l: Localizer, problem: ProblemLike, setting?: string | null): string[] {
  const { summary, fix } = problemText(l, problem, setting);
  return [summary, ...fix.map((step, i) => `${i + 1}. ${step}`)];
}

function appSection(l: Localizer, app: AppHealth): Section {
  const groups = app.groups.map((g) => {
    const traits = [
      l.t(g.securityEnabled ? 'admin:trait.security' : 'admin:trait.notSecurity'),
      l.t('admin:trait.membership', { membership: g.membership }),
      l.t(g.synced ? 'admin:trait.synced' : 'admin:trait.cloud'),
      l.t(g.mailEnabled ? 'admin:trait.mailEnabled' : 'admin:trait.notMailEnabled'),
      ...(g.roleAssignable ? [l.t('admin:trait.roleAssignable')] : []),
      g.synced || g.mailEnabled
        ? l.t('admin:trait.ownersUnlisted')
        : l.t('admin:trait.owners', { count: g.ownerCount }),
      l.t('admin:trait.assigned'),
    ];
    return l.t('admin:report.groupLine', { group: g.displayName, traits: traits.join(', ') });
  });
  // Problems of one app often share the same fix: each step is shown once per app.
  const shown = new Set<string>();
  const problems = app.problems.flatMap((problem) => {
    const { summary, fix } = problemText(l, problem);
    const steps = fix.filter((step) => !shown.has(step));
    steps.forEach((step) => shown.add(step));
    return [summary, ...steps.map((step) => `${fix.indexOf(step) + 1}. ${step}`)];
  });
  return {
    heading: l.t('admin:report.appHeading', { app: app.displayName, count: app.problems.length }),
    color: app.problems.length > 0 ? 'Attention' : 'Good',
    lines: [...groups, ...problems],
    ...noAction,
  };
}

export function reportPages(report: SetupReport): number {
  return Math.max(1, Math.ceil(report.apps.length / APPS_PER_PAGE));
}

/** One page of the setup report: summary counts and the tenant first, problems before healthy apps. */
export function setupReportCard(l: Localizer, report: SetupReport, page: number): Attachment {
  const pages = reportPages(report);
  const current = Math.min(Math.max(1, page), pages);
  const apps = report.apps.slice((current - 1) * APPS_PER_PAGE, current * APPS_PER_PAGE);
  const invites = l.t('admin:report.invites', {
    state: report.tenant.invitesAllowed === null ? 'unknown' : report.tenant.invitesAllowed ? 'allowed' : 'refused',
    setting: String(report.tenant.allowInvitesFrom ?? ''),
  });
  const sections: Section[] = [];
  if (current === 1) {
    sections.push(
      ...report.tenant.problems.map((p) => ({
        heading: l.t('admin:report.tenant'),
        color: 'Attention' as const,
        lines: problemLines(l, p, report.tenant.allowInvitesFrom),
        ...noAction,
      })),
    );
  }
  sections.push(...apps.map((app) => appSection(l, app)));
  return CardFactory.adaptiveCard(
    renderCardJson(
      'report',
      {
        title: l.t('admin:report.title', { count: report.counts.problems }),
        color: report.counts.problems === 0 ? 'Good' : 'Attention',
        subtitle: l.t('admin:report.subtitle', { at: l.dateTime(report.generatedAt), page: current, pages }),
        facts: [
          { label: l.t('admin:report.apps'), value: String(report.counts.apps) },
          { label: l.t('admin:report.healthy'), value: String(report.counts.healthyApps) },
          { label: l.t('admin:report.withProblems'), value: String(report.counts.appsWithProblems) },
          { label: l.t('admin:report.invitations'), value: invites },
          { label: l.t('guests:sponsors.label'), value: l.msg(report.sponsors) },
          { label: l.t('reach:report.label'), value: l.msg(report.teamsInstall) },
        ],
        sections,
        note: current < pages ? l.t('admin:report.more', { page: current + 1 }) : '',
        actions: [],
      },
      l,
    ),
  );
}

/** The last person blocked, what they were doing ("sharing Contoso Wiki with a guest") and when (ISO time, or null). */
function lastBlocked(l: Localizer, alert: AlertRecord): { name: string; doing: string; at: string | null } | null {
  const b = alert.lastBlocked;
  if (!b) return null;
  // `doing` is a message (key and parameters); alerts kept before it was are plain text.
  const doing = isMsg(b.doing)
    ? l.msg(b.doing)
    : typeof b.doing === 'string' && b.doing
      ? b.doing
      : l.t('admin:alert.usingTheBot');
  return {
    name: typeof b.name === 'string' && b.name ? b.name : l.t('admin:alert.someone'),
    doing,
    at: typeof b.at === 'string' && b.at ? b.at : null,
  };
}

/** "Blocked 3 times; last: Adele Vance while sharing Contoso Wiki with a guest, 2 minutes ago." */
export function blockedSentence(l: Localizer, notice: AlertNotice): string | null {
  const last = lastBlocked(l, notice.alert);
  if (notice.blocks === 0 || !last) return null;
  const params = { count: notice.blocks, name: last.name, doing: last.doing };
  return last.at
    ? l.t('admin:alert.blocked', { ...params, when: l.relative(last.at, new Date(notice.at)) })
    : l.t('admin:alert.blockedUndated', params);
}

/** A proactive alert: what is wrong (or fixed), who was blocked, how often, and the steps that fix it. */
export function alertCard(l: Localizer, notice: AlertNotice): Attachment {
  const { alert } = notice;
  const fixed = notice.event === 'fixed';
  const acknowledged = !fixed && alert.state === 'acknowledged';
  const lines = fixed ? [problemText(l, alert).summary] : problemLines(l, alert);
  const subtitle = fixed
    ? l.t('admin:alert.fixedSubtitle', { blocks: notice.blocks })
    : (blockedSentence(l, notice) ?? l.t('admin:alert.subtitle'));
  return CardFactory.adaptiveCard(
    renderCardJson(
      'report',
      {
        title: l.t(fixed ? 'admin:alert.fixedTitle' : 'admin:alert.title'),
        color: fixed ? 'Good' : 'Attention',
        subtitle,
        facts: [
          ...(alert.appName ? [{ label: l.t('common:fact.app'), value: alert.appName }] : []),
          ...(alert.groupName ? [{ label: l.t('common:fact.group'), value: alert.groupName }] : []),
          {
            label: l.t('admin:alert.seenLabel'),
            value: l.t('admin:alert.seen', { count: alert.count, since: l.date(alert.firstSeen) }),
          },
          ...(acknowledged
            ? [{ label: l.t('admin:alert.acknowledgedBy'), value: alert.acknowledgedBy ?? l.t('admin:alert.anAdmin') }]
            : []),
        ],
        sections: [
          {
            heading: l.t(fixed ? 'admin:alert.fixed' : 'admin:alert.howToFix'),
            color: fixed ? 'Good' : 'Attention',
            lines,
            ...noAction,
          },
        ],
        note: fixed ? '' : l.t('admin:alert.note'),
        actions:
          fixed || acknowledged ? [] : [{ title: l.t('admin:alert.acknowledge'), verb: 'alert.ack', key: alert.key }],
      },
      l,
    ),
  );
}

/** "Last blocked: Adele Vance while sharing Contoso Wiki with a guest (2 Dec 2026, 14:05)." */
function lastBlockedLine(l: Localizer, alert: AlertRecord): string[] {
  const last = lastBlocked(l, alert);
  return last
    ? [l.t('admin:alert.lastBlocked', { name: last.name, doing: last.doing, at: last.at ? l.dateTime(last.at) : '' })]
    : [];
}

export function alertListCard(l: Localizer, alerts: AlertRecord[], now: Date = new Date()): Attachment {
  return CardFactory.adaptiveCard(
    renderCardJson(
      'report',
      {
        title: l.t('admin:alerts.title', { count: alerts.length }),
        color: alerts.length === 0 ? 'Good' : 'Attention',
        subtitle: '',
        facts: [],
        sections: alerts.slice(0, 30).map((a) => {
          const { summary } = problemText(l, a);
          return {
            heading: a.state === 'acknowledged' ? l.t('admin:alerts.acknowledged', { summary }) : summary,
            color: a.state === 'acknowledged' ? 'Default' : 'Attention',
            lines: [
              l.t('admin:alerts.seen', {
                count: a.count,
                last: l.relative(a.lastSeen, now),
                at: l.dateTime(a.lastSeen),
              }),
              ...lastBlockedLine(l, a),
            ],
            ...(a.state === 'open'
              ? { actionTitle: l.t('admin:alert.acknowledge'), actionVerb: 'alert.ack', actionKey: a.key }
              : noAction),
          };
        }),
        note: alerts.length > 30 ? l.t('admin:alerts.showing', { shown: 30, total: alerts.length }) : '',
        actions: [],
      },
      l,
    ),
  );
}
