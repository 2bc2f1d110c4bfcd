/** The audit log's fields that name who acted: the actor's tenant, object id and display name. */
import type { Actor } from './model';

export function auditActor(actor: Actor): { tenantId: string; actorId: string; actorName: string } {
  return { tenantId: actor.tenantId, actorId: actor.userId, actorName: actor.displayName };
}
