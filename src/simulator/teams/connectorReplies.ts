/**
 * The Bot Connector's answers as real Teams words them (proactive-delivery.md §3, §5 and §7): successes, errors and
 * the refusals of a bot that may not write into a conversation.
 */
import type { ConnectorSettings } from './connector';

export interface ConnectorResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

export function connectorError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): ConnectorResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: { error: { code, message } } };
}

export function ok(status: number, body?: unknown): ConnectorResponse {
  return { status, headers: body === undefined ? {} : JSON_HEADERS, body };
}

export const refusals = {
  notInstalled: (code: ConnectorSettings['notInstalledCode']): ConnectorResponse =>
    connectorError(
      403,
      code,
      code === 'BadArgument'
        ? "Bot is not installed in user's personal scope"
        : "Bot isn't installed in user's personal scope",
    ),
  notInRoster: (): ConnectorResponse =>
    connectorError(403, 'BotNotInConversationRoster', 'The bot is not part of the conversation roster.'),
  blocked: (): ConnectorResponse =>
    connectorError(403, 'ConversationBlockedByUser', 'User blocked the conversation with the bot.'),
  disabled: (): ConnectorResponse => connectorError(403, 'BotDisabledByAdmin', 'The tenant admin disabled this bot'),
  conversationNotFound: (): ConnectorResponse => connectorError(404, 'ConversationNotFound', 'Conversation not found.'),
  activityNotFound: (): ConnectorResponse =>
    connectorError(404, 'ActivityNotFoundInConversation', 'Message does not exist in the thread.'),
  deletedActivity: (): ConnectorResponse => connectorError(403, 'ServiceError', 'Unknown'),
  tooLarge: (): ConnectorResponse => connectorError(413, 'MessageSizeTooBig', 'Message size too big.'),
  /** The code is documented; the message wording is an assumption. */
  invalidHost: (): ConnectorResponse =>
    connectorError(403, 'InvalidBotApiHost', 'Invalid bot API host for this tenant.'),
  /** [PROACT]: blocked or uninstalled, `errorCode` 209 with the subCode inside the message string. */
  writesBlocked: (): ConnectorResponse => ({
    status: 403,
    headers: JSON_HEADERS,
    body: {
      errorCode: 209,
      message: JSON.stringify({
        subCode: 'MessageWritesBlocked',
        details: 'Thread is blocked from message writes.',
        errorCode: null,
        errorSubCode: null,
      }),
    },
  }),
};
