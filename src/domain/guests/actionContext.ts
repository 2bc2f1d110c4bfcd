/**
 * What the owners' actions on a guest (resend, remove) share: the retry policy, the audit log, compare-and-set on
 * a guest record, and the check made at the moment of acting: the actor owns the group now (plain
 * `GET /groups/{id}/owners`, not the catalog) and the guest is still a member of it (checkMemberGroups).
 */
import type { Directory } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { AuditEntry, GuestKey, GuestRecord, GuestRecordPatch, Store } from '../../store/store';
import { msg, type Msg } from '../shared/message';
import type { Actor } from '../shared/model';
import { retryTransient, type RetryPolicy } from '../shared/retry';
import { retryOnConflict } from '../shared/retryOnConflict';

export type GuestActionOutcome = { kind: 'done' | 'refused' | 'failed' | 'inProgress'; message: Msg };

export type GuestAudit = Omit<AuditEntry, 'time' | 'tenantId'>;

export interface GuestActionDeps {
  directory: Directory;
  store: Store;
  logger: Logger;
}

export class GuestActionContext {
  constructor(
    readonly deps: GuestActionDeps,
    readonly clock: () => Date,
    readonly policy: () => RetryPolicy,
  ) {}

  audit(tenantId: string, entry: GuestAudit): Promise<number> {
    return this.deps.store.audit.append({ time: this.clock().toISOString(), tenantId, ...entry });
  }

  /** Compare-and-set on a record, read again on a conflict; gives up quietly (null) after the helper's limit. */
  patchRecord(key: GuestKey, patch: GuestRecordPatch, when?: (r: GuestRecord) => boolean): Promise<GuestRecord | null> {
    return retryOnConflict(
      async () => {
        const current = await this.deps.store.guests.get(key);
        if (!current || (when && !when(current))) return null;
        return this.deps.store.guests.update(current, current.version, patch, this.clock());
      },
      { onGiveUp: () => null },
    );
  }

  /** The group's owners now (plain read, not the catalog). */
  ownersNow(groupId: string): Promise<Array<{ id: string; displayName: string }>> {
    return retryTransient(() => this.deps.directory.listGroupOwners(groupId), this.policy());
  }

  /**
   * Is the actor an owner of the group now (plain owners read) and the guest still a member of it
   * (checkMemberGroups)? A refusal is audited as a forged or stale card action.
   */
  async authorize(
    actor: Actor,
    groupId: string,
    guestId: string,
    action: string,
    activityId?: string,
  ): Promise<{ ok: true } | { ok: false; message: Msg }> {
    const owners = await this.ownersNow(groupId);
    const base = { actorId: actor.userId, actorName: actor.displayName, groupId, guestId, activityId };
    const record = await this.deps.store.guests.get({ tenantId: actor.tenantId, groupId, guestId });
    const groupName = record?.groupName ?? msg('guests:someGroup');
    if (!owners.some((o) => o.id === actor.userId)) {
      await this.audit(actor.tenantId, {
        ...base,
        action: `${action}.forged`,
        outcome: 'notOwner',
        detail: 'card action by someone who does not own the group (forged or stale card)',
      });
      this.deps.logger.warn(`${action}.forged`, { actorId: actor.userId, groupId });
      return { ok: false, message: msg('guests:refused.notOwner', { group: groupName }) };
    }
    const member = (
      await retryTransient(() => this.deps.directory.checkMemberGroups(guestId, [groupId]), this.policy())
    ).has(groupId);
    if (!member) {
      await this.audit(actor.tenantId, { ...base, action: `${action}.refused`, outcome: 'notMember' });
      return {
        ok: false,
        message: msg('guests:refused.notMember', {
          guest: record?.guestEmail ?? msg('guests:someGuest'),
          group: groupName,
        }),
      };
    }
    return { ok: true };
  }
}
