/** Cards for admins: the setup report (paged to stay well under Teams' message size limit), alerts and their list. */
import { CardFactory, type Attachment } from 'botbuilder';
import type { AlertEvent } from '../domain/adminAlerts';
import type { AppHealth, SetupProblem, SetupReport } from '../domain/setupCheck';
import type { AlertRecord } from '../store/store';
import { renderCardJson, type CardData } from './cards';

type Section = CardData['report']['sections'][number];

/** Apps per page of the setup report. */
export const APPS_PER_PAGE = 10;

const noAction = { actionTitle: '', actionVerb: '', actionKey: '' };

function problemLines(problem: SetupProblem): string[] {
  return [problem.summary, ...problem.fix.map((step, i) => `${i + 1}. ${step}`)];
}

function appSection(app: AppHealth): Section {
  const groups = app.groups.map((g) => {
    const traits = [
      g.securityEnabled ? 'security group' : 'not a security group',
      `${g.membership} membership`,
      g.synced ? 'synced from on-premises' : 'cloud',
      g.mailEnabled ? 'mail-enabled' : 'not mail-enabled',
      ...(g.roleAssignable ? ['role-assignable'] : []),
      g.synced || g.mailEnabled ? 'owners not listed by Microsoft Graph' : `${g.ownerCount} owner${g.ownerCount === 1 ? '' : 's'}`,
      'assigned to the app',
    ];
    return `Group ${g.displayName}: ${traits.join(', ')}.`;
  });
  // Problems of one app often share the same fix: each step is shown once per app.
  const shown = new Set<string>();
  const problems = app.problems.flatMap((problem) => {
    const steps = problem.fix.filter((step) => !shown.has(step));
    steps.forEach((step) => shown.add(step));
    return [problem.summary, ...steps.map((step) => `${problem.fix.indexOf(step) + 1}. ${step}`)];
  });
  return {
    heading: app.problems.length > 0 ? `${app.displayName}: ${app.problems.length} problem${app.problems.length === 1 ? '' : 's'}` : `${app.displayName}: ready`,
    color: app.problems.length > 0 ? 'Attention' : 'Good',
    lines: [...groups, ...problems],
    ...noAction,
  };
}

export function reportPages(report: SetupReport): number {
  return Math.max(1, Math.ceil(report.apps.length / APPS_PER_PAGE));
}

/** One page of the setup report: summary counts and the tenant first, problems before healthy apps. */
export function setupReportCard(report: SetupReport, page: number): Attachment {
  const pages = reportPages(report);
  const current = Math.min(Math.max(1, page), pages);
  const apps = report.apps.slice((current - 1) * APPS_PER_PAGE, current * APPS_PER_PAGE);
  const invites =
    report.tenant.invitesAllowed === null
      ? 'unknown (the policy could not be read)'
      : report.tenant.invitesAllowed
        ? `allowed for the bot (allowInvitesFrom = ${report.tenant.allowInvitesFrom})`
        : `NOT allowed for the bot (allowInvitesFrom = ${report.tenant.allowInvitesFrom})`;
  const sections: Section[] = [];
  if (current === 1) {
    sections.push(
      ...report.tenant.problems.map((p) => ({ heading: 'Tenant', color: 'Attention' as const, lines: problemLines(p), ...noAction })),
    );
  }
  sections.push(...apps.map(appSection));
  return CardFactory.adaptiveCard(
    renderCardJson('report', {
      title: report.counts.problems === 0 ? 'Setup check: everything is ready' : `Setup check: ${report.counts.problems} problem${report.counts.problems === 1 ? '' : 's'} to fix`,
      color: report.counts.problems === 0 ? 'Good' : 'Attention',
      subtitle: `Checked ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC · page ${current} of ${pages}`,
      facts: [
        { label: 'Apps with groups assigned', value: String(report.counts.apps) },
        { label: 'Ready for self-service', value: String(report.counts.healthyApps) },
        { label: 'With problems', value: String(report.counts.appsWithProblems) },
        { label: 'Guest invitations', value: invites },
        { label: 'Guest sponsors', value: report.sponsors },
      ],
      sections,
      note: current < pages ? `More: type “setup check page ${current + 1}”.` : '',
      actions: [],
    }),
  );
}

function blockedLine(alert: AlertRecord): string | null {
  const b = alert.lastBlocked;
  if (!b) return null;
  return `Last blocked: ${String(b.name ?? 'someone')} while ${String(b.doing ?? 'using the bot')} (${String(b.at ?? '').slice(0, 16).replace('T', ' ')} UTC).`;
}

/** A proactive alert: what is wrong (or fixed), who was blocked, how often, and the steps that fix it. */
export function alertCard(alert: AlertRecord, event: AlertEvent): Attachment {
  const fixed = event === 'fixed';
  const lines = fixed ? [alert.summary] : [alert.summary, ...alert.fix.map((step, i) => `${i + 1}. ${step}`)];
  const blocked = blockedLine(alert);
  return CardFactory.adaptiveCard(
    renderCardJson('report', {
      title: fixed ? 'Setup problem fixed' : 'Setup problem',
      color: fixed ? 'Good' : 'Attention',
      subtitle: fixed ? 'A scan no longer finds this problem.' : 'App owners or requesters are blocked until an admin fixes this.',
      facts: [
        ...(alert.appName ? [{ label: 'App', value: alert.appName }] : []),
        ...(alert.groupName ? [{ label: 'Group', value: alert.groupName }] : []),
        { label: 'Seen', value: `${alert.count} time${alert.count === 1 ? '' : 's'} since ${alert.firstSeen.slice(0, 10)}${alert.countSinceAlert > 1 && !fixed ? ` (${alert.countSinceAlert} since the last alert)` : ''}` },
        ...(blocked && !fixed ? [{ label: 'Who', value: blocked }] : []),
      ],
      sections: [{ heading: fixed ? 'Fixed' : 'How to fix it', color: fixed ? 'Good' : 'Attention', lines, ...noAction }],
      note: fixed ? '' : 'Type “alerts” for all open problems, “setup check” for the full report.',
      actions: fixed ? [] : [{ title: 'Acknowledge', verb: 'alert.ack', key: alert.key }],
    }),
  );
}

export function alertListCard(alerts: AlertRecord[]): Attachment {
  return CardFactory.adaptiveCard(
    renderCardJson('report', {
      title: alerts.length === 0 ? 'No open setup problems' : `${alerts.length} open setup problem${alerts.length === 1 ? '' : 's'}`,
      color: alerts.length === 0 ? 'Good' : 'Attention',
      subtitle: '',
      facts: [],
      sections: alerts.slice(0, 30).map((a) => ({
        heading: `${a.state === 'acknowledged' ? '(acknowledged) ' : ''}${a.summary}`,
        color: a.state === 'acknowledged' ? 'Default' : 'Attention',
        lines: [`Seen ${a.count} time${a.count === 1 ? '' : 's'}, last ${a.lastSeen.slice(0, 16).replace('T', ' ')} UTC.`, ...(blockedLine(a) ? [blockedLine(a)!] : [])],
        ...(a.state === 'open' ? { actionTitle: 'Acknowledge', actionVerb: 'alert.ack', actionKey: a.key } : noAction),
      })),
      note: alerts.length > 30 ? `Showing 30 of ${alerts.length}.` : '',
      actions: [],
    }),
  );
}
