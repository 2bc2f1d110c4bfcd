import { strict as assert } from 'node:assert';
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
  type Turn,
  type UserChat,
} from '../../support/botHarness';
import { validateLog } from '../../support/graphContract';
import { isDirectoryWrite } from '../../support/graphLog';
import { FileServer } from '../../support/fileServer';
import {
  dutchWorkbook,
  entraTemplate,
  formulaWorkbook,
  longCsv,
  protectedWorkbook,
  zipBombWorkbook,
} from '../../support/guestFiles';

/** Picks Contoso Expenses (one group) on the app card the file led to; returns the turn with the review card. */
async function chooseExpenses(chat: UserChat, first: Turn, next = 'Next'): Promise<Turn> {
  const appCard = lastCard(first);
  const expenses = choices(appCard, 'appId').find((c) => c.title === 'Contoso Expenses')!;
  return chat.submit({ ...actionData(appCard, next), appId: expenses.value }, cardId(first));
}

type InvitationBody = {
  invitedUserEmailAddress: string;
  sendInvitationMessage: boolean;
  invitedUserMessageInfo?: { customizedMessageBody?: string; messageLanguage?: string };
};

describe('invite guests from a file sent in the 1:1 chat (Teams file download.info → review card → job)', () => {
  let h: Harness;
  let files: FileServer;
  beforeEach(async () => {
    files = await new FileServer().start();
    h = await createHarness({ files: { fetch: files.fetch } });
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    await files.close();
    assert.deepEqual(problems, []);
  });

  const invitations = (): InvitationBody[] =>
    h.sim
      .requests()
      .filter((r) => r.method === 'POST' && r.url.includes('/invitations'))
      .map((r) => r.requestBody as InvitationBody);

  it("Entra's bulk template with 25 rows, some with their own message and some without email: reviewed like a pasted list, each invited once as the row says", async () => {
    const chat = h.chat(users.megan);
    const { csv, rows } = entraTemplate(25);
    const first = await chat.sendFile(
      'BulkInviteUsersTemplate.csv',
      files.serve(csv, { contentType: 'text/csv' }),
      'invite guests',
    );
    assert.match(
      textOf(first),
      /I read 25 guests from BulkInviteUsersTemplate\.csv, 5 with their own welcome message, 4 without an invitation email/,
    );
    assert.ok(
      files.requests.every((r) => r.authorization === null),
      'the download URL is fetched without an Authorization header',
    );
    const reviewed = await chooseExpenses(chat, first);
    const review = lastCard(reviewed);
    const shown = cardText(review).replace(/\s+\|/g, ' |');
    assert.ok(shown.includes('Will be invited: | 25'), shown);
    assert.ok(shown.includes('Lines that cannot be used: | 0'), shown);
    assert.match(shown, /5 guests have their own welcome message.*4 guests get no invitation email/);
    assert.deepEqual(
      h.sim.requests().filter(isDirectoryWrite),
      [],
      'nothing is written before the review is confirmed',
    );

    await chat.submit(actionData(review, 'Send to 25 valid addresses'), cardId(reviewed));
    await h.background.drain(10_000);
    const counts = h.sim.invitationCounts();
    assert.deepEqual(
      rows.map((r) => counts[r.address]),
      rows.map(() => 1),
      'each row invited exactly once',
    );
    const sent = new Map(invitations().map((b) => [b.invitedUserEmailAddress, b]));
    for (const row of rows) {
      const body = sent.get(row.address)!;
      assert.equal(body.sendInvitationMessage, row.send, row.address);
      assert.equal(body.invitedUserMessageInfo?.customizedMessageBody, row.message ?? undefined, row.address);
    }
    const job = (await h.store.operations.listUnfinished(10, new Date(Date.now() + 86_400_000))).length;
    assert.equal(job, 0, 'the job finished');
  });

  it('a workbook with Dutch headers and 60 rows, in Dutch: the same review, then each guest invited once', async () => {
    const chat = h.chat(users.megan);
    chat.locale = 'nl-NL';
    const { bytes, addresses } = await dutchWorkbook(60);
    const first = await chat.sendFile('gastenlijst.xlsx', files.serve(bytes));
    assert.match(textOf(first), /Ik heb 60 gasten gelezen uit gastenlijst\.xlsx\. Kies de app en de groep/);
    const reviewed = await chooseExpenses(chat, first, 'Volgende');
    const review = lastCard(reviewed);
    const shown = cardText(review).replace(/\s+\|/g, ' |');
    assert.ok(shown.includes('Worden uitgenodigd: | 60'), shown);
    const list = JSON.stringify(review);
    assert.ok(
      list.includes('\\"Gast 1 van Dijk\\" <gast01@adatum.com>'),
      'the list card holds the names and addresses from the file',
    );
    await chat.submit(actionData(review, 'Versturen naar 60 geldige adressen'), cardId(reviewed));
    await h.background.drain(10_000);
    const counts = h.sim.invitationCounts();
    assert.deepEqual(
      addresses.map((a) => counts[a]),
      addresses.map(() => 1),
    );
    assert.ok(
      invitations().every((b) => b.sendInvitationMessage && b.invitedUserMessageInfo?.messageLanguage === 'nl-NL'),
    );
  });

  describe('hostile or unusable files: a clear answer, nothing invited', () => {
    const refusedWith = async (turn: Turn, pattern: RegExp): Promise<void> => {
      assert.match(textOf(turn), pattern);
      assert.equal(
        turn.replies.some((r) => cardOf(r) !== undefined),
        false,
        'no card to go on with',
      );
      assert.deepEqual(h.sim.requests().filter(isDirectoryWrite), []);
      assert.deepEqual(h.sim.invitationCounts(), {});
    };

    it('a 50 MB file is not read past the 2 MB cap, with or without Content-Length', async () => {
      const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
      const chat = h.chat(users.megan);
      await refusedWith(await chat.sendFile('big.csv', files.serve(big)), /larger than 2 MB/);
      await refusedWith(await chat.sendFile('big.csv', files.serve(big, { chunked: true })), /larger than 2 MB/);
    });

    it('a zip bomb .xlsx and a CSV with 100,000 rows', async () => {
      const chat = h.chat(users.megan);
      await refusedWith(
        await chat.sendFile('bomb.xlsx', files.serve(zipBombWorkbook(60))),
        /far more data than a guest list needs/,
      );
      await refusedWith(
        await chat.sendFile('all.csv', files.serve(longCsv(100_000))),
        /more than 100 guests, the most one list can hold/,
      );
    });

    it('a URL on another host, a redirect to another host, an http URL: never fetched', async () => {
      const chat = h.chat(users.megan);
      const csv = entraTemplate(3).csv;
      await refusedWith(
        await chat.sendFile('list.csv', files.serve(csv, { host: 'files.evil.example' })),
        /only open files that Teams stores in your organization’s OneDrive or SharePoint/,
      );
      await refusedWith(
        await chat.sendFile('list.csv', files.serve(csv, { redirectTo: 'https://files.evil.example/x.csv' })),
        /only open files/,
      );
      await refusedWith(
        await chat.sendFile('list.csv', files.serve(csv).replace('https:', 'http:')),
        /only open files/,
      );
      assert.ok(!files.requests.some((r) => r.host === 'files.evil.example'), 'no request left for the other host');
    });

    it('an expired download URL', async () => {
      const chat = h.chat(users.megan);
      const url = files.serve(entraTemplate(3).csv, { ttlMs: 60 * 60_000 });
      files.now += 61 * 60_000;
      await refusedWith(await chat.sendFile('list.csv', url), /link to this file has expired.*Send the file again/);
    });

    it('formula cells, a protected workbook, a file with no address column, in English and Dutch', async () => {
      const chat = h.chat(users.megan);
      await refusedWith(
        await chat.sendFile('f.xlsx', files.serve(await formulaWorkbook())),
        /Row 3 has a formula.*Paste Special > Values/,
      );
      await refusedWith(await chat.sendFile('s.xlsx', files.serve(protectedWorkbook())), /protected with a password/);
      chat.locale = 'nl-NL';
      await refusedWith(
        await chat.sendFile('n.csv', files.serve(Buffer.from('Naam,Bedrijf\nAnn,Adatum\n'))),
        /geen kolom met e-mailadressen gevonden/,
      );
      await refusedWith(await chat.sendFile('f.xlsx', files.serve(await formulaWorkbook())), /Rij 3 bevat een formule/);
    });

    it('a file in a group chat is not taken', async () => {
      const chat = h.chat(users.megan);
      await refusedWith(
        await chat.sendFile('list.csv', files.serve(entraTemplate(3).csv), undefined, 'groupChat'),
        /only in our 1:1 chat/,
      );
      assert.equal(files.requests.length, 0, 'not downloaded');
    });
  });
});
