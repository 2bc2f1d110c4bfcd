import { strict as assert } from 'node:assert';
import type { Activity } from 'botbuilder';
import { parse } from 'csv-parse/sync';
import {
  cardText,
  createHarness,
  groups,
  lastCard,
  apps,
  TENANT_ID,
  textOf,
  users,
  type Harness,
  type Turn,
  type UserChat,
} from '../../support/botHarness';
import { FileServer, type UploadSession } from '../../support/fileServer';

const CONSENT = 'application/vnd.microsoft.teams.card.file.consent';
const INFO = 'application/vnd.microsoft.teams.card.file.info';

type Consent = {
  name: string;
  content: { description: string; sizeInBytes: number; acceptContext: unknown; declineContext: unknown };
};

function consentOf(turn: Turn): Consent {
  const attachment = turn.replies
    .flatMap((r: Partial<Activity>) => r.attachments ?? [])
    .find((a) => a.contentType === CONSENT);
  assert.ok(attachment, 'a file consent card was sent');
  return attachment as unknown as Consent;
}

async function record(
  h: Harness,
  groupId: string,
  appId: string,
  appName: string,
  groupName: string,
  n: number,
  guest: { email: string; name: string; redemption: string },
): Promise<void> {
  await h.store.guests.recordAdded(
    {
      tenantId: TENANT_ID,
      groupId,
      guestId: `guest-${groupId.slice(-2)}-${n}`,
      guestEmail: guest.email,
      guestName: guest.name,
      appId,
      appName,
      groupName,
      invitedBy: users.megan.aadObjectId,
      invitedByName: 'Megan Bowen',
      how: 'invite',
      operationId: `op-${groupId.slice(-2)}-${n}`,
      sponsorIds: [users.megan.aadObjectId],
      sponsorInEntra: false,
      redemption: guest.redemption,
    },
    new Date('2026-11-02T10:00:00Z'),
  );
}

/** Accepts the consent card with a fresh upload session; returns the turn and the uploaded CSV's rows. */
async function accept(
  chat: UserChat,
  files: FileServer,
  consent: Consent,
): Promise<{ turn: Turn; session: UploadSession; rows: string[][] }> {
  const session = files.uploadSession(consent.name);
  const turn = await chat.fileConsent('accept', consent.content.acceptContext, { ...session });
  const uploaded = files.uploaded(session);
  assert.ok(uploaded, 'the file was uploaded');
  assert.deepEqual([...uploaded.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a byte order mark, for Excel');
  return { turn, session, rows: parse(uploaded, { bom: true }) as string[][] };
}

describe('export the guest list as a CSV file (file consent card → fileConsent/invoke → upload → file info card)', () => {
  let h: Harness;
  let files: FileServer;
  beforeEach(async () => {
    files = await new FileServer().start();
    h = await createHarness({ adminUserIds: [users.patti.aadObjectId], files: { fetch: files.fetch } });
    for (let i = 0; i < 3; i++)
      await record(h, groups.expenses, apps.expenses, 'Contoso Expenses', 'Expenses External Reviewers', i, {
        email: `e${i}@adatum.com`,
        name: `Exp Guest ${i}`,
        redemption: i === 0 ? 'Accepted' : 'PendingAcceptance',
      });
    await record(h, groups.wikiReaders, apps.wiki, 'Contoso Wiki', 'Wiki Partner Readers', 0, {
      email: 'w0@fabrikam.com',
      name: '=HYPERLINK("http://evil")',
      redemption: 'PendingAcceptance',
    });
    await record(h, groups.sales, apps.sales, 'Sales Insights', 'Sales Insights External', 0, {
      email: 's0@fabrikam.com',
      name: '+31 Partner',
      redemption: 'Accepted',
    });
    await record(h, groups.sales, apps.sales, 'Sales Insights', 'Sales Insights External', 1, {
      email: 'gone@fabrikam.com',
      name: 'Gone',
      redemption: 'Accepted',
    });
    const gone = (await h.store.guests.get({
      tenantId: TENANT_ID,
      groupId: groups.sales,
      guestId: `guest-${groups.sales.slice(-2)}-1`,
    }))!;
    await h.store.guests.update(
      gone,
      gone.version,
      { removedAt: '2026-11-20T10:00:00.000Z', removedBy: users.lee.aadObjectId },
      new Date(),
    );
  });
  afterEach(async () => {
    await h.close();
    await files.close();
  });

  it('admin: Export on the guest report → consent → accept → one row per guest the report counts, ISO dates, formulas neutralised; the file info card follows', async () => {
    const patti = h.chat(users.patti);
    const reportCard = lastCard(await patti.send('guest report'));
    assert.match(JSON.stringify(reportCard), /"report\.export"/, 'the report offers Export');
    const report = cardText(reportCard);
    const counted = [...report.matchAll(/Guests: (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(counted, 5);
    const consent = consentOf(await patti.submit({ verb: 'report.export' }));
    assert.match(consent.name, /^guests-\d{4}-\d{2}-\d{2}\.csv$/);
    assert.match(consent.content.description, /5 rows/);
    assert.equal(files.requests.length, 0, 'nothing uploaded before the user accepts');

    const { turn, session, rows } = await accept(patti, files, consent);
    assert.equal(
      turn.replies.find((r) => r.type === 'invokeResponse')?.value &&
        (turn.replies.find((r) => r.type === 'invokeResponse')!.value as { status: number }).status,
      200,
    );
    const info = turn.replies.flatMap((r) => r.attachments ?? []).find((a) => a.contentType === INFO);
    assert.ok(info, 'the file info card');
    assert.equal(info.contentUrl, session.contentUrl);
    assert.deepEqual(info.content, { uniqueId: session.uniqueId, fileType: 'csv' });
    const put = files.requests.find((r) => r.method === 'PUT')!;
    assert.match(put.contentRange ?? '', /^bytes 0-\d+\/\d+$/);

    const [header, ...body] = rows;
    assert.deepEqual(header, [
      'Guest',
      'Email address',
      'App',
      'Group',
      'Invited by',
      'Invited at',
      'State',
      'State since',
      'Sponsors',
      'Next review',
    ]);
    assert.equal(body.length, counted, 'one row per guest the report counts (the removed guest is not one)');
    const byAddress = new Map(body.map((r) => [r[1], r]));
    assert.equal(byAddress.get('w0@fabrikam.com')![0], `'=HYPERLINK("http://evil")`);
    assert.equal(byAddress.get('s0@fabrikam.com')![0], `'+31 Partner`);
    const e0 = byAddress.get('e0@adatum.com')!;
    assert.deepEqual(
      [e0[2], e0[3], e0[4], e0[5], e0[6], e0[8]],
      [
        'Contoso Expenses',
        'Expenses External Reviewers',
        'Megan Bowen',
        '2026-11-02T10:00:00.000Z',
        'accepted',
        users.megan.aadObjectId,
      ],
    );
    assert.equal(e0[9], '2027-01-31T10:00:00.000Z', 'next review: 90 days after the guest was added');
    assert.equal(byAddress.get('e1@adatum.com')![6], 'pending');
  });

  it('in Dutch: headers and states in the reader’s language', async () => {
    const patti = h.chat(users.patti);
    patti.locale = 'nl-NL';
    const consent = consentOf(await patti.submit({ verb: 'report.export' }));
    assert.match(consent.name, /^gasten-/);
    const { rows } = await accept(patti, files, consent);
    assert.deepEqual(rows[0], [
      'Gast',
      'E-mailadres',
      'App',
      'Groep',
      'Uitgenodigd door',
      'Uitgenodigd op',
      'Status',
      'Status sinds',
      'Sponsors',
      'Volgende beoordeling',
    ]);
    assert.equal(rows.length - 1, 5);
    assert.ok(rows.some((r) => r[6] === 'in afwachting') && rows.some((r) => r[6] === 'geaccepteerd'));
  });

  it('decline uploads nothing', async () => {
    const patti = h.chat(users.patti);
    const consent = consentOf(await patti.submit({ verb: 'report.export' }));
    const turn = await patti.fileConsent('decline', consent.content.declineContext);
    assert.match(textOf(turn), /Nothing was exported/);
    assert.equal(files.requests.length, 0);
    assert.equal(files.uploads, 0);
  });

  it('owner: Export on my guests holds only the groups they own; who asks is checked again on accept', async () => {
    const lee = h.chat(users.lee);
    const guests = lastCard(await lee.send('my guests'));
    assert.match(JSON.stringify(guests), /"guests\.export"/, 'my guests offers Export');
    const consent = consentOf(await lee.submit({ verb: 'guests.export' }));
    const { rows } = await accept(lee, files, consent);
    assert.deepEqual(
      rows
        .slice(1)
        .map((r) => r[1])
        .sort(),
      ['s0@fabrikam.com', 'w0@fabrikam.com'],
    );

    // Lee is no admin: the report's export is refused, and a consent answer claiming it uploads nothing.
    assert.match(cardText(lastCard(await lee.submit({ verb: 'report.export' }))), /for admins/);
    const before = files.uploads;
    const forged = await lee.fileConsent('accept', { kind: 'admin' }, { ...files.uploadSession('forged.csv') });
    assert.match(textOf(forged), /no longer valid/);
    assert.equal(files.uploads, before);
  });

  it('in a group chat no consent card goes out (bot files are personal scope only)', async () => {
    const patti = h.chat(users.patti);
    const base = patti.activity({ text: undefined, value: { verb: 'report.export' } });
    const turn = await patti.deliver({
      ...base,
      conversation: {
        ...base.conversation!,
        conversationType: 'groupChat',
        isGroup: true,
        id: '19:team-chat@thread.v2',
      },
    });
    assert.match(turn.replies.map((r) => r.text ?? '').join(' '), /only answer it in our 1:1 chat/);
    assert.ok(!turn.replies.some((r) => (r.attachments ?? []).some((a) => a.contentType === CONSENT)));
  });

  it('an upload URL on another host is not used', async () => {
    const patti = h.chat(users.patti);
    const consent = consentOf(await patti.submit({ verb: 'report.export' }));
    const session = files.uploadSession(consent.name);
    const turn = await patti.fileConsent('accept', consent.content.acceptContext, {
      ...session,
      uploadUrl: session.uploadUrl.replace('contoso-my.sharepoint.com', 'upload.evil.example'),
    });
    assert.match(textOf(turn), /could not save the file/);
    assert.equal(files.requests.length, 0);
  });
});
