import type { TurnContext } from 'botbuilder';
import type { Actor } from '../domain/shared/model';

/** The Microsoft Entra user behind an activity, or null when the channel did not say (not Teams). */
export function actorFrom(context: TurnContext): Actor | null {
  const activity = context.activity;
  const userId = activity.from?.aadObjectId;
  const channelData = activity.channelData as { tenant?: { id?: string } } | undefined;
  const tenantId = activity.conversation?.tenantId ?? channelData?.tenant?.id;
  if (!userId || !tenantId) return null;
  return { tenantId, userId, displayName: activity.from.name ?? '' };
}
