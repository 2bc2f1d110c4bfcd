/** Admin commands (setup check, alerts, alert channel), the acknowledge action, and the welcome for admins. */
import { MessageFactory, type TurnContext } from 'botbuilder';
import type { Logger } from '../../logging';
import type { AdminAlertService } from '../../domain/admin/alerts';
import { ADMIN_ROLES } from '../../domain/admin/roles';
import type { SetupCheckService } from '../../domain/admin/setupCheck';
import type { JsonObject, OperationStatus } from '../../store/store';
import type { Command } from '../commands';
import { isRecord } from '../cardPrompt';
import { actorFrom } from '../identity';
import { alertListCard, setupReportCard } from './cards';
import { loc, referenceWithAudience } from '../locale';
import type { Localizer } from '../../i18n';
import type { PrivacyActions } from '../privacy/actions';
import { problemText } from '../problemText';

type AdminCommandName = 'setupCheck' | 'alerts' | 'alertsHere' | 'alertsOff' | 'retryOperation' | 'erasePerson';
type AdminCommand = Extract<Command, { name: AdminCommandName }>;

export function isAdminCommand(command: Command): command is AdminCommand {
  return ['setupCheck', 'alerts', 'alertsHere', 'alertsOff', 'retryOperation', 'erasePerson'].includes(command.name);
}

/** What a retried operation came to: no such failed operation, done, or still not finished (with its status, a key). */
export type RetryResult =
  { kind: 'notFound' } | { kind: 'done' } | { kind: 'unfinished'; status: OperationStatus | 'unknown' };

/** Reopens a failed operation and runs what is unfinished. */
export type RetryOperation = (operationId: string) => Promise<RetryResult>;

/** The names of the admin roles in the reader's language (Microsoft's names for them), as "A, B or C". */
export function adminRoleNames(l: Localizer): string {
  return l.list(
    Object.values(ADMIN_ROLES).map((role) => l.t(`admin:role.${role}`)),
    'disjunction',
  );
}

function forAdmins(context: TurnContext): string {
  const l = loc(context);
  return l.t('admin:forAdmins', { roles: adminRoleNames(l) });
}

export class AdminCommands {
  constructor(
    private readonly alerts: AdminAlertService,
    private readonly setup: SetupCheckService,
    private readonly logger: Logger,
    private readonly retryOperation: RetryOperation,
    private readonly privacy?: PrivacyActions,
    /** Whether the Microsoft 365 group behind a team has guest members (GroupMember.Read.All, already granted). */
    private readonly groupHasGuests?: (groupId: string) => Promise<boolean>,
  ) {}

  /**
   * A team's members are its Microsoft 365 group's members: Teams names that group in `channelData.team.aadGroupId`.
   * Reading the group's guests needs no permission beyond GroupMember.Read.All; when it cannot be read (no group
   * id, a private or shared channel with its own members, or a failed read), the warning is given anyway.
   */
  private async guestsWarning(
    context: TurnContext,
  ): Promise<'security:alertsHereGuests' | 'security:alertsHereUnknown' | null> {
    const channelData = context.activity.channelData as
      { team?: { aadGroupId?: unknown }; channel?: { membershipType?: unknown } } | undefined;
    const groupId = channelData?.team?.aadGroupId;
    const standard =
      channelData?.channel?.membershipType === undefined || channelData.channel.membershipType === 'standard';
    if (!this.groupHasGuests || typeof groupId !== 'string' || !/^[0-9a-f-]{36}$/i.test(groupId) || !standard)
      return 'security:alertsHereUnknown';
    try {
      return (await this.groupHasGuests(groupId)) ? 'security:alertsHereGuests' : null;
    } catch (err) {
      this.logger.warn('alerts.channel.guests.unreadable', { error: err });
      return 'security:alertsHereUnknown';
    }
  }

  async run(context: TurnContext, command: AdminCommand): Promise<void> {
    const actor = actorFrom(context);
    const l = loc(context);
    if (!actor || !(await this.alerts.isAdmin(actor))) {
      if (actor) this.logger.warn('admin.refused', { actorId: actor.userId, command: command.name });
      await context.sendActivity(forAdmins(context));
      return;
    }
    switch (command.name) {
      case 'setupCheck': {
        await context.sendActivity({ type: 'typing' });
        const report = await this.setup.scan(actor.tenantId);
        await context.sendActivity(MessageFactory.attachment(setupReportCard(l, report, command.page)));
        return;
      }
      case 'erasePerson':
        if (this.privacy) await this.privacy.command(context, command.target);
        return;
      case 'alerts':
        await context.sendActivity(
          MessageFactory.attachment(alertListCard(l, await this.alerts.listOpen(actor.tenantId))),
        );
        return;
      case 'retryOperation': {
        this.logger.info('operation.retry.requested', { actorId: actor.userId, operationId: command.id });
        const result = await this.retryOperation(command.id);
        await context.sendActivity(
          l.t(`admin:retry.${result.kind}`, {
            id: command.id,
            status: result.kind === 'unfinished' ? result.status : '',
          }),
        );
        return;
      }
      case 'alertsHere':
      case 'alertsOff':
        await this.alertChannel(context, l, actor.tenantId, command.name);
        return;
    }
  }

  /** `alerts here` / `alerts off`: this channel gets the tenant's alerts, or no channel does. */
  private async alertChannel(
    context: TurnContext,
    l: Localizer,
    tenantId: string,
    name: 'alertsHere' | 'alertsOff',
  ): Promise<void> {
    const channelData = context.activity.channelData as { channel?: { id?: string } } | undefined;
    if (context.activity.conversation?.conversationType !== 'channel' || !channelData?.channel?.id) {
      await context.sendActivity(l.t('admin:channel.notChannel'));
      return;
    }
    if (name === 'alertsOff') {
      await this.alerts.setChannel(tenantId, null);
      await context.sendActivity(l.t('admin:channel.off'));
      return;
    }
    // The channel's alerts are written in the language of the admin who chose the channel.
    const reference = referenceWithAudience(context.activity);
    const channel = {
      ...reference,
      conversation: { ...(reference.conversation as object), id: channelData.channel.id },
    };
    await this.alerts.setChannel(tenantId, JSON.parse(JSON.stringify(channel)) as JsonObject);
    await context.sendActivity(l.t('admin:channel.here'));
    const warning = await this.guestsWarning(context);
    if (warning) await context.sendActivity(l.t(warning));
    await this.alerts.deliverPending();
  }

  /** Action.Submit { verb: 'alert.ack', key }: false when the activity is not that. */
  async submit(context: TurnContext): Promise<boolean> {
    if (this.privacy && (await this.privacy.submit(context))) return true;
    const value: unknown = context.activity.value;
    if (!isRecord(value) || value.verb !== 'alert.ack') return false;
    const actor = actorFrom(context);
    if (!actor || !(await this.alerts.isAdmin(actor))) {
      if (actor) this.logger.warn('admin.refused', { actorId: actor.userId, command: 'alert.ack' });
      await context.sendActivity(forAdmins(context));
      return true;
    }
    if (typeof value.key !== 'string' || !/^[A-Za-z]+:[\w.-]{1,100}$/.test(value.key)) {
      await context.sendActivity(loc(context).t('requests:action.unknown'));
      return true;
    }
    const alert = await this.alerts.acknowledge(actor, value.key);
    const l = loc(context);
    await context.sendActivity(
      alert ? l.t('admin:acknowledged', { summary: problemText(l, alert).summary }) : l.t('admin:noSuchProblem'),
    );
    return true;
  }

  /**
   * When an admin installs the bot: the current setup report, and any waiting alert the report does not show (the
   * problems it lists count as told, so they do not follow as separate cards).
   */
  async welcome(context: TurnContext): Promise<void> {
    const actor = actorFrom(context);
    if (!actor || !(await this.alerts.isAdmin(actor).catch(() => false))) return;
    const report = await this.setup.scan(actor.tenantId);
    await context.sendActivity(MessageFactory.attachment(setupReportCard(loc(context), report, 1)));
    const told = await this.alerts.toldByReport(actor.tenantId, report.problems);
    if (told > 0) this.logger.info('alerts.told.byReport', { told });
    const delivered = await this.alerts.deliverPending();
    if (delivered > 0) this.logger.info('alerts.pending.delivered', { delivered });
  }
}
