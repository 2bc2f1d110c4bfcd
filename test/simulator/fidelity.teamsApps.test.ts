import { strict as assert } from 'node:assert';
import { validateSeed } from '../../src/simulator';
import { Client, contractProblems, start } from './helpers';
import { assertGraphError, f, fakeClock, fidelitySeed } from './fidelitySeed';

/**
 * Teams app installation for users, as Graph v1.0 documents it:
 * api-reference/v1.0/api/userteamwork-list-installedapps.md,
 * userteamwork-post-installedapps.md, userscopeteamsappinstallation-get-chat.md
 * (microsoftgraph/microsoft-graph-docs-contrib),
 * and the behaviour gathered in ../shared/teams/proactive-delivery.md §1 and §7.14.
 */

const SELF = 'TeamsAppInstallation.ReadWriteSelfForUser.All';
const bind = (teamsAppId: string) => ({
  'teamsApp@odata.bind': `https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/${teamsAppId}`,
});
const installed = (user: string) => `/users/${user}/teamwork/installedApps`;
const q = (text: string) => encodeURIComponent(text);

/** A JWT-shaped token naming the calling app (the simulator reads the appid claim, checks no signature). */
function tokenFor(appId: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ appid: appId, roles: [SELF] })}.sig`;
}

describe('simulator fidelity: Teams app installations for users (real HTTP)', () => {
  let c: Client;

  beforeEach(async () => {
    c = await start({}, fidelitySeed({ applicationPermissions: [SELF] }));
  });

  afterEach(async () => {
    const problems = contractProblems(c);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  it('lists the installation with $expand=teamsApp and $filter=teamsApp/id eq (userteamwork-list-installedapps.md; [GINST] check install)', async () => {
    const r = await c.get(`${installed(f.owner)}?$expand=teamsApp&$filter=${q(`teamsApp/id eq '${f.teamsApp}'`)}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.value?.length, 1);
    const item = r.body.value?.[0] as {
      id: string;
      teamsApp: { id: string; externalId: string; distributionMethod: string };
    };
    assert.deepEqual(item.teamsApp, {
      id: f.teamsApp,
      externalId: f.manifestId,
      displayName: 'Fabrikam Bot',
      distributionMethod: 'organization',
    });
    assert.equal(
      Buffer.from(item.id, 'base64').toString('utf8'),
      `${f.owner}##${f.teamsApp}`,
      'not the teamsApp id (page note)',
    );
    const none = await c.get(
      `${installed(f.directAdmin)}?$expand=teamsApp&$filter=${q(`teamsApp/id eq '${f.teamsApp}'`)}`,
    );
    assert.deepEqual(none.body.value, []);
  });

  it('finds the catalog id from the manifest id with $filter=teamsApp/externalId eq (example 3 of the page; least privilege, §1)', async () => {
    const r = await c.get(
      `${installed(f.owner)}?$expand=teamsApp,teamsAppDefinition&$filter=${q(`teamsApp/externalId eq '${f.manifestId}'`)}`,
    );
    assert.equal(r.status, 200);
    const item = r.body.value?.[0] as {
      teamsApp: { id: string };
      teamsAppDefinition: { teamsAppId: string; azureADAppId: string };
    };
    assert.equal(item.teamsApp.id, f.teamsApp);
    assert.equal(item.teamsAppDefinition.teamsAppId, f.teamsApp);
    assert.equal(item.teamsAppDefinition.azureADAppId, f.botAppId);
  });

  it('without $expand lists ids only (example 1 of the page)', async () => {
    const r = await c.get(installed(f.owner));
    assert.deepEqual(Object.keys(r.body.value?.[0] ?? {}), ['id']);
  });

  it('with only the Self permission lists no other app: an empty list (docs-contrib#330, microsoft-graph-docs#18708; §7.14)', async () => {
    const mine = await c.get(`${installed(f.member)}?$expand=teamsApp`);
    assert.deepEqual(mine.body.value, []);
    c.sim.setApplicationPermissions(['TeamsAppInstallation.ReadForUser.All']);
    const all = await c.get(`${installed(f.member)}?$expand=teamsApp`);
    assert.equal((all.body.value?.[0] as { teamsApp: { id: string } }).teamsApp.id, f.otherTeamsApp);
  });

  it('installs: 201 with an empty body, then the app is listed (userteamwork-post-installedapps.md)', async () => {
    const r = await c.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, {});
    const listed = await c.get(`${installed(f.directAdmin)}?$expand=teamsApp`);
    assert.equal((listed.body.value?.[0] as { teamsApp: { id: string } }).teamsApp.id, f.teamsApp);
  });

  it('answers 409 when the app is already installed (microsoft-graph-docs#12199; Company Communicator; §1)', async () => {
    const r = await c.call('POST', installed(f.owner), { body: bind(f.teamsApp) });
    assertGraphError(r, 409, 'Conflict');
  });

  it('answers 404 for an id not in the app catalog (Company Communicator #239, #285; §1)', async () => {
    const r = await c.call('POST', installed(f.directAdmin), { body: bind('1b2c3d4e-0000-4000-8000-0000000000ff') });
    assertGraphError(r, 404, 'NotFound');
  });

  it('answers 403 "App is blocked by app permission policy" for a blocked user (Company Communicator #1537, #889; §1)', async () => {
    const r = await c.call('POST', installed(f.spare), { body: bind(f.teamsApp) });
    assertGraphError(r, 403, 'Forbidden', 'App is blocked by app permission policy');
    assert.equal((r.body.error?.innerError as unknown as { code: string }).code, 'AccessDenied');
  });

  it('with the Self permission refuses an app whose webApplicationInfo.id is not the caller (msteams-docs#6820, microsoft-graph-docs#16666; §1)', async () => {
    const other = await c.call('POST', installed(f.directAdmin), { body: bind(f.otherTeamsApp) });
    assertGraphError(
      other,
      403,
      'Forbidden',
      `AAD App Id '${f.botAppId}' is not allowed to manage the Teams App '${f.otherTeamsApp}'`,
    );
    const stranger = '1b2c3d4e-0000-4000-8000-0000000000e9';
    const asStranger = new Client(c.sim, tokenFor(stranger));
    const mine = await asStranger.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) });
    assertGraphError(
      mine,
      403,
      'Forbidden',
      `AAD App Id '${stranger}' is not allowed to manage the Teams App '${f.teamsApp}'`,
    );
    const asBot = new Client(c.sim, tokenFor(f.botAppId));
    assert.equal((await asBot.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) })).status, 201);
  });

  it('the broader ReadWriteForUser.All installs any catalog app (userteamwork-post-installedapps-permissions.md)', async () => {
    c.sim.setApplicationPermissions(['TeamsAppInstallation.ReadWriteForUser.All']);
    assert.equal((await c.call('POST', installed(f.directAdmin), { body: bind(f.otherTeamsApp) })).status, 201);
  });

  it('answers the 1:1 chat of an installation: 19:<id>_<id>@unq.gbl.spaces (userscopeteamsappinstallation-get-chat.md; [GINST])', async () => {
    const list = await c.get(`${installed(f.owner)}?$filter=${q(`teamsApp/id eq '${f.teamsApp}'`)}`);
    const id = String(list.body.value?.[0]?.id);
    const chat = await c.get(`${installed(f.owner)}/${encodeURIComponent(id)}/chat`);
    assert.equal(chat.status, 200);
    assert.equal(chat.body.id, `19:${[f.owner, f.botAppId].sort().join('_')}@unq.gbl.spaces`);
    assert.equal(chat.body['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#chats/$entity');
    const stranger = await c.get(`${installed(f.directAdmin)}/${encodeURIComponent(id)}/chat`);
    assertGraphError(stranger, 404, 'NotFound');
  });

  it('refuses the calls without a TeamsAppInstallation permission (permissions.md rows 27-29)', async () => {
    c.sim.setApplicationPermissions(['User.Read.All', 'AppCatalog.Read.All']);
    for (const r of [
      await c.get(installed(f.owner)),
      await c.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) }),
    ]) {
      assertGraphError(r, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
  });

  it('answers 404 for an unknown user and 400 for an unknown $filter property', async () => {
    assertGraphError(await c.get(installed('1b2c3d4e-0000-4000-8000-0000000000aa')), 404, 'Request_ResourceNotFound');
    assertGraphError(await c.get(`${installed(f.owner)}?$filter=${q("color eq 'red'")}`), 400, 'BadRequest');
  });

  it('can throttle POST installedApps at 30 a second per app and tenant with a fault plan limit ([GTHR]; §7.14)', async () => {
    const clock = fakeClock();
    const limited = await start({ now: clock.now }, fidelitySeed({ applicationPermissions: [SELF] }));
    try {
      limited.sim.setFaults({
        rules: [{ method: 'POST', path: '/users/*/teamwork/installedApps', limit: { requests: 30, perMs: 1000 } }],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 31; i += 1)
        statuses.push((await limited.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) })).status);
      assert.deepEqual([statuses[0], statuses[1], statuses[29], statuses[30]], [201, 409, 409, 429]);
      clock.advance(1000);
      assert.equal((await limited.call('POST', installed(f.directAdmin), { body: bind(f.teamsApp) })).status, 409);
    } finally {
      await limited.sim.close();
    }
  });

  it('refuses a seed whose installations or policy blocks name an unknown user or an app not in the catalog', () => {
    const seed = fidelitySeed();
    const apps = seed.teamsApps;
    assert.ok(apps);
    const broken = {
      ...seed,
      teamsApps: {
        ...apps,
        installations: [{ userId: '1b2c3d4e-0000-4000-8000-0000000000aa', teamsAppId: f.teamsApp }],
      },
    };
    assert.throws(() => validateSeed(broken), /teamsApps\/installations\/0\/userId: no user/);
    const unknownApp = {
      ...seed,
      teamsApps: {
        ...apps,
        blockedByPolicy: [{ userId: f.owner, teamsAppId: '1b2c3d4e-0000-4000-8000-0000000000ff' }],
      },
    };
    assert.throws(() => validateSeed(unknownApp), /teamsApps\/blockedByPolicy\/0\/teamsAppId: no app/);
    assert.throws(
      () =>
        validateSeed({ ...seed, teamsApps: { catalog: [{ id: 'not-a-guid', externalId: 'x', displayName: 'X' }] } }),
      /teamsApps/,
    );
  });
});
