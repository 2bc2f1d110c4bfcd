/**
 * PersonalChatService against sinon fakes of the Bot Connector (createConversation) and of Graph's installation calls.
 * Behaviours as documented: createConversation for someone without a personal install answers 403
 * ForbiddenOperationException or BadArgument (learn bots/build-conversational-capability, status codes); install is
 * POST /users/{id}/teamwork/installedApps, 201 or 409 when installed (userteamwork-post-installedapps.md); the chat of
 * an installation is GET …/installedApps/{id}/chat (userscopeteamsappinstallation-get-chat.md); a blocked bot answers
 * 403 ConversationBlockedByUser, a disabled one 403 BotDisabledByAdmin.
 */
import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import { PersonalChatService } from '../../../src/bot/delivery/reachability';
import { DirectoryError } from '../../../src/graph/directory';
import type { TeamsAppInstaller } from '../../../src/graph/teamsApps';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';
import { silentLogger } from '../../../src/logging';

const tenant = 't1';
const SERVICE = 'https://smba.trafficmanager.net/emea/';
const adeleRef = {
  serviceUrl: SERVICE,
  channelId: 'msteams',
  user: { id: '29:adele', name: 'Adele' },
  bot: { id: '28:bot', name: 'Guest Invite' },
  conversation: { id: 'a:adele', conversationType: 'personal', tenantId: tenant, isGroup: false, name: '' },
};
const notInstalled = (code = 'ForbiddenOperationException') =>
  Object.assign(new Error(`{"error":{"code":"${code}","message":"Bot isn't installed in user's personal scope"}}`), {
    statusCode: 403,
    code,
  });

/** A connector where `installed` people get a 1:1 chat `a:<id>` and the others a 403. */
function connector(installed: Set<string>, code?: string) {
  const createConversationAsync = sinon
    .stub()
    .callsFake(
      async (
        _appId: string,
        _channel: string,
        _url: string,
        _audience: string,
        parameters: { members: Array<{ id: string }> },
        logic: (c: TurnContext) => Promise<void>,
      ) => {
        const id = parameters.members[0].id;
        if (!installed.has(id)) throw notInstalled(code);
        await logic({
          activity: { conversation: { id: `a:${id}`, conversationType: 'personal', tenantId: tenant } },
        } as unknown as TurnContext);
      },
    );
  return { adapter: { createConversationAsync } as unknown as CloudAdapter, createConversationAsync };
}

function installer(installed: Set<string>, refuse?: DirectoryError) {
  const fake = {
    findInstallation: sinon
      .stub()
      .callsFake(async (userId: string) =>
        installed.has(userId) ? { installationId: `inst-${userId}`, catalogId: 'cat-1' } : null,
      ),
    install: sinon.stub().callsFake(async (userId: string) => {
      if (refuse) throw refuse;
      if (installed.has(userId)) return 'alreadyInstalled';
      installed.add(userId);
      return 'installed';
    }),
    chatId: sinon.stub().callsFake(async (userId: string) => `19:${userId}_bot@unq.gbl.spaces`),
  };
  return fake as typeof fake & TeamsAppInstaller;
}

describe('PersonalChatService: reaching people in Teams', () => {
  let store: Store;
  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    await store.conversations.upsert(tenant, 'adele', adeleRef, new Date());
  });
  afterEach(async () => store.close());

  function service(
    installed: Set<string>,
    graph: TeamsAppInstaller | null,
    more: Partial<ConstructorParameters<typeof PersonalChatService>[0]> = {},
  ) {
    const teams = connector(installed);
    const reported: string[] = [];
    const chats = new PersonalChatService({
      adapter: teams.adapter,
      appId: 'bot',
      conversations: store.conversations,
      state: store.state,
      logger: silentLogger,
      installer: graph,
      catalogId: 'cat-1',
      onUnreachable: async (_t, userId, reason) => {
        reported.push(`${userId}:${reason}`);
      },
      ...more,
    });
    return { chats, teams, reported };
  }

  it('uses the stored chat without calling Teams or Graph', async () => {
    const graph = installer(new Set());
    const { chats, teams } = service(new Set(), graph);
    const opening = await chats.open(tenant, 'adele');
    assert.equal(opening.ok && opening.reference.conversation?.id, 'a:adele');
    assert.equal(teams.createConversationAsync.callCount, 0);
    assert.equal(graph.install.callCount, 0);
  });

  it("installs the app for an owner who never opened the bot through Graph and keeps the installation's chat, with no createConversation (graph-proactive-bots-and-messages)", async () => {
    const installed = new Set<string>();
    const graph = installer(installed);
    const { chats, teams } = service(installed, graph);
    await chats.note(tenant, adeleRef, 'adele');
    const opening = await chats.open(tenant, 'megan');
    assert.ok(opening.ok);
    assert.equal(opening.reference.conversation?.id, '19:megan_bot@unq.gbl.spaces');
    assert.equal(opening.reference.serviceUrl, SERVICE, 'through the service URL the tenant is served from');
    assert.deepEqual(graph.install.firstCall.args, ['megan', 'cat-1']);
    assert.equal(teams.createConversationAsync.callCount, 0, 'no createConversation refused before the install');
    assert.equal(
      ((await store.conversations.get(tenant, 'megan'))?.conversation as { id?: string } | undefined)?.id,
      '19:megan_bot@unq.gbl.spaces',
    );
    assert.equal(await chats.installedByBot(tenant, 'megan'), true, "the install is marked as the bot's own");
    assert.equal(await chats.installedByBot(tenant, 'megan'), false, 'once');
  });

  it('opens the chat of someone who installed the app themselves through Graph, without installing or marking it', async () => {
    const installed = new Set<string>(['megan']);
    const graph = installer(installed);
    const { chats, teams } = service(installed, graph);
    await chats.note(tenant, adeleRef, 'adele');
    const opening = await chats.open(tenant, 'megan');
    assert.ok(opening.ok);
    assert.equal(graph.install.callCount, 0);
    assert.equal(teams.createConversationAsync.callCount, 0);
    assert.equal(await chats.installedByBot(tenant, 'megan'), false);
  });

  it('treats BadArgument like ForbiddenOperationException, and 409 as installed already', async () => {
    const installed = new Set<string>();
    const graph = installer(installed);
    graph.install.callsFake(async (userId: string) => {
      installed.add(userId);
      return 'alreadyInstalled';
    });
    const teams = connector(installed, 'BadArgument');
    const chats = new PersonalChatService({
      adapter: teams.adapter,
      appId: 'bot',
      conversations: store.conversations,
      state: store.state,
      logger: silentLogger,
      installer: graph,
      catalogId: 'cat-1',
    });
    await chats.note(tenant, adeleRef, 'adele');
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
  });

  it("uses the installation's Graph chat when Teams does not see the install yet", async () => {
    const installed = new Set<string>();
    const graph = installer(installed);
    const { chats } = service(new Set(), graph);
    await chats.note(tenant, adeleRef, 'adele');
    const opening = await chats.open(tenant, 'megan');
    assert.ok(opening.ok);
    assert.equal(opening.reference.conversation?.id, '19:megan_bot@unq.gbl.spaces');
    assert.equal(graph.chatId.firstCall.args[1], 'inst-megan');
  });

  it('reads the catalog id from an existing installation (no AppCatalog.Read.All) and keeps it', async () => {
    const installed = new Set<string>(['adele']);
    const graph = installer(installed);
    const { chats } = service(installed, graph, { catalogId: null, manifestId: 'manifest-1' });
    await chats.note(tenant, adeleRef, 'adele');
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
    assert.deepEqual(graph.findInstallation.firstCall.args, ['adele', { externalId: 'manifest-1' }]);
    assert.deepEqual(graph.install.firstCall.args, ['megan', 'cat-1']);
    const again = service(installed, graph, { catalogId: null, manifestId: 'manifest-1' });
    assert.equal((await again.chats.open(tenant, 'nestor')).ok, true);
    assert.equal(
      graph.findInstallation.getCalls().filter((c) => 'externalId' in c.args[1]).length,
      1,
      'read once, then kept in the store',
    );
  });

  const refusals: Array<[string, DirectoryError, string]> = [
    [
      'the permission is not granted',
      new DirectoryError(
        'forbidden',
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      ),
      'permissionMissing',
    ],
    [
      'an app permission policy blocks the app',
      new DirectoryError('forbidden', 403, 'Forbidden', 'App is blocked by app permission policy'),
      'blockedByPolicy',
    ],
    [
      'the app is not in the org catalog',
      new DirectoryError('notFound', 404, 'NotFound', 'The teamsApp was not found'),
      'appNotInCatalog',
    ],
  ];
  for (const [what, error, reason] of refusals) {
    it(`records the owner as unreachable when ${what} (${reason}), and reports it for the admins`, async () => {
      const graph = installer(new Set(), error);
      const { chats, reported } = service(new Set(), graph);
      await chats.note(tenant, adeleRef, 'adele');
      const opening = await chats.open(tenant, 'megan');
      assert.deepEqual(opening.ok ? null : opening.reason, reason);
      assert.equal((await store.conversations.unreachable(tenant, 'megan'))?.reason, reason);
      assert.deepEqual(reported, [`megan:${reason}`]);
    });
  }

  it('says the catalog id is unknown when neither an admin set it nor an installation shows it', async () => {
    const graph = installer(new Set());
    const { chats, reported } = service(new Set(), graph, { catalogId: null, manifestId: 'manifest-1' });
    await chats.note(tenant, adeleRef, 'adele');
    const opening = await chats.open(tenant, 'megan');
    assert.equal(opening.ok ? null : opening.reason, 'appNotInCatalog');
    assert.deepEqual(reported, ['megan:appNotInCatalog']);
    assert.equal(graph.install.callCount, 0);
  });

  it('does not try a person who blocked the bot, or a disabled bot, until they write to it again', async () => {
    const installed = new Set<string>(['megan']);
    const { chats, teams } = service(installed, installer(installed));
    await chats.note(tenant, adeleRef, 'adele');
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
    assert.equal(await chats.refused(tenant, 'megan', 403, 'ConversationBlockedByUser'), 'blockedByUser');
    assert.equal(await store.conversations.get(tenant, 'megan'), undefined, 'the chat is dropped');
    const calls = teams.createConversationAsync.callCount;
    const blocked = await chats.open(tenant, 'megan');
    assert.equal(blocked.ok ? null : blocked.reason, 'blockedByUser');
    assert.equal(teams.createConversationAsync.callCount, calls, 'not tried');
    await chats.seen(tenant, 'megan', {
      ...adeleRef,
      user: { id: '29:megan', name: 'Megan' },
      conversation: { id: 'a:megan', conversationType: 'personal', tenantId: tenant, isGroup: false, name: '' },
    });
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
    assert.equal(await chats.refused(tenant, 'megan', 403, 'BotDisabledByAdmin'), 'disabledByAdmin');
    assert.equal((await chats.open(tenant, 'megan')).ok, false);
  });

  it('forgets a chat Teams no longer accepts (not in roster, uninstalled), so the next open installs again', async () => {
    const installed = new Set<string>();
    const graph = installer(installed);
    const { chats } = service(installed, graph);
    await chats.note(tenant, adeleRef, 'adele');
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
    assert.equal(await chats.refused(tenant, 'megan', 403, 'MessageWritesBlocked'), undefined);
    assert.equal(await store.conversations.get(tenant, 'megan'), undefined);
    installed.delete('megan');
    await chats.forget(tenant, 'megan');
    assert.equal((await chats.open(tenant, 'megan')).ok, true);
    assert.equal(graph.install.callCount, 2, 'installed again');
  });

  it('without a Graph installer, someone who never installed the bot is unreachable (notInstalled)', async () => {
    const { chats, reported } = service(new Set(), null);
    await chats.note(tenant, adeleRef, 'adele');
    const opening = await chats.open(tenant, 'megan');
    assert.equal(opening.ok ? null : opening.reason, 'notInstalled');
    assert.deepEqual(reported, [], 'nothing for an admin to fix');
  });
});
