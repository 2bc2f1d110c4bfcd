/**
 * How the bot finds a person's 1:1 chat in Teams before it sends them something it starts (approval cards,
 * reminders, reviews, alerts, notices): the port between the outbox (which sends) and the reachability code
 * (which opens chats, installs the app where allowed, and records who cannot be reached).
 */
import type { ConversationReference } from 'botbuilder';

/** Why a person cannot be reached in Teams now. */
export type UnreachableReason =
  | 'notInstalled' // no personal install, and the bot may not install itself (see the other reasons for why)
  | 'permissionMissing' // TeamsAppInstallation.ReadWriteSelfForUser.All is not granted
  | 'appNotInCatalog' // the app is not in the organization's catalog, or its catalog id is unknown
  | 'blockedByPolicy' // an app permission policy blocks the app for this person
  | 'blockedByUser' // 403 ConversationBlockedByUser
  | 'disabledByAdmin' // 403 BotDisabledByAdmin
  | 'uninstalled'; // installationUpdate remove, or 403 MessageWritesBlocked

export type ChatOpening =
  { ok: true; reference: Partial<ConversationReference> } | { ok: false; reason: UnreachableReason; detail?: string };

export interface PersonalChats {
  /** The person's 1:1 chat with the bot: the stored one, or a new one (installing the app for them where allowed). */
  open(tenantId: string, userId: string): Promise<ChatOpening>;
  /**
   * Teams refused a send into the person's stored chat (status and Bot Framework error code): the chat is
   * forgotten or the person marked unreachable. Returns the reason when the person is unreachable now, or
   * undefined when opening the chat again may work (e.g. a stale conversation after an uninstall and reinstall).
   */
  refused(
    tenantId: string,
    userId: string,
    status: number,
    code: string | undefined,
  ): Promise<UnreachableReason | undefined>;
}

/** The reason a Teams refusal (403 with a Bot Framework error code) gives for not reaching a person. */
export function unreachableReasonOf(code: string | undefined): UnreachableReason {
  switch (code) {
    case 'ConversationBlockedByUser':
      return 'blockedByUser';
    case 'BotDisabledByAdmin':
      return 'disabledByAdmin';
    case 'MessageWritesBlocked':
      return 'uninstalled';
    default:
      return 'notInstalled';
  }
}
