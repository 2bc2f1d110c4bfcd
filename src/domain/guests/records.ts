/**
 * The bot's own account of the guests it lets in: whenever an invitation or an approved request adds a guest to a
 * group, who did it, when, how and under which operation is kept in the store (GuestRecordStore), with the acting
 * owner as the guest's sponsor.
 *
 * Sponsors in Entra: `POST /users/{id}/sponsors/$ref` needs User.ReadWrite.All (includes/permissions/
 * user-post-sponsors-permissions.md), which also lets the app change every user's profile. The v1.0 invitation
 * resource page (api-reference/v1.0/resources/invitation.md) documents no `invitedUserSponsors`, so User.Invite.All
 * alone cannot set one. The bot therefore writes sponsors to Entra only when an admin opted in
 * (GUEST_SPONSORS_IN_ENTRA=true, after granting User.ReadWrite.All); otherwise the sponsor lives in the bot's records.
 * A refused write never stops the invitation: the record says `sponsorInEntra: false` and the admins are told
 * which permission to grant.
 */
import { isPermissionDenied, type Directory } from '../../graph/directory';
import { NEEDS } from '../../graph/permissions';
import type { Logger } from '../../logging';
import type { GuestAddedHow, GuestRecord, Store } from '../../store/store';
import { reportBlocked, type Actor, type BlockedReporter } from '../shared/model';
import { msg } from '../shared/message';

export interface GuestAdded {
  actor: Actor;
  how: GuestAddedHow;
  operationId: string;
  guest: { id: string; email: string; displayName: string; redemption: string | null };
  app: { id: string; displayName: string };
  group: { id: string; displayName: string };
}

export interface GuestRecorderOptions {
  directory: Directory;
  store: Store;
  logger: Logger;
  clock?: () => Date;
  /** GUEST_SPONSORS_IN_ENTRA: also write the sponsor to Entra (needs User.ReadWrite.All). */
  sponsorsInEntra?: boolean;
  onBlocked?: BlockedReporter;
}

export class GuestRecorder {
  private readonly clock: () => Date;

  constructor(private readonly options: GuestRecorderOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  get sponsorsInEntra(): boolean {
    return this.options.sponsorsInEntra === true;
  }

  /** Records the guest and its sponsor; never throws (the membership is already written), logs instead. */
  async recordAdded(added: GuestAdded): Promise<GuestRecord | null> {
    const sponsorInEntra = await this.writeSponsor(added);
    try {
      return await this.options.store.guests.recordAdded(
        {
          tenantId: added.actor.tenantId,
          groupId: added.group.id,
          guestId: added.guest.id,
          guestEmail: added.guest.email,
          guestName: added.guest.displayName,
          appId: added.app.id,
          appName: added.app.displayName,
          groupName: added.group.displayName,
          invitedBy: added.actor.userId,
          invitedByName: added.actor.displayName,
          how: added.how,
          operationId: added.operationId,
          sponsorIds: [added.actor.userId],
          sponsorInEntra,
          redemption: added.guest.redemption,
        },
        this.clock(),
      );
    } catch (err) {
      this.options.logger.error('guest.record.failed', {
        operationId: added.operationId,
        guestId: added.guest.id,
        error: err,
      });
      return null;
    }
  }

  private async writeSponsor(added: GuestAdded): Promise<boolean> {
    if (!this.sponsorsInEntra) return false;
    try {
      await this.options.directory.addSponsor(added.guest.id, added.actor.userId);
      return true;
    } catch (err) {
      if (isPermissionDenied(err)) {
        await reportBlocked(this.options.onBlocked, this.options.logger, {
          tenantId: added.actor.tenantId,
          actor: added.actor,
          doing: msg('guests:sponsors.doing', {
            owner: added.actor.displayName || msg('guests:sponsors.theOwner'),
            guest: added.guest.email,
          }),
          kind: 'missingPermission',
          app: added.app,
          group: added.group,
          detail: err.permission ?? NEEDS.sponsorWrite,
        });
      }
      this.options.logger.warn('guest.sponsor.notWritten', {
        guestId: added.guest.id,
        operationId: added.operationId,
        error: err,
      });
      return false;
    }
  }
}
