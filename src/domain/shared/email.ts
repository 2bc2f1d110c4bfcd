/**
 * The one email address parser. Strict on purpose: an address must be something Microsoft Entra B2B can
 * invite. RFC 5321 lengths, dot-atom local parts only (no quoted local parts, no IP literals, no comments),
 * internationalized domains normalized to their ASCII (punycode) form.
 */
import { domainToASCII } from 'node:url';
import { msg, type Msg } from './message';

export type EmailProblem = 'empty' | 'tooLong' | 'format' | 'localPart' | 'domain';

export type ParsedEmail =
  { ok: true; address: string; localPart: string; domain: string } | { ok: false; problem: EmailProblem; message: Msg };

const atext = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function fail(problem: EmailProblem, message: Msg): ParsedEmail {
  return { ok: false, problem, message };
}

export function parseEmail(input: string): ParsedEmail {
  const value = input.trim();
  if (!value) return fail('empty', msg('invite:email.empty'));
  if (value.length > 254) return fail('tooLong', msg('invite:email.tooLong', { max: 254 }));
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1 || value.indexOf('@') !== at) {
    return fail('format', msg('invite:email.format'));
  }
  const localPart = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (localPart.length > 64) return fail('localPart', msg('invite:email.localPartTooLong', { max: 64 }));
  if (localPart.split('.').some((atom) => !atext.test(atom))) {
    return fail('localPart', msg('invite:email.localPartCharacters'));
  }
  if (rawDomain.startsWith('[')) return fail('domain', msg('invite:email.ipLiteral'));
  const domain = domainToASCII(rawDomain.toLowerCase());
  if (!domain || domain.length > 253) return fail('domain', msg('invite:email.domain', { domain: rawDomain }));
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => !label.test(l)))
    return fail('domain', msg('invite:email.domain', { domain: rawDomain }));
  const tld = labels[labels.length - 1];
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld))
    return fail('domain', msg('invite:email.domain', { domain: rawDomain }));
  const address = `${localPart}@${domain}`;
  if (address.length > 254) return fail('tooLong', msg('invite:email.tooLong', { max: 254 }));
  return { ok: true, address, localPart, domain };
}

/** True when `domain` is one of `verified` or a subdomain of one. */
export function isOwnDomain(domain: string, verified: readonly string[]): boolean {
  const d = domain.toLowerCase();
  return verified.some((v) => {
    const own = v.toLowerCase();
    return d === own || d.endsWith(`.${own}`);
  });
}
