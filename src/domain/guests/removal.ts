/**
 * Removing a guest from a group as a durable operation record (`removeGuest`): exactly once, resumable, its one
 * step (`remove`) recorded before the guest record and the audit log are written. An owner's removal is authorized
 * at the moment of acting; the review's default after the grace period acts for the system. Guests only: a forged
 * card naming an internal member (userType Member) removes nobody.
 */
import { DirectoryError } from '../../graph/directory';
import type { GuestRecord, OperationRecord } from '../../store/store';
import { msg } from '../shared/message';
import type { Actor } from '../shared/model';
import type { OperationRunner, OperationSteps } from '../shared/operations';
import { retryTransient, retryWrite } from '../shared/retry';
import type { GuestActionContext, GuestActionOutcome } from './actionContext';

export const REMOVE_OPERATION_KIND = 'removeGuest';

/** The name the audit log gives the review's default after the grace period (users read `guests:review.byDefault`). */
export const DEFAULT_AFTER_GRACE = 'default after grace';

/** Who removes: an owner from `my guests` or a review, or the review's default after the grace period. */
export type RemovalBy =
  { kind: 'owner'; actor: Actor; reviewId?: string } | { kind: 'default'; tenantId: string; reviewId: string };

/** One removal, as its steps and audit entries name it. */
interface Removal {
  by: RemovalBy;
  tenantId: string;
  actorId: string;
  actorName: string;
  groupId: string;
  guestId: string;
  operationId: string;
  activityId?: string;
}

/** What one run of the operation's body ends with: `failed` when it may be run again. */
type StepsEnd = { outcome: GuestActionOutcome; failed: boolean };

const finished = (outcome: GuestActionOutcome): StepsEnd => ({ outcome, failed: false });

export class GuestRemoval {
  constructor(
    private readonly context: GuestActionContext,
    private readonly runner: OperationRunner,
  ) {}

  async remove(
    by: RemovalBy,
    groupId: string,
    guestId: string,
    operationId: string,
    activityId?: string,
  ): Promise<GuestActionOutcome> {
    const removal: Removal = {
      by,
      tenantId: by.kind === 'owner' ? by.actor.tenantId : by.tenantId,
      actorId: by.kind === 'owner' ? by.actor.userId : 'system',
      actorName: by.kind === 'owner' ? by.actor.displayName : DEFAULT_AFTER_GRACE,
      groupId,
      guestId,
      operationId,
      activityId,
    };
    const run = await this.runner.run<GuestActionOutcome>(
      {
        id: operationId,
        kind: REMOVE_OPERATION_KIND,
        tenantId: removal.tenantId,
        actorId: removal.actorId,
        input: {
          groupId,
          guestId,
          actorName: removal.actorName,
          reviewId: by.reviewId ?? null,
          byDefault: by.kind === 'default',
        },
      },
      (steps) => this.runSteps(steps, removal),
    );
    return run.kind === 'finished' ? run.outcome : { kind: 'inProgress', message: msg('guests:remove.inProgress') };
  }

  /** The operation's body: a recorded `remove` step is not repeated, only what follows it. */
  private async runSteps(steps: OperationSteps, removal: Removal): Promise<StepsEnd> {
    if (steps.record.steps.remove) return finished(await this.afterRemoval(removal));
    const { by, tenantId, groupId, guestId } = removal;
    if (by.kind === 'owner') {
      const allowed = await this.context.authorize(by.actor, groupId, guestId, 'guest.remove', removal.activityId);
      if (!allowed.ok) return finished({ kind: 'refused', message: allowed.message });
    }
    const record = await this.context.deps.store.guests.get({ tenantId, groupId, guestId });
    const user = await retryTransient(() => this.context.deps.directory.getUser(guestId), this.context.policy());
    if (user?.userType !== 'Guest') return finished(await this.refuseNotGuest(removal, record));
    try {
      const result = await this.removeMember(groupId, guestId);
      await steps.done('remove', { removed: result.removed }, result.requestId);
      return finished(await this.afterRemoval(removal, result.requestId));
    } catch (err) {
      return this.notRemoved(removal, record, err);
    }
  }

  private async refuseNotGuest(removal: Removal, record: GuestRecord | undefined): Promise<GuestActionOutcome> {
    const { actorId, actorName, groupId, guestId, operationId, activityId } = removal;
    await this.context.audit(removal.tenantId, {
      actorId,
      actorName,
      groupId,
      guestId,
      operationId,
      activityId,
      action: 'guest.remove.refused',
      outcome: 'notGuest',
    });
    return {
      kind: 'refused',
      message: msg('guests:refused.notGuest', { guest: record?.guestEmail ?? msg('guests:someGuest') }),
    };
  }

  private removeMember(groupId: string, guestId: string): Promise<{ removed: boolean; requestId: string | null }> {
    const { directory } = this.context.deps;
    return retryWrite(
      () => directory.removeGroupMember(groupId, guestId),
      // After a 5xx or a timeout the removal may have happened: read membership before writing again.
      async () =>
        (await directory.checkMemberGroups(guestId, [groupId])).has(groupId)
          ? null
          : { removed: true, requestId: null },
      this.context.policy(),
    );
  }

  /** Graph refused the removal (nothing to run again) or it failed (the record may be run again). */
  private async notRemoved(removal: Removal, record: GuestRecord | undefined, err: unknown): Promise<StepsEnd> {
    const error = err instanceof DirectoryError ? err : new DirectoryError('unknown', 0, 'Unexpected', String(err));
    const who = record?.guestEmail ?? removal.guestId;
    const groupName = record?.groupName ?? removal.groupId;
    const base = {
      actorId: removal.actorId,
      actorName: removal.actorName,
      groupId: removal.groupId,
      groupName,
      guestId: removal.guestId,
      guestEmail: record?.guestEmail,
      appId: record?.appId,
      appName: record?.appName,
      operationId: removal.operationId,
      graphRequestId: error.requestId ?? undefined,
    };
    if (error.kind === 'forbidden' || error.kind === 'badRequest') {
      await this.context.audit(removal.tenantId, {
        ...base,
        action: 'guest.remove.refused',
        outcome: error.code,
        detail: `${error.code}: ${error.message}`.slice(0, 500),
      });
      return finished({
        kind: 'refused',
        message: msg('guests:remove.refused', { guest: who, group: groupName, code: error.code }),
      });
    }
    await this.context.audit(removal.tenantId, { ...base, action: 'guest.remove.failed', outcome: error.code });
    return {
      outcome: {
        kind: 'failed',
        message: msg('guests:remove.failed', { guest: who, group: groupName, reference: removal.operationId }),
      },
      failed: true,
    };
  }

  /** The guest is out of the group: its record says so and the removal is audited. */
  private async afterRemoval(removal: Removal, graphRequestId?: string | null): Promise<GuestActionOutcome> {
    const { by, tenantId, groupId, guestId, actorName } = removal;
    const now = this.context.clock().toISOString();
    const record = await this.context.patchRecord(
      { tenantId, groupId, guestId },
      { removedAt: now, removedBy: actorName, reviewState: 'none' },
    );
    const current = record ?? (await this.context.deps.store.guests.get({ tenantId, groupId, guestId }));
    await this.context.audit(tenantId, {
      actorId: removal.actorId,
      actorName,
      action: 'guest.removed',
      outcome: by.kind === 'default' ? 'defaultAfterGrace' : by.reviewId ? 'review' : 'owner',
      groupId,
      groupName: current?.groupName,
      appId: current?.appId,
      appName: current?.appName,
      guestId,
      guestEmail: current?.guestEmail,
      operationId: removal.operationId,
      graphRequestId: graphRequestId ?? undefined,
      detail: by.kind === 'default' ? DEFAULT_AFTER_GRACE : `decided by ${actorName}`,
    });
    return {
      kind: 'done',
      message: msg('guests:remove.done', {
        guest: current?.guestEmail ?? guestId,
        group: current?.groupName ?? groupId,
        app: current?.appName ?? msg('guests:someApp'),
      }),
    };
  }
}

/** Who a stored removal record was started by (to resume it as them). */
export function removalOf(record: OperationRecord): RemovalBy {
  const reviewId = typeof record.input.reviewId === 'string' ? record.input.reviewId : undefined;
  if (record.input.byDefault === true && reviewId) return { kind: 'default', tenantId: record.tenantId, reviewId };
  return {
    kind: 'owner',
    actor: { tenantId: record.tenantId, userId: record.actorId, displayName: String(record.input.actorName ?? '') },
    reviewId,
  };
}
