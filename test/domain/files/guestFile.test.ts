import { strict as assert } from 'node:assert';
import { readGuestFile, headerRole, asListText } from '../../../src/domain/files/guestFile';
import { detect } from 'chardet';
import { decodeText, guessDelimiter } from '../../../src/domain/files/decode';
import { parseAddressList } from '../../../src/domain/bulk/addresses';
import {
  dutchWorkbook,
  encoded,
  entraTemplate,
  formulaWorkbook,
  longCsv,
  protectedWorkbook,
  zipBombWorkbook,
} from '../../support/guestFiles';

const options = { maxRows: 100, maxUncompressedBytes: 20 * 1024 * 1024 };

describe('guest list files: reading CSV and Excel (csv-parse, iconv-lite, chardet, exceljs, yauzl)', () => {
  it("Entra's bulk invitation template as it is: version line skipped, per-row message and send flag kept", async () => {
    const { csv, rows } = entraTemplate(25);
    const read = await readGuestFile('BulkInvite.csv', csv, options);
    assert.ok(read.ok);
    assert.equal(read.guests.length, 25);
    assert.deepEqual(
      read.guests.map((g) => ({ address: g.address, message: g.message, send: g.send })),
      rows,
    );
    assert.equal(read.guests[0].row, 3, 'rows are numbered as in the file');
  });

  it('a workbook with Dutch headers: the first sheet, names from Naam, addresses from E-mailadres', async () => {
    const { bytes, addresses } = await dutchWorkbook(60);
    const read = await readGuestFile('gasten.xlsx', bytes, options);
    assert.ok(read.ok);
    assert.equal(read.kind, 'xlsx');
    assert.deepEqual(
      read.guests.map((g) => g.address),
      addresses,
    );
    assert.equal(read.guests[0].name, 'Gast 1 van Dijk');
    assert.ok(read.guests.every((g) => g.send && g.message === null));
  });

  it('headers in English and Dutch, and Entra tags', () => {
    for (const h of [
      'Email',
      'E-mail',
      'Mail',
      'E-mailadres',
      'Emailadres',
      'Email address to invite [inviteeEmail] Required',
      'E-mailadres (verplicht)',
    ])
      assert.equal(headerRole(h), 'address', h);
    for (const h of ['Name', 'Naam', 'Display name', 'Weergavenaam']) assert.equal(headerRole(h), 'name', h);
    assert.equal(headerRole('Send invitation message (true or false) [sendEmail]'), 'send');
    assert.equal(headerRole('Customized invitation message [customizedMessageBody]'), 'message');
    assert.equal(headerRole('Welkomstbericht'), 'message');
    assert.equal(headerRole('Redirection url [inviteRedirectURL] Required'), null);
    assert.equal(headerRole('Organisatie'), null);
  });

  it('encodings: UTF-8 with BOM, UTF-16 with BOM (tabs), Windows-1252 (semicolons); quoted fields keep their delimiters', async () => {
    const text = 'Naam;E-mailadres\r\n"Müller; Jürgen";jurgen@adatum.com\r\nHélène Côté;helene@adatum.com\r\n';
    for (const [bytes, name] of [
      [encoded(text, 'windows-1252'), 'w1252.csv'],
      [encoded(text, 'utf-8-bom'), 'bom.csv'],
      [encoded(text.replace(/;/g, '\t').replace('"Müller\t Jürgen"', '"Müller; Jürgen"'), 'utf-16le'), 'unicode.txt'],
      [Buffer.from(text, 'utf8'), 'plain.csv'],
    ] as const) {
      const read = await readGuestFile(name, bytes, options);
      assert.ok(read.ok, name);
      assert.deepEqual(
        read.guests.map((g) => [g.name, g.address]),
        [
          ['Müller; Jürgen', 'jurgen@adatum.com'],
          ['Hélène Côté', 'helene@adatum.com'],
        ],
        name,
      );
    }
    assert.equal(decodeText(encoded('Hélène €5', 'windows-1252'), detect), 'Hélène €5');
    assert.equal(guessDelimiter('a|b|c\n1|2|3'), '|');
  });

  it('without a header, the column where most cells are addresses', async () => {
    const csv = Buffer.from('Ann,ann@adatum.com,Sales\nBo,bo@adatum.com,x@y\nCy,cy@adatum.com,\n', 'utf8');
    const read = await readGuestFile('list.csv', csv, options);
    assert.ok(read.ok);
    assert.deepEqual(
      read.guests.map((g) => g.address),
      ['ann@adatum.com', 'bo@adatum.com', 'cy@adatum.com'],
    );
  });

  it('the list text goes through the same parser as a pasted list, names included', async () => {
    const read = await readGuestFile(
      'gasten.csv',
      Buffer.from('Naam,Email\n"Jansen, Piet",piet@adatum.com\n<odd> "name",odd@adatum.com\n', 'utf8'),
      options,
    );
    assert.ok(read.ok);
    const parsed = parseAddressList(asListText(read.guests), { max: 100, ownDomains: ['contoso.com'] });
    assert.deepEqual(
      parsed.valid.map((e) => [e.displayName, e.address]),
      [
        ['Jansen Piet', 'piet@adatum.com'],
        ['odd name', 'odd@adatum.com'],
      ],
    );
  });

  describe('files that are refused, each with what to do', () => {
    const problem = async (name: string, bytes: Buffer, max = 100): Promise<string> => {
      const read = await readGuestFile(name, bytes, { ...options, maxRows: max });
      assert.ok(!read.ok, `${name} should be refused`);
      return read.problem.key;
    };

    it('more rows than BULK_INVITE_MAX (a CSV of 100,000 addresses)', async () => {
      assert.equal(await problem('huge.csv', longCsv(100_000)), 'files:problem.tooManyRows');
      assert.ok((await readGuestFile('ok.csv', longCsv(100), options)).ok, 'exactly the limit is fine');
    });

    it('a zip bomb: a workbook whose sheet inflates past the cap, declared honestly or not', async () => {
      assert.equal(await problem('bomb.xlsx', zipBombWorkbook(40)), 'files:problem.tooBigInside');
      assert.equal(await problem('liar.xlsx', zipBombWorkbook(40, true)), 'files:problem.tooBigInside');
    });

    it('formulas, in a workbook or as a CSV cell', async () => {
      assert.equal(await problem('formula.xlsx', await formulaWorkbook()), 'files:problem.formula');
      assert.equal(
        await problem('formula.csv', Buffer.from('Email\n"=HYPERLINK(""http://x"",""a@adatum.com"")"\n')),
        'files:problem.formula',
      );
    });

    it('a password-protected workbook, an old .xls, something that is not a list', async () => {
      assert.equal(await problem('secret.xlsx', protectedWorkbook()), 'files:problem.protected');
      assert.equal(await problem('old.xls', protectedWorkbook()), 'files:problem.oldExcel');
      assert.equal(
        await problem(
          'photo.png',
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
        ),
        'files:problem.notCsvOrExcel',
      );
      assert.equal(await problem('report.pdf', Buffer.from('%PDF-1.7\n')), 'files:problem.notCsvOrExcel');
    });

    it('no address column, an empty one, a send flag that is neither true nor false', async () => {
      assert.equal(
        await problem('names.csv', Buffer.from('Name,Company\nAnn,Adatum\n')),
        'files:problem.noAddressColumn',
      );
      assert.equal(await problem('empty.csv', Buffer.from('Email,Name\n,Ann\n')), 'files:problem.empty');
      const bad =
        'Email address to invite [inviteeEmail] Required,Send invitation message (true or false) [sendEmail]\na@adatum.com,maybe\n';
      assert.equal(await problem('bad.csv', Buffer.from(bad)), 'files:problem.sendValue');
    });
  });
});
