import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parseAddressList, splitEntries } from '../../../src/domain/bulk/addresses';
import { parseEmail } from '../../../src/domain/shared/email';

const own = ['contoso.com', 'contoso.onmicrosoft.com'];

describe('parseAddressList', () => {
  it('takes lines, commas, semicolons and Name <address>, and says what is wrong with each bad line', () => {
    const text = [
      'pat@adatum.com, "Partner, Jo" <jo@fabrikam.com>; Kim Lee <KIM@Fabrikam.COM>',
      'not-an-address',
      'megan@contoso.com',
      'sales@eu.contoso.com',
      'pat@ADATUM.com',
      '',
      '  mailto:sam@tailspin.io  ',
    ].join('\n');
    const list = parseAddressList(text, { max: 100, ownDomains: own });
    assert.deepEqual(
      list.valid.map((e) => [e.address, e.displayName]),
      [
        ['pat@adatum.com', null],
        ['jo@fabrikam.com', 'Partner, Jo'],
        ['KIM@fabrikam.com', 'Kim Lee'],
        ['sam@tailspin.io', null],
      ],
    );
    assert.deepEqual(
      list.invalid.map((e) => [e.position, e.problem]),
      [
        [4, 'syntax'],
        [5, 'ownDomain'],
        [6, 'ownDomain'],
        [7, 'duplicate'],
      ],
    );
    assert.equal(list.total, 8);
  });

  it('refuses the entries past the maximum', () => {
    const text = Array.from({ length: 5 }, (_, i) => `g${i}@adatum.com`).join(';');
    const list = parseAddressList(text, { max: 3, ownDomains: own });
    assert.equal(list.valid.length, 3);
    assert.deepEqual(
      list.invalid.map((e) => e.problem),
      ['overLimit', 'overLimit'],
    );
  });

  it('fuzz: never throws; every valid address is accepted by the strict parser, unique, and not of an own domain; every entry is accounted for once', () => {
    const piece = fc.oneof(
      fc.emailAddress(),
      fc.emailAddress().map((a) => `Some Name <${a}>`),
      fc.string({ maxLength: 40 }),
      fc.constantFrom('x@contoso.com', 'a@b', '<>', '"a,b" <c@d.io>', ',,;', '\r\n'),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        fc.constantFrom('\n', ',', ';', ' ; ', '\r\n'),
        fc.integer({ min: 1, max: 40 }),
        (pieces, separator, max) => {
          const text = pieces.join(separator);
          const list = parseAddressList(text, { max, ownDomains: own });
          assert.equal(list.valid.length + list.invalid.length, list.total);
          assert.equal(list.total, splitEntries(text).length);
          assert.ok(list.valid.length <= max);
          const seen = new Set<string>();
          for (const entry of list.valid) {
            const parsed = parseEmail(entry.address!);
            assert.ok(parsed.ok, entry.address!);
            assert.equal(parsed.ok && parsed.address, entry.address);
            assert.ok(!/contoso\.(com|onmicrosoft\.com)$/i.test(entry.address!));
            assert.ok(!seen.has(entry.address!.toLowerCase()));
            seen.add(entry.address!.toLowerCase());
          }
          const positions = [...list.valid, ...list.invalid].map((e) => e.position).sort((a, b) => a - b);
          assert.deepEqual(
            positions,
            Array.from({ length: list.total }, (_, i) => i + 1),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fuzz: a list of distinct valid addresses comes back whole and in order, whatever the separators', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.emailAddress(), { maxLength: 40, selector: (a) => a.toLowerCase() }),
        fc.array(fc.constantFrom('\n', ',', ';', ', ', ';\n'), { minLength: 40, maxLength: 40 }),
        (addresses, seps) => {
          const usable = addresses.filter((a) => {
            const p = parseEmail(a);
            return p.ok && !/contoso\.(com|onmicrosoft\.com)$/i.test(p.address);
          });
          const normalized = usable.map((a) => (parseEmail(a) as { address: string }).address);
          if (new Set(normalized.map((a) => a.toLowerCase())).size !== normalized.length) return;
          const text = usable.map((a, i) => a + seps[i]).join('');
          const list = parseAddressList(text, { max: 100, ownDomains: own });
          assert.deepEqual(
            list.valid.map((e) => e.address),
            normalized,
          );
          assert.equal(list.invalid.length, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
