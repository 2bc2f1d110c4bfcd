/**
 * Text is text: names from the directory (display names, group and app names) and what users type are shown
 * without markdown effect in every card and every catalog message, in English and Dutch. Teams renders message
 * text and Adaptive Card TextBlocks and facts as markdown, so a group renamed to `[Admin consent needed](https://…)`
 * must not become a link on a card from the bot.
 */
import { strict as assert } from 'node:assert';
import { CARD_NAMES, renderCardJson, type CardData } from '../../src/bot/cards';
import { localizer, readCatalogs, type Localizer } from '../../src/i18n';
import { escapeMarkdown } from '../../src/i18n/markdown';
import { msg } from '../../src/domain/shared/message';
import { HOSTILE, effectsFromData, markdownTexts } from '../support/markdownCheck';
import { cardSamples } from '../support/cardSamples';

/** Every string in a value replaced by HOSTILE (ids, verbs and styles included: whatever data goes anywhere). */
function allHostile(value: unknown): unknown {
  if (typeof value === 'string') return HOSTILE;
  if (Array.isArray(value)) return value.map(allHostile);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, allHostile(v)]));
  return value;
}

const sample = (l: Localizer, H: string): ReturnType<typeof cardSamples> => cardSamples(l, () => H);

describe('text from users and the directory has no markdown effect', () => {
  it('the escaping is idempotent and leaves plain text alone', () => {
    assert.equal(escapeMarkdown('Contoso Wiki'), 'Contoso Wiki');
    assert.equal(escapeMarkdown(escapeMarkdown(HOSTILE)), escapeMarkdown(HOSTILE));
    assert.equal(escapeMarkdown('**x**'), '\\*\\*x\\*\\*');
    assert.deepEqual(effectsFromData(HOSTILE).length, 10, 'the checker sees every effect in the raw text');
  });

  for (const locale of ['en-US', 'nl-NL']) {
    const l = localizer({ locale, timeZone: 'Europe/Amsterdam' });
    for (const name of CARD_NAMES) {
      it(`${locale} card ${name}: hostile names bound into it, through catalog messages or directly`, () => {
        for (const data of [sample(l, HOSTILE)[name], allHostile(sample(l, 'x')[name]) as CardData[typeof name]]) {
          const card = renderCardJson(name, data, l);
          const texts = markdownTexts(card);
          for (const text of texts) assert.deepEqual(effectsFromData(text), [], text);
          assert.ok(!JSON.stringify(card).includes('\\uE000'), 'no marker left in the card');
        }
      });
    }
    it(`${locale} card inputs and choices keep the value as typed (not escaped)`, () => {
      const card = renderCardJson(
        'invite-details',
        { ...sample(l, 'x')['invite-details'], email: 'first_last@adatum.com', message: '**hi**' },
        l,
      );
      const json = JSON.stringify(card);
      assert.ok(json.includes('"first_last@adatum.com"'), json);
      assert.ok(json.includes('"**hi**"'), json);
    });

    it(`${locale}: every catalog message with hostile values in every placeholder`, () => {
      const catalogs = readCatalogs();
      const lang = locale.slice(0, 2) as 'en' | 'nl';
      let checked = 0;
      const walk = (area: string, prefix: string, node: unknown): void => {
        if (typeof node === 'string') {
          const params: Record<string, string | number> = {};
          for (const m of node.matchAll(/\{\s*(\w+)\s*(,\s*(\w+))?/g))
            params[m[1]] = m[3] === 'plural' || m[3] === 'number' || m[3] === 'selectordinal' ? 1 : HOSTILE;
          if (Object.keys(params).length === 0) return;
          const text = l.t(`${area}:${prefix}`, params);
          assert.deepEqual(effectsFromData(text), [], `${area}:${prefix} → ${text}`);
          checked++;
          return;
        }
        if (node && typeof node === 'object')
          for (const [k, v] of Object.entries(node)) walk(area, prefix ? `${prefix}.${k}` : k, v);
      };
      for (const [area, tree] of Object.entries(catalogs[lang])) walk(area, '', tree);
      assert.ok(checked > 50, `${checked} messages with placeholders`);
    });

    it(`${locale}: a nested catalog message keeps its own formatting, its values escaped`, () => {
      const text = l.t('bulk:review.line', { position: 4, entry: HOSTILE, reason: msg('bulk:problem.ownDomain') });
      assert.deepEqual(effectsFromData(text), []);
    });
  }
});
