/**
 * The Bot Connector calls the outbox makes (send into a conversation, update a card there), each a single HTTP
 * attempt (the SDK's own retries are off, see ../adapter.ts), and what a failure says: status, Bot Framework error
 * code and Retry-After.
 */
import {
  MessageFactory,
  type Attachment,
  type CloudAdapter,
  type ConversationReference,
  type TurnContext,
} from 'botbuilder';
import { isRecord } from '../cardPrompt';

export type Content = Attachment | string;

export interface ConnectorCalls {
  /** Posts into the conversation; returns the new activity's id (undefined when Teams returned none). */
  send(reference: Partial<ConversationReference>, content: Content): Promise<string | undefined>;
  /** Replaces an activity (a card) in the conversation. */
  update(reference: Partial<ConversationReference>, activityId: string, card: Attachment): Promise<void>;
}

/** What a failed call said. */
export interface CallFailure {
  status: number | undefined;
  /** The Bot Framework error code of the body (e.g. Throttled, ConversationBlockedByUser). */
  code: string | undefined;
  /** A 429's or 503's Retry-After, in ms. */
  retryAfterMs: number | undefined;
  message: string;
}

function header(err: Record<string, unknown>, name: string): string | undefined {
  const response = err.response;
  if (!isRecord(response)) return undefined;
  const headers = response.headers;
  if (isRecord(headers) && typeof headers.get === 'function') {
    const value: unknown = (headers.get as (n: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  if (isRecord(headers) && typeof headers[name] === 'string') return headers[name] as string;
  return undefined;
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); retry-after-ms is Azure's form in ms. */
export function retryAfterMs(err: Record<string, unknown>, now: number = Date.now()): number | undefined {
  const ms = Number(header(err, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header(err, 'retry-after-ms') !== undefined) return ms;
  const value = header(err, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function bodyCode(err: Record<string, unknown>): string | undefined {
  if (typeof err.code === 'string' && !/^[A-Z_]+$/.test(err.code)) return err.code;
  const response = err.response;
  const text = isRecord(response)
    ? (response.bodyAsText ?? (isRecord(response.parsedBody) ? JSON.stringify(response.parsedBody) : undefined))
    : undefined;
  if (typeof text !== 'string') return typeof err.code === 'string' ? err.code : undefined;
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && isRecord(body.error) && typeof body.error.code === 'string') return body.error.code;
    if (isRecord(body) && typeof body.message === 'string' && body.message.includes('MessageWritesBlocked'))
      return 'MessageWritesBlocked';
  } catch {
    // not JSON: no code
  }
  return typeof err.code === 'string' ? err.code : undefined;
}

export function failureOf(err: unknown): CallFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (!isRecord(err)) return { status: undefined, code: undefined, retryAfterMs: undefined, message };
  const status =
    typeof err.statusCode === 'number' ? err.statusCode : typeof err.status === 'number' ? err.status : undefined;
  return { status, code: bodyCode(err), retryAfterMs: retryAfterMs(err), message };
}

/** The calls through the CloudAdapter (a proactive turn each). */
export class AdapterCalls implements ConnectorCalls {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
  ) {}

  /**
   * Runs `logic` in the conversation. The adapter hands an error thrown inside a proactive turn to its turn error
   * handler (which would apologise into that chat) and then resolves; so the error is caught here and rethrown.
   */
  private async within(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    let failure: { error: unknown } | undefined;
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      try {
        await logic(context);
      } catch (error) {
        failure = { error };
      }
    });
    if (failure) throw failure.error;
  }

  async send(reference: Partial<ConversationReference>, content: Content): Promise<string | undefined> {
    let id: string | undefined;
    await this.within(reference, async (context) => {
      id = (await context.sendActivity(typeof content === 'string' ? content : MessageFactory.attachment(content)))?.id;
    });
    return id;
  }

  async update(reference: Partial<ConversationReference>, activityId: string, card: Attachment): Promise<void> {
    await this.within(reference, async (context) => {
      await context.updateActivity({ type: 'message', id: activityId, attachments: [card] });
    });
  }
}
