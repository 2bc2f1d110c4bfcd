/** Admin commands (setup check, alerts, alert channel), the acknowledge action, and the welcome for admins. */
import { MessageFactory, type TurnContext } from 'botbuilder';
import type { Logger } from '../logging';
import { ADMIN_ROLES, type AdminAlertService } from '../domain/adminAlerts';
import type { SetupCheckService } from '../domain/setupCheck';
import type { JsonObject } from '../store/store';
import type { Command } from './commands';
import { isRecord } from './cardPrompt';
import { actorFrom } from './identity';
import { alertListCard, setupReportCard } from './adminCards';
import { loc, referenceWithAudience } from './locale';
import { problemText } from './problemText';

type AdminCommand = Extract<Command, { name: 'setupCheck' | 'alerts' | 'alertsHere' | 'alertsOff' | 'retryOperation' }>;

export function isAdminCommand(command: Command): command is AdminCommand {
  return ['setupCheck', 'alerts', 'alertsHere', 'alertsOff', 'retryOperation'].includes(command.name);
}

/** What a retried operation came to: no such failed operation, done, or still not finished (with its status). */
export type RetryResult = { kind: 'notFound' } | { kind: 'done' } | { kind: 'unfinished'; status: string };

/** Reopens a failed operation and runs what is unfinished. */
export type RetryOperation = (operationId: string) => Promise<RetryResult>;

function forAdmins(context: TurnContext): string {
  return loc(context).t('admin:forAdmins', { roles: Object.values(ADMIN_ROLES).join(', ') });
}

export class AdminCommands {
  constructor(
    private readonly alerts: AdminAlertService,
    private readonly setup: SetupCheckService,
    private readonly logger: Logger,
    private readonly retryOperation: RetryOperation,
  ) {}

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
      case 'alerts':
        await context.sendActivity(MessageFactory.attachment(alertListCard(l, await this.alerts.listOpen(actor.tenantId))));
        return;
      case 'retryOperation':
        this.logger.info('operation.retry.requested', { actorId: actor.userId, operationId: command.id });
        const result = await this.retryOperation(command.id);
        await context.sendActivity(l.t(`admin:retry.${result.kind}`, { id: command.id, status: result.kind === 'unfinished' ? result.status : '' }));
        return;
      case 'alertsHere':
      case 'alertsOff': {
        const channelData = context.activity.channelData as { channel?: { id?: string } } | undefined;
        if (context.activity.conversation?.conversationType !== 'channel' || !channelData?.channel?.id) {
          await context.sendActivity(l.t('admin:channel.notChannel'));
          return;
        }
        if (command.name === 'alertsOff') {
          await this.alerts.setChannel(actor.tenantId, null);
          await context.sendActivity(l.t('admin:channel.off'));
          return;
        }
        // The channel's alerts are written in the language of the admin who chose the channel.
        const reference = referenceWithAudience(context.activity);
        const channel = { ...reference, conversation: { ...(reference.conversation as object), id: channelData.channel.id } };
        await this.alerts.setChannel(actor.tenantId, JSON.parse(JSON.stringify(channel)) as JsonObject);
        await context.sendActivity(l.t('admin:channel.here'));
        await this.alerts.deliverPending();
        return;
      }
    }
  }

  /** Action.Submit { verb: 'alert.ack', key }: false when the activity is not that. */
  async submit(context: TurnContext): Promise<boolean> {
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
    await context.sendActivity(alert ? l.t('admin:acknowledged', { summary: problemText(l, alert).summary }) : l.t('admin:noSuchProblem'));
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
