/** Admin commands (setup check, alerts, alert channel), the acknowledge action, and the welcome for admins. */
import { MessageFactory, TurnContext } from 'botbuilder';
import type { Logger } from '../logging';
import { ADMIN_ROLES, type AdminAlertService } from '../domain/adminAlerts';
import type { SetupCheckService } from '../domain/setupCheck';
import type { JsonObject } from '../store/store';
import type { Command } from './commands';
import { isRecord } from './cardPrompt';
import { actorFrom } from './identity';
import { alertListCard, setupReportCard } from './adminCards';

type AdminCommand = Extract<Command, { name: 'setupCheck' | 'alerts' | 'alertsHere' | 'alertsOff' | 'retryOperation' }>;

export function isAdminCommand(command: Command): command is AdminCommand {
  return ['setupCheck', 'alerts', 'alertsHere', 'alertsOff', 'retryOperation'].includes(command.name);
}

/** Reopens a failed operation and runs what is unfinished; returns what to tell the admin. */
export type RetryOperation = (operationId: string) => Promise<string>;

const forAdmins = `That is for admins: people with one of the roles ${Object.values(ADMIN_ROLES).join(', ')}, or listed by the bot's operator. Nothing was changed.`;

export class AdminCommands {
  constructor(
    private readonly alerts: AdminAlertService,
    private readonly setup: SetupCheckService,
    private readonly logger: Logger,
    private readonly retryOperation: RetryOperation,
  ) {}

  async run(context: TurnContext, command: AdminCommand): Promise<void> {
    const actor = actorFrom(context);
    if (!actor || !(await this.alerts.isAdmin(actor))) {
      if (actor) this.logger.warn('admin.refused', { actorId: actor.userId, command: command.name });
      await context.sendActivity(forAdmins);
      return;
    }
    switch (command.name) {
      case 'setupCheck': {
        await context.sendActivity({ type: 'typing' });
        const report = await this.setup.scan();
        await context.sendActivity(MessageFactory.attachment(setupReportCard(report, command.page)));
        return;
      }
      case 'alerts':
        await context.sendActivity(MessageFactory.attachment(alertListCard(await this.alerts.listOpen(actor.tenantId))));
        return;
      case 'retryOperation':
        this.logger.info('operation.retry.requested', { actorId: actor.userId, operationId: command.id });
        await context.sendActivity(await this.retryOperation(command.id));
        return;
      case 'alertsHere':
      case 'alertsOff': {
        const channelData = context.activity.channelData as { channel?: { id?: string } } | undefined;
        if (context.activity.conversation?.conversationType !== 'channel' || !channelData?.channel?.id) {
          await context.sendActivity('Type that in the team channel where alerts should go (mention me there).');
          return;
        }
        if (command.name === 'alertsOff') {
          await this.alerts.setChannel(actor.tenantId, null);
          await context.sendActivity('Alerts no longer go to this channel; they go to admins in their chat with me.');
          return;
        }
        const reference = TurnContext.getConversationReference(context.activity);
        const channel = { ...reference, conversation: { ...reference.conversation, id: channelData.channel.id } };
        delete (channel as { activityId?: string }).activityId;
        await this.alerts.setChannel(actor.tenantId, JSON.parse(JSON.stringify(channel)) as JsonObject);
        await context.sendActivity('Setup alerts will be posted in this channel. Type “alerts off” here to stop.');
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
      await context.sendActivity(forAdmins);
      return true;
    }
    if (typeof value.key !== 'string' || !/^[A-Za-z]+:[\w.-]{1,100}$/.test(value.key)) {
      await context.sendActivity('That card action is not one I know, so I did nothing.');
      return true;
    }
    const alert = await this.alerts.acknowledge(actor, value.key);
    await context.sendActivity(alert ? `Acknowledged: ${alert.summary}` : 'I found no such problem.');
    return true;
  }

  /** When an admin installs the bot: the current setup summary, and any alert that was waiting for an admin. */
  async welcome(context: TurnContext): Promise<void> {
    const actor = actorFrom(context);
    if (!actor || !(await this.alerts.isAdmin(actor).catch(() => false))) return;
    const report = await this.setup.scan();
    await context.sendActivity(MessageFactory.attachment(setupReportCard(report, 1)));
    const delivered = await this.alerts.deliverPending();
    if (delivered > 0) this.logger.info('alerts.pending.delivered', { delivered });
  }
}
