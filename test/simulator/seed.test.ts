import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  demoTenantPath,
  loadDemoSeed,
  loadSeed,
  startSimulator,
  validateSeed,
  type TenantSeed,
} from '../../src/simulator';
import { ids } from './helpers';

function demo(): TenantSeed {
  return loadDemoSeed();
}

function writeTemp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-seed-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('tenant seed', () => {
  it('ships a valid demo tenant with the agreed ids', () => {
    assert.ok(path.isAbsolute(demoTenantPath));
    const seed = demo();
    assert.equal(seed.tenant.id, ids.tenant);
    assert.equal(seed.tenant.displayName, 'Contoso');
    assert.deepEqual(seed.tenant.verifiedDomains, ['contoso.onmicrosoft.com', 'contoso.com']);
    const user = (id: string) => seed.users.find((u) => u.id === id);
    assert.equal(user(ids.megan)?.userPrincipalName, 'MeganB@contoso.com');
    assert.equal(user(ids.jordan)?.userPrincipalName, 'jordan.rivera_fabrikam.com#EXT#@contoso.onmicrosoft.com');
    assert.equal(user(ids.jordan)?.externalUserState, 'Accepted');
    assert.equal(user(ids.sam)?.externalUserState, 'PendingAcceptance');
    assert.equal(seed.groups.length, 9);
    const group = (n: number) => seed.groups.find((g) => g.id === ids.group(n));
    assert.deepEqual(group(1)?.owners, [ids.megan, ids.alex]);
    assert.deepEqual(group(1)?.members, [ids.alex, ids.sam]);
    assert.deepEqual(group(4)?.groupTypes, ['DynamicMembership']);
    assert.equal(group(5)?.onPremisesSyncEnabled, true);
    assert.deepEqual(group(6)?.owners, []);
    assert.equal(group(7)?.mailEnabled, true);
    assert.equal(seed.servicePrincipals.length, 8);
    const wiki = seed.servicePrincipals.find((s) => s.id === ids.sp(2));
    assert.equal(wiki?.appId, ids.appId(2));
    assert.deepEqual(
      wiki?.appRoleAssignedTo.map((a) => a.principalId),
      [ids.group(2), ids.group(3)],
    );
    assert.equal(seed.authorizationPolicy?.allowInvitesFrom, 'everyone');
    assert.deepEqual(seed.b2bDomains?.blockedDomains, ['tailspintoys.com']);
    assert.equal(seed.directoryRoles?.find((r) => r.displayName === 'Global Administrator')?.members[0], ids.patti);
  });

  it('refuses a seed that breaks the schema, naming the place', () => {
    const seed = demo() as unknown as { users: Array<Record<string, unknown>> };
    seed.users[0].id = 'not-a-guid';
    assert.throws(() => validateSeed(seed), /\/users\/0\/id: must be a GUID/);
    const missing = demo() as unknown as Record<string, unknown>;
    delete missing.groups;
    assert.throws(() => validateSeed(missing), /missing required property 'groups'/);
    const extra = demo() as unknown as { tenant: Record<string, unknown> };
    extra.tenant.region = 'EU';
    assert.throws(() => validateSeed(extra), /\/tenant: unknown property 'region'/);
    const badEnum = demo() as unknown as { authorizationPolicy: Record<string, unknown> };
    badEnum.authorizationPolicy.allowInvitesFrom = 'anyone';
    assert.throws(() => validateSeed(badEnum), /\/authorizationPolicy\/allowInvitesFrom: must be one of/);
  });

  it('refuses dangling references and duplicate ids', () => {
    const dangling = demo();
    dangling.groups[0].members.push('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    assert.throws(
      () => validateSeed(dangling),
      /\/groups\/0\/members\/2: no user with id 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'/,
    );
    const duplicate = demo();
    duplicate.groups[1].id = duplicate.groups[0].id;
    assert.throws(() => validateSeed(duplicate), /is already used by \/groups\/0/);
    const badPrincipal = demo();
    badPrincipal.servicePrincipals[0].appRoleAssignedTo.push({ principalId: ids.megan, principalType: 'Group' });
    assert.throws(() => validateSeed(badPrincipal), /no Group with id/);
    const both = demo();
    both.b2bDomains = { allowedDomains: ['fabrikam.com'], blockedDomains: ['tailspintoys.com'] };
    assert.throws(() => validateSeed(both), /either allowedDomains or blockedDomains/);
  });

  it('loadSeed names the file and the problem', () => {
    const broken = writeTemp('broken.json', '{ "tenant": ');
    assert.throws(
      () => loadSeed(broken),
      (err: Error) => err.message.includes(broken) && /not valid JSON/.test(err.message),
    );
    const invalid = writeTemp('invalid.json', JSON.stringify({ ...demo(), users: 'nobody' }));
    assert.throws(
      () => loadSeed(invalid),
      (err: Error) => err.message.includes(invalid) && /\/users: must be array/.test(err.message),
    );
    const absent = path.join(os.tmpdir(), 'no-such-seed-file.json');
    assert.throws(
      () => loadSeed(absent),
      (err: Error) => err.message.includes(absent) && /cannot read file/.test(err.message),
    );
  });

  it('startSimulator rejects an invalid seed', async () => {
    const seed = demo();
    seed.groups[0].owners.push('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    await assert.rejects(startSimulator({ seed, port: 0 }), /Invalid tenant seed/);
  });
});
