/** Hostile text and a check for markdown effects that could only have come from it (see docs/security.md). */

export const HOSTILE =
  '[Admin consent needed](https://evil.example/consent) **bold** <at>Megan</at> _x_\n# h `code` https://evil.example/x www.evil.example\n- item\n1. first';

/** Markdown effects that could only come from HOSTILE: links, emphasis, mentions, headings, code, autolinks, lists. */
export function effectsFromData(text: string): string[] {
  const plain = text.replace(/\\[!-/:-@[-`{-~]/g, '\u0000');
  const found: string[] = [];
  if (/\]\(https:/.test(plain)) found.push('link');
  if (/\*\*bold\*\*/.test(plain)) found.push('bold');
  if (/<at>/i.test(plain)) found.push('mention');
  if (/(?:^|\s)_x_/.test(plain)) found.push('italic');
  if (/(?:^|\n)\s*# h/.test(plain)) found.push('heading');
  if (/`code`/.test(plain)) found.push('code');
  if (/https:\/\/evil/.test(plain)) found.push('autolink');
  if (/www\.evil/.test(plain)) found.push('www autolink');
  if (/(?:^|\n)\s*- item/.test(plain)) found.push('list');
  if (/(?:^|\n)\s*1\. first/.test(plain)) found.push('ordered list');
  return found;
}

/** The texts of a card that Teams renders as markdown: TextBlock text and FactSet titles and values. */
export function markdownTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => markdownTexts(n, out));
  else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (n.type === 'TextBlock' && typeof n.text === 'string') out.push(n.text);
    if (n.type === 'FactSet' && Array.isArray(n.facts))
      for (const f of n.facts as Array<Record<string, unknown>>) out.push(String(f.title), String(f.value));
    Object.values(n).forEach((v) => markdownTexts(v, out));
  }
  return out;
}
