/** Guest list files made in the tests (nothing binary is kept in the repository): CSV, workbooks, hostile files. */
import zlib from 'node:zlib';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';

/**
 * Entra's bulk invitation template (Users > Bulk operations > Bulk invite), `n` rows; every fifth has its own message,
 * every seventh no email.
 */
export function entraTemplate(
  n: number,
  domain = 'adatum.com',
): { csv: Buffer; rows: Array<{ address: string; message: string | null; send: boolean }> } {
  const rows = Array.from({ length: n }, (_, i) => ({
    address: `entra${String(i + 1).padStart(2, '0')}@${domain}`,
    message: i % 5 === 0 ? `Welcome ${i + 1}, see you at the kick-off; bring "your" laptop` : null,
    send: i % 7 !== 3,
  }));
  const lines = [
    'version:v1.0',
    'Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]',
    ...rows.map(
      (r) =>
        `${r.address},https://myapps.microsoft.com,${r.send ? 'true' : 'false'},${r.message ? `"${r.message.replace(/"/g, '""')}"` : ''}`,
    ),
  ];
  return { csv: Buffer.from(lines.join('\r\n') + '\r\n', 'utf8'), rows };
}

/** A workbook with Dutch headers (Naam, E-mailadres, Organisatie) and `n` guests on its first sheet. */
export async function dutchWorkbook(n: number, domain = 'adatum.com'): Promise<{ bytes: Buffer; addresses: string[] }> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Gasten');
  sheet.addRow(['Naam', 'E-mailadres', 'Organisatie']);
  const addresses: string[] = [];
  for (let i = 1; i <= n; i++) {
    const address = `gast${String(i).padStart(2, '0')}@${domain}`;
    addresses.push(address);
    sheet.addRow([`Gast ${i} van Dijk`, address, 'Adatum']);
  }
  workbook.addWorksheet('Notities').addRow(['niet@gebruikt.nl']);
  return { bytes: Buffer.from(await workbook.xlsx.writeBuffer()), addresses };
}

/** A workbook whose address cells are formulas (their cached results look like addresses). */
export async function formulaWorkbook(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Sheet1');
  sheet.addRow(['Email']);
  sheet.addRow(['plain@adatum.com']);
  sheet.addRow([{ formula: 'CONCATENATE("evil","@adatum.com")', result: 'evil@adatum.com' }]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A zip archive (stored names, deflated data); `declared` overrides the uncompressed size written in the headers. */
export function zipOf(entries: Array<{ name: string; data: Buffer; declared?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = zlib.deflateRawSync(entry.data, { level: 9 });
    const crc = zlib.crc32(entry.data);
    const size = entry.declared ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** An .xlsx-shaped zip whose sheet inflates to `mb` megabytes (a few hundred KB compressed); `lie` declares it tiny. */
export function zipBombWorkbook(mb: number, lie = false): Buffer {
  const sheet = Buffer.alloc(mb * 1024 * 1024, 0x20);
  return zipOf([
    { name: '[Content_Types].xml', data: Buffer.from('<?xml version="1.0"?><Types/>') },
    { name: 'xl/workbook.xml', data: Buffer.from('<?xml version="1.0"?><workbook/>') },
    { name: 'xl/worksheets/sheet1.xml', data: sheet, declared: lie ? 1000 : undefined },
  ]);
}

/** What a password-protected workbook is on disk: an OLE compound file (EncryptionInfo + EncryptedPackage). */
export function protectedWorkbook(): Buffer {
  const header = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
  return Buffer.concat([header, Buffer.alloc(4096, 0)]);
}

/** A CSV of `n` addresses, one a line, no header. */
export function longCsv(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`g${i}@adatum.com`);
  return Buffer.from(lines.join('\n'), 'utf8');
}

/** Text in Windows-1252 or UTF-16 (with its BOM), as Excel on Windows saves "CSV" and "Unicode text". */
export function encoded(text: string, encoding: 'windows-1252' | 'utf-16le' | 'utf-8-bom'): Buffer {
  if (encoding === 'utf-8-bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
  if (encoding === 'utf-16le') return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]);
  return iconv.encode(text, 'windows-1252');
}
