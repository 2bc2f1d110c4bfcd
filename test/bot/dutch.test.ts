/**
 * Dutch, chosen per user: every card rendered in Dutch is a valid Adaptive Card (the Adaptive Cards SDK's parser
 * and property validation), the commands work in Dutch (and English), replies follow the sender's locale, and
 * proactive cards follow the recipient's last known locale and time zone.
 */
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { CARD_NAMES, renderCardJson } from '../../src/bot/cards';
import { localizer } from '../../src/i18n';
import { cardSamples as sample } from '../support/cardSamples';
import { parseCommand } from '../../src/bot/commands';
import { problemText } from '../../src/bot/problemText';
import { problemFor, type ProblemKind } from '../../src/domain/admin/setupCheck';
import {
  actionData,
  cardId,
  cardOf,
  cardText,
  choices,
  createHarness,
  lastCard,
  textOf,
  users,
  type Harness,
} from '../support/botHarness';
import { validateLog } from '../support/graphContract';

interface ParseContext {
  eventCount: number;
  getEventAt(i: number): { message: string };
}
interface AdaptiveCards {
  AdaptiveCard: new () => {
    parse(json: unknown, context: ParseContext): void;
    validateProperties(): { failures?: Array<{ errors: Array<{ message: string }> }> };
  };
  SerializationContext: new () => ParseContext;
}
// The package's ES module build does not load in Node; its UMD bundle does.
const AC = createRequire(__filename)('adaptivecards/dist/adaptivecards.js') as AdaptiveCards;

/** What the Adaptive Cards SDK objects to in a card: unknown elements, invalid values, missing required properties. */
function cardProblems(json: unknown): string[] {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
  for (const failure of card.validateProperties().failures ?? [])
    problems.push(...failure.errors.map((e) => e.message));
  return problems;
}

/** Strings left in a rendered card that still look like template bindings or catalog keys. */
function leftovers(json: unknown): string[] {
  return cardText(json)
    .split(' | ')
    .filter((t) => /\$\{|^(?:common|cards|invite|requests|admin|bulk|guests):/.test(t));
}

describe('Dutch cards: every template rendered in Dutch is a valid Adaptive Card', () => {
  const nl = localizer({ locale: 'nl-NL', timeZone: 'Europe/Amsterdam' });
  const en = localizer({ locale: 'en-US' });
  for (const name of CARD_NAMES) {
    it(name, () => {
      const dutch = renderCardJson(name, sample(nl)[name], nl);
      assert.deepEqual(cardProblems(dutch), []);
      assert.deepEqual(leftovers(dutch), []);
      // The template's own texts come from the catalog: none of the English ones is left on the Dutch card.
      const english = renderCardJson(name, sample(en)[name], en);
      const dutchTexts = new Set(cardText(dutch).split(' | '));
      const stillEnglish = cardText(english)
        .split(' | ')
        .filter(
          (t) =>
            dutchTexts.has(t) &&
            /[a-z]{4,}/.test(t) &&
            !/Contoso|Wiki|Partner Portal|Guest Invite|adatum|Audit|App$|^Tenant$|^(?:true|false)$/.test(t),
        );
      assert.deepEqual(stillEnglish, []);
    });
  }

  it('the Adaptive Cards check finds a broken card (so the checks above can fail)', () => {
    assert.ok(
      cardProblems({
        type: 'AdaptiveCard',
        version: '1.5',
        body: [{ type: 'TextBlock', text: 'x', size: 'Enormous' }, { type: 'Nonsense' }],
      }).length >= 2,
    );
  });
});

describe('setup problems in the reader’s language', () => {
  const kinds: ProblemKind[] = [
    'invitesNotAllowed',
    'missingPermission',
    'groupDynamic',
    'groupSynced',
    'groupMailEnabled',
    'groupRoleAssignable',
    'groupNotSecurity',
    'groupNoOwners',
    'appNoUsableGroup',
  ];
  const app = { id: 'a1', displayName: 'Partner Portal' };
  const group = { id: 'g1', displayName: 'Portal Partners' };
  for (const kind of kinds) {
    it(`${kind}: English from the catalog is the use case's own text; Dutch is Dutch`, () => {
      const detail =
        kind === 'invitesNotAllowed' ? 'adminsAndGuestInviters' : kind === 'missingPermission' ? 'Policy.Read.All' : '';
      const problem = problemFor(
        kind,
        kind.startsWith('group') || kind === 'appNoUsableGroup' ? app : null,
        kind.startsWith('group') ? group : null,
        detail,
      );
      const english = problemText(localizer({ locale: 'en-US' }), problem);
      assert.deepEqual(english, { summary: problem.summary, fix: problem.fix });
      const dutch = problemText(localizer({ locale: 'nl-NL' }), problem);
      assert.equal(dutch.fix.length, problem.fix.length);
      assert.notEqual(dutch.summary, problem.summary);
      for (const step of dutch.fix) assert.ok(!problem.fix.includes(step), `not translated: ${step}`);
      if (detail) assert.ok(dutch.summary.includes(detail), dutch.summary);
    });
  }
});

describe('Dutch commands', () => {
  it('understands the Dutch commands, and the English ones still work', () => {
    const cases: Array<[string, string]> = [
      ['gast uitnodigen', 'invite'],
      ['gasten uitnodigen', 'inviteGuests'],
      ['Toegang aanvragen', 'request'],
      ['mijn aanvragen', 'myRequests'],
      ['openstaande aanvragen', 'pendingRequests'],
      ['configuratie controleren', 'setupCheck'],
      ['meldingen', 'alerts'],
      ['meldingen hier', 'alertsHere'],
      ['meldingen uit', 'alertsOff'],
      ['annuleren', 'cancel'],
      ['mijn gasten', 'myGuests'],
      ['Gastenrapport', 'guestReport'],
      ['my guests', 'myGuests'],
      ['help', 'help'],
      ['invite guest', 'invite'],
      ['setup check', 'setupCheck'],
      // The words the cards teach: the title “Configuratiecontrole”, Microsoft's “Opnieuw proberen”, “hulp”.
      ['Configuratiecontrole', 'setupCheck'],
      ['hulp', 'help'],
      ['Uw gasten', 'myGuests'],
      ['mijn toegangsaanvragen', 'myRequests'],
      ['openstaande configuratieproblemen', 'alerts'],
    ];
    assert.deepEqual(
      cases.map(([text]) => parseCommand(text)?.name),
      cases.map(([, name]) => name),
    );
    assert.deepEqual(parseCommand('configuratie controleren pagina 3'), { name: 'setupCheck', page: 3 });
    assert.deepEqual(parseCommand('bewerking herhalen invite:abc-1'), { name: 'retryOperation', id: 'invite:abc-1' });
    assert.deepEqual(parseCommand('Bewerking opnieuw proberen invite:abc-1'), {
      name: 'retryOperation',
      id: 'invite:abc-1',
    });
    assert.deepEqual(parseCommand('configuratiecontrole pagina 2'), { name: 'setupCheck', page: 2 });
    assert.deepEqual(parseCommand('toegang aanvragen voor Contoso Wiki'), {
      name: 'request',
      appQuery: 'Contoso Wiki',
    });
  });
});

describe('Dutch conversations (bot + domain + Graph client + simulator)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    assert.deepEqual(problems, []);
  });

  it('invites a guest in Dutch: every card in Dutch, the invitation email in nl-NL', async () => {
    const chat = h.chat(users.megan);
    chat.locale = 'nl-NL';
    const first = await chat.send('gast uitnodigen');
    const appCard = lastCard(first);
    assert.match(cardText(appCard), /Welke app wilt u delen met een externe gast\?/);
    assert.match(cardText(appCard), /dynamisch lidmaatschap/);
    const wiki = choices(appCard, 'appId').find((c) => c.title === 'Contoso Wiki')!;
    const groupTurn = await chat.submit({ ...actionData(appCard, 'Volgende'), appId: wiki.value }, cardId(first));
    const groupCard = lastCard(groupTurn);
    assert.match(cardText(groupCard), /Contoso Wiki geeft toegang via meerdere groepen/);
    const group = choices(groupCard, 'groupId').find((c) => c.title === 'Wiki Partner Readers')!;
    const detailsTurn = await chat.submit(
      { ...actionData(groupCard, 'Volgende'), groupId: group.value },
      cardId(groupTurn),
    );
    const details = lastCard(detailsTurn);
    assert.match(cardText(details), /De gast wordt lid van Wiki Partner Readers en krijgt toegang tot Contoso Wiki\./);
    assert.match(cardText(details), /E-mailadres van de gast/);

    const wrong = await chat.submit(
      { ...actionData(details, 'Controleren'), email: 'geen adres', message: '' },
      cardId(detailsTurn),
    );
    assert.match(textOf(wrong), /Dat is geen e-mailadres\./);
    const confirm = await chat.submit(
      { ...actionData(lastCard(wrong), 'Controleren'), email: 'pat.partner@adatum.com', message: '' },
      cardId(wrong),
    );
    const confirmCard = lastCard(confirm);
    assert.match(cardText(confirmCard), /Deze uitnodiging versturen\?/);
    assert.match(cardText(confirmCard), /Welkomstbericht: +\| \(geen\)/);

    const done = await chat.submit(actionData(confirmCard, 'Uitnodiging versturen'), cardId(confirm));
    const final = cardText(cardOf(done.updates[done.updates.length - 1]));
    assert.match(final, /Gast uitgenodigd/);
    assert.match(final, /pat\.partner@adatum\.com is uitgenodigd en toegevoegd aan Wiki Partner Readers\./);
    assert.doesNotMatch(final, /Guest invited|was invited/);

    const invitation = h.sim.requests().find((r) => r.method === 'POST' && /\/invitations$/.test(r.url));
    assert.deepEqual((invitation?.requestBody as { invitedUserMessageInfo?: unknown }).invitedUserMessageInfo, {
      messageLanguage: 'nl-NL',
    });
  });

  it('answers in the language of each turn; English commands work for a Dutch user; help, cancel and unknown text in Dutch', async () => {
    const chat = h.chat(users.megan);
    chat.locale = 'nl-BE';
    assert.match(textOf(await chat.send('help')), /gast uitnodigen .*Nodig iemand van buiten de organisatie uit/s);
    assert.match(textOf(await chat.send('invite guest')), /Welke app wilt u delen/);
    assert.match(textOf(await chat.send('annuleren')), /Geannuleerd\. Er is niets gewijzigd\./);
    assert.match(textOf(await chat.send('wat kun je?')), /Sorry, dat begreep ik niet\./);
    chat.locale = 'en-GB';
    assert.match(textOf(await chat.send('gast uitnodigen')), /Which app do you want to share/);
  });

  it('sends approval cards in each owner’s last known language and time zone; the requester hears back in theirs', async () => {
    const megan = h.chat(users.megan);
    megan.locale = 'nl-NL';
    megan.localTimezone = 'Europe/Amsterdam';
    await megan.send('help');
    const adele = h.chat(users.adele);
    const first = await adele.send('toegang aanvragen');
    assert.match(textOf(first), /Which app do you need\?/, 'Adele writes in English: the reply is English');
    const appCard = lastCard(first);
    const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses')!;
    const details = await adele.submit({ ...actionData(appCard, 'Next'), appId: expenses.value }, cardId(first));
    const confirm = await adele.submit(
      { ...actionData(lastCard(details), 'Review'), justification: 'Kwartaalcontrole' },
      cardId(details),
    );
    const sent = await adele.submit(actionData(lastCard(confirm), 'Send request'), cardId(confirm));
    assert.match(textOf(sent), /Request sent/);

    const meganCard = h.messenger.cardsFor(users.megan.aadObjectId)[0];
    const text = cardText(meganCard);
    assert.match(text, /Toegangsaanvraag/);
    assert.match(text, /Aangevraagd door: +\| Adele Vance/);
    assert.deepEqual(
      (meganCard.actions as Array<{ title: string }>).map((a) => a.title),
      ['Goedkeuren', 'Afwijzen'],
    );
    const alexCard = h.messenger.cardsFor(users.alex.aadObjectId)[0];
    assert.deepEqual(
      (alexCard.actions as Array<{ title: string }>).map((a) => a.title),
      ['Approve', 'Deny'],
      'Alex never spoke Dutch: English',
    );

    const [request] = await h.store.requests.listByRequester(
      '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      users.adele.aadObjectId,
      5,
    );
    const response = await megan.invoke('request.approve', { requestId: request.id, comment: 'Welkom' });
    assert.match(cardText(response), /Goedgekeurd door Megan Bowen op \d{1,2} [a-z]{3}\.? \d{4}/);
    assert.match(cardText(response), /Adele Vance is toegevoegd aan Expenses External Reviewers\./);
  });
});
