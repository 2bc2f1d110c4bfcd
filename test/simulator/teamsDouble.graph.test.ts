/**
 * The Teams double linked to the Graph simulator: an install through Graph makes the person reachable and posts
 * the install events (../shared/teams/proactive-delivery.md §1 "What the bot receives after install", §7.6, §7.14).
 */
import { strict as assert } from 'node:assert';
import { startTeamsDouble, type TeamsDouble } from '../../src/simulator/teams';
import { type Client, start } from './helpers';
import { f, fidelitySeed } from './fidelitySeed';
import { BotEndpoint, call, createParams } from './teamsHelpers';

const bind = { 'teamsApp@odata.bind': `https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/${f.teamsApp}` };

describe('Teams double linked to the Graph simulator', () => {
  let graph: Client;
  let bot: BotEndpoint;
  let teams: TeamsDouble;

  beforeEach(async () => {
    graph = await start(
      {},
      fidelitySeed({ applicationPermissions: ['TeamsAppInstallation.ReadWriteSelfForUser.All'] }),
    );
    bot = await new BotEndpoint().start();
    teams = await startTeamsDouble({
      tenant: f.tenant,
      botAppId: f.botAppId,
      botEndpoint: bot.url,
      graph: graph.sim.teamsApps,
    });
  });

  afterEach(async () => {
    await teams.close();
    await bot.close();
    await graph.sim.close();
  });

  it('reaches people installed in the seed from the start, without install events', async () => {
    assert.equal(teams.isInstalled(f.owner), true);
    assert.equal(teams.isInstalled(f.directAdmin), false);
    const created = await call(teams, 'POST', '/v3/conversations', {
      ...createParams(f.owner),
      tenantId: f.tenant,
      channelData: { tenant: { id: f.tenant } },
    });
    assert.equal(created.status, 201);
    assert.equal(bot.received.length, 0);
  });

  it('an install through Graph makes the person reachable and posts conversationUpdate and installationUpdate add (§1, §7.6)', async () => {
    const before = await call(teams, 'POST', '/v3/conversations', {
      ...createParams(f.directAdmin),
      tenantId: f.tenant,
      channelData: { tenant: { id: f.tenant } },
    });
    assert.equal(before.status, 403);
    const installed = await graph.call('POST', `/users/${f.directAdmin}/teamwork/installedApps`, { body: bind });
    assert.equal(installed.status, 201);
    await teams.settleEvents();
    assert.deepEqual(
      bot.received.map((a) => [a.type, a.action]),
      [
        ['conversationUpdate', undefined],
        ['installationUpdate', 'add'],
      ],
    );
    const after = await call(teams, 'POST', '/v3/conversations', {
      ...createParams(f.directAdmin),
      tenantId: f.tenant,
      channelData: { tenant: { id: f.tenant } },
    });
    assert.equal(after.status, 201);
    assert.equal(after.body.id, teams.conversationIdFor(f.directAdmin));
  });

  it("sends into the chat id Graph's /chat answers for the installation ([GINST]; §7.1)", async () => {
    await graph.call('POST', `/users/${f.directAdmin}/teamwork/installedApps`, { body: bind });
    const list = await graph.get(
      `/users/${f.directAdmin}/teamwork/installedApps?$filter=${encodeURIComponent(`teamsApp/id eq '${f.teamsApp}'`)}`,
    );
    const chat = await graph.get(
      `/users/${f.directAdmin}/teamwork/installedApps/${encodeURIComponent(String(list.body.value?.[0]?.id))}/chat`,
    );
    assert.equal(chat.body.id, teams.graphChatIdFor(f.directAdmin));
    const sent = await call(teams, 'POST', `/v3/conversations/${encodeURIComponent(String(chat.body.id))}/activities`, {
      type: 'message',
      text: 'Welcome',
    });
    assert.equal(sent.status, 201);
    assert.deepEqual(
      teams.messagesFor(f.directAdmin).map((m) => m.text),
      ['Welcome'],
    );
  });

  it('applies the event switches to installs made through Graph (dropped events; §1 caveats, §7.6)', async () => {
    teams.events.drop = 'all';
    await graph.call('POST', `/users/${f.directAdmin}/teamwork/installedApps`, { body: bind });
    await teams.settleEvents();
    assert.equal(bot.received.length, 0);
    assert.equal(teams.isInstalled(f.directAdmin), true);
  });

  it('installs and uninstalls on the double show in Graph, and a Graph install then answers 409', async () => {
    await teams.install(f.member);
    const listed = await graph.get(`/users/${f.member}/teamwork/installedApps?$expand=teamsApp`);
    assert.deepEqual(
      (listed.body.value ?? []).map((v) => (v as { teamsApp: { id: string } }).teamsApp.id),
      [f.teamsApp],
    );
    assert.equal((await graph.call('POST', `/users/${f.member}/teamwork/installedApps`, { body: bind })).status, 409);
    await teams.uninstall(f.member);
    const after = await graph.get(`/users/${f.member}/teamwork/installedApps?$expand=teamsApp`);
    assert.deepEqual(after.body.value, []);
    assert.equal((await graph.call('POST', `/users/${f.member}/teamwork/installedApps`, { body: bind })).status, 201);
    await teams.settleEvents();
    assert.deepEqual(
      bot.ofType('installationUpdate').map((a) => a.action),
      ['add', 'remove', 'add'],
    );
  });
});
