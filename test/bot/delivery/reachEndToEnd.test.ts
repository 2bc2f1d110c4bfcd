/**
 * Issue 16, "Done when", end to end in one process: the bot (startBot, anonymous, its HTTP endpoint), the Graph
 * simulator (demo tenant, with its Teams app catalog and installations) and the Teams Bot Connector double linked to
 * it (src/simulator/teams): an install made through Graph reaches the double, which then accepts the 1:1 chat.
 * Alex Wilber owns Expenses External Reviewers with Megan Bowen and never installed the bot.
 * - With TeamsAppInstallation.ReadWriteSelfForUser.All granted: the bot installs itself for Alex
 *   (POST /users/{id}/teamwork/installedApps, userteamwork-post-installedapps.md), Alex gets the approval card,
 *   approves, and Adele is told.
 * - Without it: Adele is told who could not be reached and why; the admins get one alert naming the fix.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBot, type RunningBot } from '../../../src/index';
import { loadSettings } from '../../../src/config';
import { silentLogger } from '../../../src/logging';
import { openSqliteStore } from '../../../src/store/sqlite';
import { loadDemoSeed, startSimulator, type RunningSimulator, type TenantSeed } from '../../../src/simulator';
import { startTeamsDouble, type TeamsDouble, type VisibleMessage } from '../../../src/simulator/teams';
import { actionData, cardText, choices, users } from '../../support/botHarness';
import { helpCard } from '../../../src/bot/mainDialog';
import { localizer } from '../../../src/i18n';

const TENANT = '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01';
const ADELE = users.adele.aadObjectId;
const ALEX = users.alex.aadObjectId;
const PATTI = users.patti.aadObjectId;
const PERMISSION = 'TeamsAppInstallation.ReadWriteSelfForUser.All';

interface Stack {
  sim: RunningSimulator;
  bot: RunningBot;
  teams: TeamsDouble;
  dir: string;
}

async function startStack(seed: TenantSeed): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-reach-'));
  const sim = await startSimulator({ seed, port: 0, host: '127.0.0.1', token: 'simulator-token' });
  const guestInvite = seed.teamsApps!.catalog!.find((a) => a.displayName === 'Guest Invite')!;
  const settings = loadSettings({
    PORT: '0',
    GRAPH_BASE_URL: sim.graphBaseUrl,
    GRAPH_STATIC_TOKEN: 'simulator-token',
    STORE_PATH: path.join(dir, 'bot.sqlite'),
    TEAMS_APP_ID: guestInvite.externalId,
    ADMIN_USER_IDS: PATTI,
  });
  const bot = await startBot(settings, silentLogger);
  const teams = await startTeamsDouble({
    tenant: TENANT,
    botAppId: guestInvite.botId!,
    botEndpoint: `${bot.url}/api/messages`,
    graph: sim.teamsApps,
  });
  return { sim, bot, teams, dir };
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.teams.close();
  await stack.bot.stop(5_000);
  await stack.sim.close();
  rmSync(stack.dir, { recursive: true, force: true });
}

const cardOf = (m: VisibleMessage): Record<string, unknown> | undefined =>
  m.attachments[0]?.content as Record<string, unknown> | undefined;

/** The newest message in the person's chat whose card (as it is now) matches. */
function cardIn(teams: TeamsDouble, aad: string, pattern: RegExp): VisibleMessage | undefined {
  return [...teams.messagesFor(aad)].reverse().find((m) => cardOf(m) && pattern.test(cardText(cardOf(m))));
}

/** Waits (polling, bounded) until the person's chat shows what `find` looks for. */
async function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Adele installs the bot and asks for Contoso Expenses through her chat, as Teams posts it; returns the final card. */
async function adeleRequestsExpenses(teams: TeamsDouble): Promise<VisibleMessage> {
  await teams.install(ADELE, { name: users.adele.name });
  await teams.settleEvents();
  await teams.sendFromUser(ADELE, {
    text: 'request access',
    from: { id: teams.teamsIdFor(ADELE), aadObjectId: ADELE, name: users.adele.name },
  });
  const appCard = await waitFor('the app card', () => cardIn(teams, ADELE, /Contoso Expenses/));
  const expenses = choices(cardOf(appCard), 'appId').find((c) => c.title === 'Contoso Expenses')!;
  const submit = (message: VisibleMessage, title: string, more: Record<string, unknown>) =>
    teams.sendFromUser(ADELE, {
      value: { ...actionData(cardOf(message), title), ...more },
      replyToId: message.id,
    } as never);
  await submit(appCard, 'Next', { appId: expenses.value });
  const reason = await waitFor('the reason card', () => cardIn(teams, ADELE, /Why do you need access\?/));
  await submit(reason, 'Review', { justification: 'Quarterly audit of partner expenses' });
  const confirm = await waitFor('the summary card', () => cardIn(teams, ADELE, /Send this request\?/));
  await submit(confirm, 'Send request', {});
  return waitFor('the request sent', () => cardIn(teams, ADELE, /Request sent|could not reach|Could not reach/i));
}

function installs(sim: RunningSimulator, userId: string): number {
  return sim.requests().filter((r) => r.method === 'POST' && r.url.includes(`/users/${userId}/teamwork/installedApps`))
    .length;
}

describe('reaching an owner who never installed the bot, end to end (bot + Graph simulator + Teams double)', function () {
  this.timeout(60_000);
  let stack: Stack | undefined;
  afterEach(async () => {
    await stopStack(stack);
    stack = undefined;
  });

  it('installs the bot for Alex through Graph; Alex gets the approval card, approves, and Adele is told', async () => {
    stack = await startStack(loadDemoSeed());
    const { teams, sim } = stack;
    assert.equal(teams.isInstalled(ALEX), false, 'Alex never installed the bot');
    const sent = await adeleRequestsExpenses(teams);
    assert.doesNotMatch(cardText(cardOf(sent)), /Could not reach/);
    const approval = await waitFor("Alex's approval card", () => cardIn(teams, ALEX, /Access request/));
    assert.equal(installs(sim, ALEX), 1, 'installed once through Graph');
    assert.equal(teams.isInstalled(ALEX), true);
    // Teams' installationUpdate for the bot's own install: one short welcome through the outbox, not the help card.
    await teams.settleEvents();
    await waitFor('the short welcome', () =>
      teams.messagesFor(ALEX).find((m) => /I was added to your Teams/.test(m.text ?? '')),
    );
    assert.equal(
      teams.messagesFor(ALEX).filter((m) => /I was added to your Teams/.test(m.text ?? '')).length,
      1,
      'one welcome',
    );
    const help = JSON.stringify(helpCard(localizer({ locale: 'en-US' })).content);
    assert.equal(
      teams.messagesFor(ALEX).filter((m) => JSON.stringify(cardOf(m)) === help).length,
      0,
      'no help card as a reply',
    );
    const requestId = String(actionData(cardOf(approval), 'Approve').requestId);
    await teams.sendFromUser(ALEX, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: approval.id,
      value: { action: { type: 'Action.Execute', verb: 'request.approve', data: { requestId } }, trigger: 'manual' },
    } as never);
    const notice = await waitFor('the notice to Adele', () =>
      cardIn(teams, ADELE, /was added to Expenses External Reviewers|approved/i),
    );
    assert.match(cardText(cardOf(notice)), /Adele Vance was added to Expenses External Reviewers/);

    // setup check says the bot can install itself
    await teams.sendFromUser(PATTI, {
      text: 'setup check',
      from: { id: teams.teamsIdFor(PATTI), aadObjectId: PATTI, name: users.patti.name },
    });
    const report = await waitFor('the setup report', () => cardIn(teams, PATTI, /Setup check/));
    assert.match(
      cardText(cardOf(report)),
      /Reaching people in Teams: +\| the bot installs itself for people who never opened it/,
    );

    // Alex removes the app (installationUpdate remove): the bot forgets the chat
    const store = openSqliteStore(path.join(stack.dir, 'bot.sqlite'));
    try {
      assert.ok(await store.conversations.get(TENANT, ALEX), 'the chat opened for the card is kept');
      await teams.uninstall(ALEX);
      await teams.settleEvents();
      for (let i = 0; i < 100 && (await store.conversations.get(TENANT, ALEX)); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await store.conversations.get(TENANT, ALEX), undefined);
    } finally {
      await store.close();
    }
  });

  it(`without ${PERMISSION}: Adele is told who could not be reached, and the admins get one alert naming the fix`, async () => {
    const seed = loadDemoSeed();
    seed.applicationPermissions = (seed.applicationPermissions ?? []).filter((p) => p !== PERMISSION);
    stack = await startStack(seed);
    const { teams } = stack;
    const sent = await adeleRequestsExpenses(teams);
    const text = cardText(cardOf(sent));
    assert.match(
      text,
      /Could not reach Alex Wilber in Teams: the bot is not allowed to install Guest Invite for people yet\./,
    );
    assert.match(text, /Your admins have been told what to fix\./);
    assert.match(text, /Megan Bowen/, 'the other owner got the card');
    assert.ok(cardIn(teams, users.megan.aadObjectId, /Access request/), "Megan's approval card");
    assert.equal(teams.isInstalled(ALEX), false);
    const alerts = () =>
      teams.messagesFor(PATTI).filter((m) => /botCannotReach:permissionMissing/.test(JSON.stringify(cardOf(m) ?? {})));
    const alert = await waitFor('the admin alert', () => alerts()[0]);
    assert.match(cardText(cardOf(alert)), /TeamsAppInstallation\.ReadWriteSelfForUser\.All/);
    assert.match(cardText(cardOf(alert)), /setup polic/i);
    await teams.settleEvents();
    assert.equal(alerts().length, 1, 'one alert');

    // setup check says why the bot cannot install itself
    await teams.sendFromUser(PATTI, {
      text: 'setup check',
      from: { id: teams.teamsIdFor(PATTI), aadObjectId: PATTI, name: users.patti.name },
    });
    const report = await waitFor('the setup report', () => cardIn(teams, PATTI, /Setup check/));
    assert.match(
      cardText(cardOf(report)),
      /people who never opened the bot cannot be reached: the bot is not allowed to install Guest Invite/,
    );
    assert.equal(alerts().length, 1, 'still one alert');
  });
});
