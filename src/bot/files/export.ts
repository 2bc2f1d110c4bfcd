/**
 * Export of the guest list as a CSV file in the 1:1 chat, the way Teams has a bot send a file
 * (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4#send-files-to-personal-chat):
 * a file consent card; on `fileConsent/invoke` with action "accept" the file is uploaded to `uploadInfo.uploadUrl`
 * (one PUT with Content-Range) and a file info card is sent; "decline" uploads nothing. The consent card's context
 * only says which list was asked for: who asks is checked again when the file is made (admins: the tenant's
 * guests; owners: the guests of the groups they own now).
 */
import type { FileConsentCardResponse, TurnContext } from 'botbuilder';
import type { Logger } from '../../logging';
import type { Actor } from '../../domain/shared/model';
import type { Store } from '../../store/store';
import {
  EXPORT_COLUMNS,
  exportRecords,
  guestCsv,
  type ExportColumn,
  type ExportScope,
} from '../../domain/files/guestExport';
import { uploadFile, type FileFetch } from '../../domain/files/download';
import type { Localizer } from '../../i18n';
import { actorFrom } from '../identity';
import { loc } from '../locale';

export const FILE_CONSENT = 'application/vnd.microsoft.teams.card.file.consent';
export const FILE_INFO = 'application/vnd.microsoft.teams.card.file.info';
/** The export file's largest size (the report holds at most 100,000 records). */
const EXPORT_MAX_BYTES = 50 * 1024 * 1024;

export type ExportKind = 'admin' | 'owner';

export interface FileExportOptions {
  store: Store;
  logger: Logger;
  isAdmin: (actor: Actor) => Promise<boolean>;
  ownedGroupIds: (actor: Actor) => Promise<string[]>;
  hosts: () => Promise<string[]>;
  reviewIntervalMs: number;
  reviewGraceMs: number;
  clock?: () => Date;
  fetch?: FileFetch;
}

export class FileExport {
  constructor(private readonly options: FileExportOptions) {}

  /** The list this actor may take away, or null when an admin export is asked by someone who is not one. */
  private async scope(actor: Actor, kind: ExportKind): Promise<ExportScope | null> {
    if (kind === 'admin')
      return (await this.options.isAdmin(actor)) ? { kind: 'admin', tenantId: actor.tenantId } : null;
    return { kind: 'owner', tenantId: actor.tenantId, groupIds: await this.options.ownedGroupIds(actor) };
  }

  private async csv(l: Localizer, scope: ExportScope): Promise<{ bytes: Buffer; rows: number }> {
    const records = await exportRecords(this.options.store, scope);
    const headers = Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, l.t(`files:export.header.${c}`)])) as Record<
      ExportColumn,
      string
    >;
    const stateText = (state: string | null): string =>
      l.t(`files:export.state.${state === 'PendingAcceptance' || state === 'Accepted' ? state : 'unknown'}`);
    const bytes = guestCsv(records, headers, stateText, {
      reviewIntervalMs: this.options.reviewIntervalMs,
      reviewGraceMs: this.options.reviewGraceMs,
    });
    return { bytes, rows: records.length };
  }

  /**
   * Sends the file consent card (in personal chat only, as Teams requires); false when the actor may not have this
   * list.
   */
  async offer(context: TurnContext, kind: ExportKind): Promise<boolean> {
    const actor = actorFrom(context);
    const scope = actor ? await this.scope(actor, kind) : null;
    if (!scope) return false;
    const l = loc(context);
    if (context.activity.conversation?.conversationType !== 'personal') {
      await context.sendActivity(l.t('files:export.personalOnly'));
      return true;
    }
    const { bytes, rows } = await this.csv(l, scope);
    const date = (this.options.clock?.() ?? new Date()).toISOString().slice(0, 10);
    await context.sendActivity({
      attachments: [
        {
          contentType: FILE_CONSENT,
          name: l.t('files:export.fileName', { date }),
          content: {
            description: l.t('files:export.description', { count: rows }),
            sizeInBytes: bytes.length,
            acceptContext: { kind },
            declineContext: { kind },
          },
        },
      ],
    });
    this.options.logger.info('files.export.offered', { kind, rows });
    return true;
  }

  /** `fileConsent/invoke` with "accept": the file made again for whoever accepts, uploaded, then its info card. */
  async accept(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const l = loc(context);
    const actor = actorFrom(context);
    const kind = (response.context as { kind?: unknown } | undefined)?.kind;
    const scope = actor && (kind === 'admin' || kind === 'owner') ? await this.scope(actor, kind) : null;
    const upload = response.uploadInfo;
    if (!scope || !upload) {
      await context.sendActivity(l.t(scope ? 'files:export.failed' : 'files:export.expired'));
      return;
    }
    const { bytes, rows } = await this.csv(l, scope);
    const uploaded = await uploadFile(upload.uploadUrl, bytes, {
      hosts: await this.options.hosts(),
      maxBytes: EXPORT_MAX_BYTES,
      fetch: this.options.fetch,
    });
    this.options.logger.info('files.export.uploaded', { kind: scope.kind, rows, ok: uploaded });
    if (!uploaded) {
      await context.sendActivity(l.t('files:export.failed'));
      return;
    }
    await context.sendActivity({
      attachments: [
        {
          contentType: FILE_INFO,
          contentUrl: upload.contentUrl,
          name: upload.name,
          content: { uniqueId: upload.uniqueId, fileType: upload.fileType },
        },
      ],
    });
  }

  /** "decline": nothing is uploaded. */
  async decline(context: TurnContext): Promise<void> {
    this.options.logger.info('files.export.declined', {});
    await context.sendActivity(loc(context).t('files:export.declined'));
  }
}
