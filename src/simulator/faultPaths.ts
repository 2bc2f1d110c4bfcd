import { versionSegments } from './pipeline';

/* Fault rules' path patterns, matched against the path after /v1.0, ignoring case and percent-encoding. */

type SegmentMatcher = '**' | RegExp;

/** Path segments after /v1.0, percent-decoded (a segment that is not valid percent-encoding is kept as it is). */
export function pathSegments(path: string): string[] {
  return versionSegments(path, (s) => s);
}

function isBatchEnvelope(segments: string[]): boolean {
  return segments.length === 1 && segments[0].toLowerCase() === '$batch';
}

/** One segment: `*` inside it stands for any characters. */
function segmentPattern(part: string): RegExp {
  const escaped = part.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 'i');
}

/** A rule's `path` as a test of a request's segments (`*` alone, `*` segments, `**`, `/$batch`). */
export function compilePattern(pattern: string): (segments: string[]) => boolean {
  const p = pattern.trim();
  if (p === '*') return (segments) => !isBatchEnvelope(segments);
  const parts = pathSegments(p.startsWith('/') ? p : `/${p}`);
  if (isBatchEnvelope(parts)) return isBatchEnvelope;
  const matchers: SegmentMatcher[] = parts.map((part) => (part === '**' ? '**' : segmentPattern(part)));
  const match = (m: number, s: number, segments: string[]): boolean => {
    if (m === matchers.length) return s === segments.length;
    const matcher = matchers[m];
    if (matcher === '**') {
      for (let k = s; k <= segments.length; k += 1) if (match(m + 1, k, segments)) return true;
      return false;
    }
    return s < segments.length && matcher.test(segments[s]) && match(m + 1, s + 1, segments);
  };
  return (segments) => !isBatchEnvelope(segments) && match(0, 0, segments);
}
