/**
 * The bytes of a file as the rows of its first table: CSV in any common encoding and delimiter (csv-parse,
 * iconv-lite, chardet), or the first sheet of an Excel workbook (exceljs), after its zip has been checked
 * entry by entry (yauzl) so a zip bomb is stopped before the workbook is parsed.
 */
import iconv from 'iconv-lite';
import type yauzl from 'yauzl';
import { msg, type Msg } from '../shared/message';

// The parsers are loaded with the first file, so an instance that never sees one does not hold them.
let parsers: Promise<{
  parse: typeof import('csv-parse/sync').parse;
  detect: typeof import('chardet').detect;
  yauzl: typeof yauzl;
}> | null = null;
const loadParsers = (): NonNullable<typeof parsers> =>
  (parsers ??= Promise.all([import('csv-parse/sync'), import('chardet'), import('yauzl')]).then(
    ([csv, chardet, zip]) => ({ parse: csv.parse, detect: chardet.detect, yauzl: zip.default }),
  ));

export type Table = { ok: true; kind: 'csv' | 'xlsx'; rows: string[][] } | { ok: false; problem: Msg };

export interface DecodeOptions {
  /** Rows beyond this many are not read (the caller refuses the file). */
  maxRows: number;
  /** Largest total of the workbook's entries once uncompressed. */
  maxUncompressedBytes: number;
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** An OLE compound file: an encrypted (password-protected) workbook, or an old .xls. */
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export async function readTable(name: string, bytes: Buffer, options: DecodeOptions): Promise<Table> {
  const lower = name.toLowerCase();
  if (bytes.subarray(0, 8).equals(OLE))
    return { ok: false, problem: msg(lower.endsWith('.xls') ? 'files:problem.oldExcel' : 'files:problem.protected') };
  const { parse, detect, yauzl: zip } = await loadParsers();
  if (bytes.subarray(0, 4).equals(ZIP)) return readWorkbook(zip, bytes, options);
  if (/\.(xlsx|xlsm|xls|ods|numbers|docx|pdf|zip)$/.test(lower))
    return { ok: false, problem: msg('files:problem.notCsvOrExcel') };
  const text = decodeText(bytes, detect);
  if (text === null) return { ok: false, problem: msg('files:problem.notCsvOrExcel') };
  return readCsv(parse, text, options);
}

/** UTF-8 (with or without BOM), UTF-16 (BOM, or NULs every other byte), else the detected legacy encoding. */
export function decodeText(bytes: Buffer, detect: (sample: Uint8Array) => string | null): string | null {
  let text: string;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) text = bytes.subarray(3).toString('utf8');
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) text = iconv.decode(bytes.subarray(2), 'utf-16le');
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = iconv.decode(bytes.subarray(2), 'utf-16be');
  else {
    const sample = bytes.subarray(0, 4096);
    let evenNul = 0;
    let oddNul = 0;
    for (let i = 0; i < sample.length; i++) {
      if (sample[i] !== 0) continue;
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
    if (oddNul > sample.length / 4 && evenNul === 0) text = iconv.decode(bytes, 'utf-16le');
    else if (evenNul > sample.length / 4 && oddNul === 0) text = iconv.decode(bytes, 'utf-16be');
    else {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        const detected = detect(bytes.subarray(0, 64 * 1024));
        // chardet names ISO-8859-1 for most West European text; Windows-1252 is its superset (€, curly quotes).
        const encoding =
          !detected || /^ISO-8859-1$/i.test(detected) || !iconv.encodingExists(detected) ? 'windows-1252' : detected;
        text = iconv.decode(bytes, encoding);
      }
    }
  }
  // Control characters other than tab and line ends: a binary file, not text.
  const controls = (text.slice(0, 8192).match(/[\u0000-\u0008\u000e-\u001f]/g) ?? []).length;
  return controls > 0 ? null : text;
}

/** The delimiter that splits the first lines most evenly: comma, semicolon (Dutch Excel), tab or pipe. */
export function guessDelimiter(text: string): string {
  const lines = text
    .split(/\r\n|\n|\r/)
    .filter((l) => l.trim() !== '' && !/^version:/i.test(l.trim()))
    .slice(0, 20);
  let best = ',';
  let bestScore = -1;
  for (const candidate of [',', ';', '\t', '|']) {
    const perLine = lines.map((l) => l.replace(/"[^"]*"/g, '').split(candidate).length - 1);
    if (perLine.length === 0) continue;
    const lowest = Math.min(...perLine);
    const score =
      lowest > 0 ? lowest * 1000 + perLine.filter((n) => n === perLine[0]).length : perLine.filter((n) => n > 0).length;
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function readCsv(parse: typeof import('csv-parse/sync').parse, text: string, options: DecodeOptions): Table {
  try {
    const rows = parse(text, {
      delimiter: guessDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      to_line: options.maxRows + 10,
    }) as string[][];
    return { ok: true, kind: 'csv', rows };
  } catch {
    return { ok: false, problem: msg('files:problem.unreadableCsv') };
  }
}

/** Each entry inflated with its declared size enforced (yauzl stops a stream longer than declared), totals capped. */
async function checkZip(zipLib: typeof yauzl, bytes: Buffer, maxBytes: number): Promise<Msg | null> {
  return new Promise((resolve) => {
    zipLib.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return resolve(msg('files:problem.notCsvOrExcel'));
      let total = 0;
      let entries = 0;
      let workbook = false;
      const done = (problem: Msg | null): void => {
        zip.close();
        resolve(problem);
      };
      zip.on('error', () => done(msg('files:problem.notCsvOrExcel')));
      zip.on('end', () => done(workbook ? null : msg('files:problem.notCsvOrExcel')));
      zip.on('entry', (entry: yauzl.Entry) => {
        entries++;
        if (entry.fileName === 'xl/workbook.xml') workbook = true;
        if (entry.isEncrypted()) return done(msg('files:problem.protected'));
        total += entry.uncompressedSize;
        if (entries > 10_000 || total > maxBytes) return done(msg('files:problem.tooBigInside'));
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return done(msg('files:problem.notCsvOrExcel'));
          let read = 0;
          stream.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > maxBytes) stream.destroy(new Error('too large'));
          });
          // An entry longer than its declared size (a zip bomb that lies) is stopped by yauzl: "too many bytes".
          stream.on('error', (e: Error) =>
            done(
              msg(
                read > maxBytes || /too many bytes/i.test(e.message)
                  ? 'files:problem.tooBigInside'
                  : 'files:problem.notCsvOrExcel',
              ),
            ),
          );
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.readEntry();
    });
  });
}

/** A cell as text; formulas are refused (their value could be anything the sheet computes). */
function cellText(value: unknown): string | { formula: true } {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const v = value as {
      formula?: unknown;
      sharedFormula?: unknown;
      richText?: Array<{ text: string }>;
      text?: unknown;
      hyperlink?: unknown;
      error?: unknown;
    };
    if (v.formula !== undefined || v.sharedFormula !== undefined) return { formula: true };
    if (Array.isArray(v.richText))
      return v.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if (typeof v.text === 'string') return v.text.trim();
    if (typeof v.hyperlink === 'string') return v.hyperlink.replace(/^mailto:/i, '').trim();
  }
  return '';
}

async function readWorkbook(zipLib: typeof yauzl, bytes: Buffer, options: DecodeOptions): Promise<Table> {
  const zipProblem = await checkZip(zipLib, bytes, options.maxUncompressedBytes);
  if (zipProblem) return { ok: false, problem: zipProblem };
  // Loaded on the first workbook only: exceljs is large.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    return { ok: false, problem: msg('files:problem.notCsvOrExcel') };
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) return { ok: true, kind: 'xlsx', rows: [] };
  const rows: string[][] = [];
  let formulaAt: number | null = null;
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (formulaAt !== null || rows.length > options.maxRows + 10) return;
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => {
      const text = cellText(cell.value);
      if (typeof text !== 'string') formulaAt ??= rowNumber;
      else cells[col - 1] = text;
    });
    rows.push(Array.from(cells, (c) => c ?? ''));
  });
  if (formulaAt !== null) return { ok: false, problem: msg('files:problem.formula', { row: formulaAt }) };
  return { ok: true, kind: 'xlsx', rows };
}
