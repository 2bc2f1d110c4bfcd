import { strict as assert } from 'node:assert';
import { localizer } from '../../../src/i18n';
import { isOwnDomain, parseEmail } from '../../../src/domain/shared/email';

describe('parseEmail', () => {
  const valid: Array<[string, string]> = [
    ['pat.partner@adatum.com', 'pat.partner@adatum.com'],
    ['  Pat.Partner@ADATUM.com ', 'Pat.Partner@adatum.com'],
    ["o'brien+wiki@fabrikam.co.uk", "o'brien+wiki@fabrikam.co.uk"],
    ['jörg@bücher.de'.replace('jörg', 'joerg'), 'joerg@xn--bcher-kva.de'],
    ['a@b.io', 'a@b.io'],
  ];
  for (const [input, expected] of valid) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      const parsed = parseEmail(input);
      assert.equal(parsed.ok, true);
      if (parsed.ok) assert.equal(parsed.address, expected);
    });
  }

  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['no-at-sign', 'format'],
    ['two@@ats.com', 'format'],
    ['a@b@c.com', 'format'],
    ['@adatum.com', 'format'],
    ['pat@', 'format'],
    ['"quoted"@adatum.com', 'localPart'],
    ['pat..partner@adatum.com', 'localPart'],
    ['.pat@adatum.com', 'localPart'],
    ['pat partner@adatum.com', 'localPart'],
    ['pat@[192.168.0.1]', 'domain'],
    ['pat@localhost', 'domain'],
    ['pat@-adatum.com', 'domain'],
    ['pat@adatum.c', 'domain'],
    ['pat@adatum.123', 'domain'],
    [`${'a'.repeat(65)}@adatum.com`, 'localPart'],
    [`pat@${'a'.repeat(250)}.com`, 'tooLong'],
    ['<script>@adatum.com', 'localPart'],
  ];
  for (const [input, problem] of invalid) {
    it(`refuses ${JSON.stringify(input.slice(0, 40))} (${problem})`, () => {
      const parsed = parseEmail(input);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) {
        assert.equal(parsed.problem, problem);
        assert.ok(
          localizer().msg(parsed.message).length > 10 && !localizer().msg(parsed.message).startsWith('invite:'),
        );
      }
    });
  }
});

describe('isOwnDomain', () => {
  const verified = ['contoso.onmicrosoft.com', 'Contoso.com'];
  it('matches verified domains and their subdomains, case-insensitively', () => {
    assert.equal(isOwnDomain('contoso.com', verified), true);
    assert.equal(isOwnDomain('CONTOSO.COM', verified), true);
    assert.equal(isOwnDomain('eu.contoso.com', verified), true);
    assert.equal(isOwnDomain('contoso.onmicrosoft.com', verified), true);
  });
  it('does not match other domains that merely end alike', () => {
    assert.equal(isOwnDomain('notcontoso.com', verified), false);
    assert.equal(isOwnDomain('contoso.com.evil.example', verified), false);
    assert.equal(isOwnDomain('fabrikam.com', verified), false);
  });
});
