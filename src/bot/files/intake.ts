/**
 * A CSV or Excel file an owner sends in the 1:1 chat becomes the list of `invite guests`. Teams delivers it as an
 * attachment of type `application/vnd.microsoft.teams.file.download.info` whose `content.downloadUrl` is
 * pre-authorised and short-lived, so it is read at once, before the app and group are asked
 * (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4#receive-files-in-personal-chat).
 * Files are taken in personal scope only, as Teams' bot file APIs are. Nothing is invited here: the list goes to
 * the same review card as a pasted list.
 */
import type { Activity, TurnContext } from 'botbuilder';
import type { Logger } from '../../logging';
import { parseEmail } from '../../domain/shared/email';
import { cleanText } from '../../domain/shared/text';
import type { Msg } from '../../domain/shared/message';
import type { PersonalInvitation } from '../../domain/bulk/model';
import { downloadFile, type FileFetch } from '../../domain/files/download';
import { asListText, readGuestFile } from '../../domain/files/guestFile';
import { msg } from '../../domain/shared/message';
import { loc } from '../locale';
import type { ImportedList } from '../bulk/flow';

export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

export interface SentFile {
  name: string;
  downloadUrl: unknown;
}

export interface FileIntakeOptions {
  /** The tenant's SharePoint and OneDrive hosts (fileHosts). */
  hosts: () => Promise<string[]>;
  /** FILE_MAX_BYTES. */
  maxBytes: number;
  /** BULK_INVITE_MAX. */
  maxRows: number;
  /** Most a workbook may hold once uncompressed. */
  maxUncompressedBytes: number;
  checkMessage: (raw: string) => { ok: true; message: string | null } | { ok: false; message: Msg };
  logger: Logger;
  fetch?: FileFetch;
}

export class FileIntake {
  constructor(private readonly options: FileIntakeOptions) {}

  /** The file attachment of a message, if it has one. */
  fileOf(activity: Partial<Activity>): SentFile | null {
    if (activity.type !== 'message') return null;
    const attachment = (activity.attachments ?? []).find((a) => a.contentType === FILE_DOWNLOAD_INFO);
    if (!attachment) return null;
    const content = (
      typeof attachment.content === 'object' && attachment.content !== null ? attachment.content : {}
    ) as { downloadUrl?: unknown };
    return {
      name: typeof attachment.name === 'string' ? attachment.name.slice(0, 255) : '',
      downloadUrl: content.downloadUrl,
    };
  }

  /** The list in the file, or null after answering why it cannot be used. */
  async read(context: TurnContext, file: SentFile): Promise<ImportedList | null> {
    const l = loc(context);
    const refuse = async (problem: Msg, reason: string): Promise<null> => {
      this.options.logger.info('files.refused', { reason });
      await context.sendActivity(l.msg(problem));
      return null;
    };
    if (context.activity.conversation?.conversationType !== 'personal')
      return refuse(msg('files:notPersonal'), 'notPersonal');
    await context.sendActivity({ type: 'typing' });
    const download = await downloadFile(file.downloadUrl, {
      hosts: await this.options.hosts(),
      maxBytes: this.options.maxBytes,
      fetch: this.options.fetch,
    });
    if (!download.ok) {
      const mb = Math.round((this.options.maxBytes / 1024 / 1024) * 10) / 10;
      return refuse(
        msg(`files:problem.${download.problem}`, download.problem === 'tooLarge' ? { mb } : {}),
        download.problem,
      );
    }
    const read = await readGuestFile(file.name, download.bytes, {
      maxRows: this.options.maxRows,
      maxUncompressedBytes: this.options.maxUncompressedBytes,
    });
    if (!read.ok) return refuse(read.problem, read.problem.key);
    const personal: Record<string, PersonalInvitation> = {};
    let own = 0;
    let silent = 0;
    for (const guest of read.guests) {
      if (!guest.message && guest.send) continue;
      const parsed = parseEmail(guest.address.replace(/^mailto:/i, ''));
      if (!parsed.ok) continue;
      const message = this.options.checkMessage(guest.message ?? '');
      if (!message.ok)
        return refuse(msg('files:problem.message', { row: guest.row, problem: message.message }), 'message');
      personal[parsed.address.toLowerCase()] = { message: message.message, send: guest.send };
      if (message.message) own++;
      if (!guest.send) silent++;
    }
    this.options.logger.info('files.read', { kind: read.kind, rows: read.guests.length, bytes: download.bytes.length });
    // The file name is the user's text: sent as plain text, never as markdown.
    const name = cleanText(file.name, { multiline: false }) || read.kind.toUpperCase();
    await context.sendActivity({
      type: 'message',
      text: l.t('files:read', { count: read.guests.length, name, own, silent }),
      textFormat: 'plain',
    });
    return { name: file.name, list: asListText(read.guests), personal };
  }
}
