/**
 * A guest list read from a CSV or Excel file: the address column (by its header in English or Dutch, or else the
 * column where most cells are addresses), a name column when there is one, and the columns of Entra's bulk
 * invitation template ("Email address to invite [inviteeEmail]", "Send invitation message (true or false)
 * [sendEmail]", "Customized invitation message [customizedMessageBody]"; its "version:v1.0" first line is
 * skipped; "Redirection url" is not used: the app's own address is, as for every invitation the bot sends).
 */
import { parseEmail } from '../shared/email';
import { msg, type Msg } from '../shared/message';
import { readTable, type DecodeOptions } from './decode';

/** Headers of a name column, in English and Dutch, as normalised (lower case, no spaces). */
const NAME_HEADERS: ReadonlySet<string> = new Set([
  ...['name', 'displayname', 'fullname', 'guestname', 'contact'],
  ...['naam', 'weergavenaam', 'volledigenaam', 'gastnaam', 'naamgast', 'contactpersoon'],
]);

export interface FileGuest {
  /** 1-based row in the file. */
  row: number;
  address: string;
  name: string | null;
  /** The row's own welcome message (Entra's "Customized invitation message"), when set. */
  message: string | null;
  /** Entra's "Send invitation message": false sends no invitation email. */
  send: boolean;
}

export type GuestFile = { ok: true; kind: 'csv' | 'xlsx'; guests: FileGuest[] } | { ok: false; problem: Msg };

type Role = 'address' | 'name' | 'message' | 'send';

/** What a header cell names, in English or Dutch, Entra's `[property]` tags included. */
export function headerRole(cell: string): Role | null {
  const tag = /\[([a-z]+)\]/i.exec(cell)?.[1]?.toLowerCase();
  if (tag === 'inviteeemail') return 'address';
  if (tag === 'sendemail') return 'send';
  if (tag === 'customizedmessagebody') return 'message';
  if (tag) return null;
  const n = cell
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/required|verplicht/g, '')
    .replace(/[^a-z]/g, '');
  if (n === '') return null;
  if (/^(send|verzend|verstuur|stuur)/.test(n)) return 'send';
  if (/(message|bericht|welkom|welcome)/.test(n)) return 'message';
  if (/(mail|^adres$|^address$)/.test(n)) return 'address';
  if (NAME_HEADERS.has(n)) return 'name';
  return null;
}

const looksLikeAddress = (cell: string): boolean =>
  cell.includes('@') && parseEmail(cell.replace(/^mailto:/i, '').trim()).ok;

interface Columns {
  headerRow: number | null;
  address: number;
  name: number | null;
  message: number | null;
  send: number | null;
}

/** The header among the first five rows, or the column with the most addresses. */
export function findColumns(rows: readonly string[][]): Columns | null {
  for (let r = 0; r < Math.min(5, rows.length); r++) {
    const roles = rows[r].map(headerRole);
    const address = roles.indexOf('address');
    if (address >= 0 && !looksLikeAddress(rows[r][address])) {
      const at = (role: Role): number | null => (roles.indexOf(role) >= 0 ? roles.indexOf(role) : null);
      return { headerRow: r, address, name: at('name'), message: at('message'), send: at('send') };
    }
  }
  const hits: number[] = [];
  for (const row of rows.slice(0, 500))
    row.forEach((cell, c) => (hits[c] = (hits[c] ?? 0) + (looksLikeAddress(cell) ? 1 : 0)));
  let best = -1;
  hits.forEach((count, c) => {
    if (count > 0 && (best < 0 || count > hits[best])) best = c;
  });
  return best < 0 ? null : { headerRow: null, address: best, name: null, message: null, send: null };
}

const TRUE = /^(true|waar|yes|ja|y|j|1)$/i;
const FALSE = /^(false|onwaar|no|nee|n|0)$/i;

export async function readGuestFile(name: string, bytes: Buffer, options: DecodeOptions): Promise<GuestFile> {
  const table = await readTable(name, bytes, options);
  if (!table.ok) return table;
  const rows = table.rows;
  const columns = findColumns(rows);
  if (!columns) return { ok: false, problem: msg('files:problem.noAddressColumn') };
  const guests: FileGuest[] = [];
  const first = columns.headerRow === null ? 0 : columns.headerRow + 1;
  for (let r = first; r < rows.length; r++) {
    const cell = (c: number | null): string => (c === null ? '' : (rows[r][c] ?? '').trim());
    const address = cell(columns.address);
    if (address === '' || /^version:/i.test(address)) continue;
    if (guests.length >= options.maxRows)
      return { ok: false, problem: msg('files:problem.tooManyRows', { max: options.maxRows }) };
    const used = [address, cell(columns.name), cell(columns.message), cell(columns.send)];
    // A CSV cell that starts with "=" is a formula for Excel: refused, as formulas in a workbook are.
    if (used.some((v) => v.startsWith('=')))
      return { ok: false, problem: msg('files:problem.formula', { row: r + 1 }) };
    const sendCell = cell(columns.send);
    if (sendCell !== '' && !TRUE.test(sendCell) && !FALSE.test(sendCell))
      return { ok: false, problem: msg('files:problem.sendValue', { row: r + 1, value: sendCell.slice(0, 40) }) };
    guests.push({
      row: r + 1,
      address,
      name: cell(columns.name) || null,
      message: cell(columns.message) || null,
      send: !FALSE.test(sendCell),
    });
  }
  if (guests.length === 0)
    return {
      ok: false,
      problem: msg(columns.headerRow === null ? 'files:problem.noAddressColumn' : 'files:problem.empty'),
    };
  return { ok: true, kind: table.kind, guests };
}

/**
 * The guests as the text of the list card (one `"Name" <address>` a line), so a file goes through the same
 * review as a pasted list.
 */
export function asListText(guests: readonly FileGuest[]): string {
  return guests
    .map((g) => {
      const name = g.name
        ?.replace(/["<>,;\r\n]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      const address = g.address.replace(/^mailto:/i, '');
      return name ? `"${name}" <${address}>` : address;
    })
    .join('\n');
}
