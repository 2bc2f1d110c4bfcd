import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseCommand } from '../../../src/bot/commands';
import { actionData, cardText, createHarness, lastCard, textOf, users, type Harness } from '../../support/botHarness';

const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
const ADDRESS = 'erase.me@adatum.com';
const megan = { tenantId: TENANT, userId: users.megan.aadObjectId, displayName: 'Megan Bowen' };

function dump(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all();
    return tables
      .map(({ name }) => `${name}: ${JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())}`)
      .join('\n')
      .toLowerCase();
  } finally {
    db.close();
  }
}

describe('erase person (admin command, confirmation card, every table)', () => {
  let h: Harness;
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-erase-'));
    file = path.join(dir, 'bot.sqlite');
    h = await createHarness({ storePath: file });
  });
  afterEach(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recognises the English and Dutch command words, keeping the target as typed', () => {
    assert.deepEqual(parseCommand('Erase person Ann@Fabrikam.com'), {
      name: 'erasePerson',
      target: 'Ann@Fabrikam.com',
    });
    assert.deepEqual(parseCommand('<at>Guest Invite</at> persoon wissen 3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01.'), {
      name: 'erasePerson',
      target: '3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01',
    });
    assert.deepEqual(parseCommand('erase person'), { name: 'erasePerson', target: '' });
  });

  it('an admin erases an invited guest after confirming: no table keeps the address or the object id, and one audit entry names no one', async () => {
    const invited = await h.service.invite({
      operationId: 'invite:erase-me',
      actor: megan,
      appId: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01',
      groupId: '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01',
      email: ADDRESS,
      message: 'Welcome to the expenses app',
      offered: [{ appId: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f01', groupIds: ['6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01'] }],
    });
    assert.equal(invited.kind, 'done');
    const [record] = (await h.store.guests.listForTenant(TENANT, 10)).filter(
      (r) => r.guestEmail.toLowerCase() === ADDRESS,
    );
    assert.ok(record, 'the invitation left a guest record');
    const guestId = record.guestId.toLowerCase();
    assert.ok(dump(file).includes(ADDRESS) && dump(file).includes(guestId));

    const patti = h.chat(users.patti);
    const confirm = lastCard(await patti.send(`erase person ${ADDRESS}`));
    assert.match(cardText(confirm), /cannot be undone/);
    assert.ok(dump(file).includes(ADDRESS), 'nothing is erased before the confirmation');
    const data = actionData(confirm, 'Erase');
    assert.deepEqual(data, { target: ADDRESS });

    const done = await patti.invoke('privacy.erase', data);
    assert.match(cardText(done), /Erased\. \d+ records were deleted or made anonymous/);
    assert.ok(!cardText(done).includes(ADDRESS), 'the answer replacing the card no longer shows the address');
    const after = dump(file);
    for (const needle of [ADDRESS, guestId]) assert.ok(!after.includes(needle), `still stored: ${needle}\n${after}`);
    const [entry] = await h.store.audit.list({ action: 'person.erased' });
    assert.equal(entry.actorId, users.patti.aadObjectId);
    assert.equal(entry.guestEmail, undefined);
    assert.equal(entry.guestId, undefined);
    assert.ok((JSON.parse(entry.detail ?? '{}') as Record<string, number>).guest_records >= 1);
  });

  it('refuses non-admins (typed or a forged button), other chats than 1:1, and what is neither an address nor an id', async () => {
    await h.store.audit.append({
      time: new Date().toISOString(),
      tenantId: TENANT,
      actorId: megan.userId,
      action: 'invite.succeeded',
      outcome: 'ok',
      guestEmail: ADDRESS,
    });
    assert.match(textOf(await h.chat(users.megan).send(`erase person ${ADDRESS}`)), /That is for admins/);
    assert.match(
      cardText(await h.chat(users.megan).invoke('privacy.erase', { target: ADDRESS })),
      /Only admins can erase a person/,
    );
    const patti = h.chat(users.patti);
    const inChannel = await patti.deliver(
      patti.activity({
        text: `erase person ${ADDRESS}`,
        conversation: {
          id: '19:team@thread.tacv2',
          conversationType: 'channel',
          tenantId: TENANT,
          isGroup: true,
          name: '',
        },
      }),
    );
    assert.match(textOf(inChannel), /only answer it in our 1:1 chat/);
    assert.match(
      textOf(await patti.send('erase person somebody')),
      /followed by an email address or a Microsoft Entra object id/,
    );
    assert.match(cardText(await patti.invoke('privacy.erase', { target: 'nobody' })), /followed by an email address/);
    assert.match(cardText(await patti.invoke('privacy.eraseCancel', {})), /Nothing was erased/);
    assert.ok(dump(file).includes(ADDRESS), 'nothing was erased');
    assert.deepEqual(await h.store.audit.list({ action: 'person.erased' }), []);
  });

  it('erasing someone who chatted with the bot removes their conversation reference and the dialog state of their chat', async () => {
    const adele = h.chat(users.adele);
    // Teams' personal conversation ids do not contain the user's object id.
    Object.assign(adele, { conversationId: 'a:1Hk7pQopaqueChatId' });
    await adele.send('invite guest');
    const chatId = adele.conversationId.toLowerCase();
    assert.ok(dump(file).includes(chatId), 'the chat left dialog state behind');
    const patti = h.chat(users.patti);
    await patti.send(`erase person ${users.adele.aadObjectId}`);
    assert.match(cardText(await patti.invoke('privacy.erase', { target: users.adele.aadObjectId })), /Erased/);
    const after = dump(file);
    assert.ok(!after.includes(users.adele.aadObjectId.toLowerCase()) && !after.includes(chatId), after);
    assert.equal(await h.store.conversations.get(TENANT, users.adele.aadObjectId), undefined);
  });

  it('answers in Dutch', async () => {
    const patti = h.chat(users.patti);
    patti.locale = 'nl-NL';
    assert.match(cardText(lastCard(await patti.send(`persoon wissen ${ADDRESS}`))), /kan niet ongedaan worden gemaakt/);
    assert.match(
      cardText(await patti.invoke('privacy.erase', { target: ADDRESS })),
      /Guest Invite heeft niets over deze persoon opgeslagen/,
    );
  });
});
