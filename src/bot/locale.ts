/** The language and time zone of a turn: the activity's locale and Teams' `localTimezone` (also in clientInfo). */
import { TurnContext, type Activity } from 'botbuilder';
import { localizer, type Audience, type Localizer } from '../i18n';

/** The activity's own value when it is a non-empty string, else Teams' clientInfo entity's, else null. */
function fromActivity(own: unknown, clientInfo: unknown): string | null {
  if (typeof own === 'string' && own) return own;
  return typeof clientInfo === 'string' ? clientInfo : null;
}

export function audienceOf(activity: Partial<Activity>): Audience {
  const clientInfo = (activity.entities ?? []).find((e) => e.type === 'clientInfo') as
    { locale?: unknown; timezone?: unknown } | undefined;
  return {
    locale: fromActivity(activity.locale, clientInfo?.locale),
    timeZone: fromActivity(activity.localTimezone, clientInfo?.timezone),
  };
}

/** The localizer for whoever sent this turn's activity. */
export function loc(context: TurnContext): Localizer {
  return localizer(audienceOf(context.activity));
}

/**
 * The conversation reference kept for proactive messages, with the sender's locale (already part of a reference)
 * and time zone (`localTimezone`, added here), so that later messages to them use their language and clock.
 */
export function referenceWithAudience(activity: Partial<Activity>): Record<string, unknown> {
  const { activityId: _perActivity, ...reference } = TurnContext.getConversationReference(activity);
  const audience = audienceOf(activity);
  return JSON.parse(
    JSON.stringify({
      ...reference,
      locale: audience.locale ?? undefined,
      localTimezone: audience.timeZone ?? undefined,
    }),
  ) as Record<string, unknown>;
}

/** The audience of a stored reference (or of a card location `{ reference, activityId }`). */
export function audienceOfReference(value: unknown): Audience {
  if (typeof value !== 'object' || value === null) return {};
  const record = value as Record<string, unknown>;
  if (typeof record.reference === 'object' && record.reference !== null && !('conversation' in record))
    return audienceOfReference(record.reference);
  return {
    locale: typeof record.locale === 'string' ? record.locale : null,
    timeZone: typeof record.localTimezone === 'string' ? record.localTimezone : null,
  };
}

/** The localizer for the person a stored reference (or card location) leads to. */
export function locFor(reference: unknown): Localizer {
  return localizer(audienceOfReference(reference));
}
