/**
 * The one email address parser. Strict on purpose: an address must be something Microsoft Entra B2B can
 * invite. RFC 5321 lengths, dot-atom local parts only (no quoted local parts, no IP literals, no comments),
 * internationalized domains normalized to their ASCII (punycode) form.
 */
import { domainToASCII } from 'node:url';

export type EmailProblem = 'empty' | 'tooLong' | 'format' | 'localPart' | 'domain';

export type ParsedEmail =
  | { ok: true; address: string; localPart: string; domain: string }
  | { ok: false; problem: EmailProblem; message: string };

const atext = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function fail(problem: EmailProblem, message: string): ParsedEmail {
  return { ok: false, problem, message };
}

export function parseEmail(input: string): ParsedEmail {
  const value = input.trim();
  if (!value) return fail('empty', 'Enter the guest’s email address.');
  if (value.length > 254) return fail('tooLong', 'That email address is too long (254 characters at most).');
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1 || value.indexOf('@') !== at) {
    return fail('format', 'That is not an email address. Use the form name@example.com.');
  }
  const localPart = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (localPart.length > 64) return fail('localPart', 'The part before @ is too long (64 characters at most).');
  if (localPart.split('.').some((atom) => !atext.test(atom))) {
    return fail('localPart', 'The part before @ has characters an invitation cannot use (no spaces, quotes, brackets or repeated dots).');
  }
  if (rawDomain.startsWith('[')) return fail('domain', 'Addresses with an IP address instead of a domain cannot be invited.');
  const domain = domainToASCII(rawDomain.toLowerCase());
  if (!domain || domain.length > 253) return fail('domain', `'${rawDomain}' is not a valid domain.`);
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => !label.test(l))) return fail('domain', `'${rawDomain}' is not a valid domain.`);
  const tld = labels[labels.length - 1];
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) return fail('domain', `'${rawDomain}' is not a valid domain.`);
  const address = `${localPart}@${domain}`;
  if (address.length > 254) return fail('tooLong', 'That email address is too long (254 characters at most).');
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
