/**
 * The guest list as a CSV file: one row per guest and group from the bot's records (the guests the report
 * counts), for an admin the whole tenant, for an owner the groups they own (read again from the catalog when the
 * file is made). Dates in ISO 8601 (UTC); cells that a spreadsheet would run as a formula are neutralised.
 */
import { stringify } from 'csv-stringify/sync';
import type { GuestRecord, Store } from '../../store/store';

export type ExportColumn =
  | 'guest'
  | 'address'
  | 'app'
  | 'group'
  | 'invitedBy'
  | 'invitedAt'
  | 'state'
  | 'stateSince'
  | 'sponsors'
  | 'nextReview';
export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  'guest',
  'address',
  'app',
  'group',
  'invitedBy',
  'invitedAt',
  'state',
  'stateSince',
  'sponsors',
  'nextReview',
];

export type ExportScope =
  { kind: 'admin'; tenantId: string } | { kind: 'owner'; tenantId: string; groupIds: readonly string[] };

export interface ExportOptions {
  reviewIntervalMs: number;
  reviewGraceMs: number;
}

/** A cell starting with = + - @ (or a tab or carriage return) is read as a formula by spreadsheets: prefixed with '. */
export function neutralise(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

const iso = (value: string | null | undefined): string => {
  if (!value) return '';
  const t = Date.parse(value);
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
};

/** When the guest's next review is due: the open review's deadline, else the interval after they were last kept. */
export function nextReview(record: GuestRecord, options: ExportOptions): string {
  if (record.reviewState === 'open' && record.reviewOpenedAt)
    return iso(new Date(Date.parse(record.reviewOpenedAt) + options.reviewGraceMs).toISOString());
  const kept = Date.parse(record.lastKeptAt);
  return Number.isNaN(kept) ? '' : new Date(kept + options.reviewIntervalMs).toISOString();
}

export async function exportRecords(store: Store, scope: ExportScope): Promise<GuestRecord[]> {
  const records =
    scope.kind === 'admin'
      ? await store.guests.listForTenant(scope.tenantId, 100_000)
      : await store.guests.listForGroups(scope.tenantId, scope.groupIds, 100_000);
  return records
    .filter((r) => !r.removedAt)
    .sort(
      (a, b) =>
        a.appName.localeCompare(b.appName) ||
        a.groupName.localeCompare(b.groupName) ||
        a.guestEmail.localeCompare(b.guestEmail),
    );
}

/**
 * The CSV: `headers` are the column titles in the reader's language, `stateText` words a redemption state.
 * UTF-8 with a byte order mark, so Excel opens names with accents correctly.
 */
export function guestCsv(
  records: readonly GuestRecord[],
  headers: Record<ExportColumn, string>,
  stateText: (state: string | null) => string,
  options: ExportOptions,
): Buffer {
  const rows = records.map((r) => {
    const cells: Record<ExportColumn, string> = {
      guest: r.guestName || r.guestEmail,
      address: r.guestEmail,
      app: r.appName,
      group: r.groupName,
      invitedBy: r.invitedByName,
      invitedAt: iso(r.invitedAt),
      state: stateText(r.redemption),
      stateSince: iso(r.redemptionSince),
      sponsors: r.sponsorIds.join(' '),
      nextReview: nextReview(r, options),
    };
    return EXPORT_COLUMNS.map((c) => neutralise(cells[c]));
  });
  const text = stringify([EXPORT_COLUMNS.map((c) => neutralise(headers[c])), ...rows], {
    record_delimiter: 'windows',
    quoted_string: false,
  });
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
}
