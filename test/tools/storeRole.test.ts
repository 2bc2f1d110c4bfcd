/**
 * `npm run store:role`: the bot's own PostgreSQL role, so DATABASE_URL need not name the server administrator.
 */
import { strict as assert } from 'node:assert';
import { createDatabase, dropDatabase, withPgClient } from '../support/postgres';
import { ensureAppRole, parseRoleArguments } from '../../src/tools/storeRole';
import { openPostgresStore } from '../../src/store/postgres';

describe("store:role (the bot's own PostgreSQL role)", () => {
  const role = `gi_app_${process.pid}`;
  let adminUrl: string;

  before(async function () {
    this.timeout(120_000);
    adminUrl = await createDatabase('role');
    const store = await openPostgresStore(adminUrl);
    await store.state.write('before/role', { kept: true });
    await store.close();
  });

  after(async () => {
    await dropDatabase(adminUrl);
    await withPgClient(adminUrl, async (client) => {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.query(`REVOKE ALL ON DATABASE "${rows[0].db}" FROM ${role}`);
      await client.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  it('creates a role with no administrative right that owns the store, and the bot works as it', async () => {
    const result = await ensureAppRole(adminUrl, role, 'a-long-app-password-1');
    assert.equal(result.created, true);
    assert.ok(result.handedOver >= 5, `tables handed over: ${result.handedOver}`);
    const again = await ensureAppRole(adminUrl, role, 'a-long-app-password-2');
    assert.equal(again.created, false, 'a second run sets the password again');

    const appUrl = new URL(adminUrl);
    appUrl.username = role;
    appUrl.password = 'a-long-app-password-2';
    const store = await openPostgresStore(appUrl.toString());
    try {
      assert.deepEqual((await store.state.read(['before/role'])).get('before/role')?.value, { kept: true });
      await store.state.write('after/role', { written: 'by the app role' });
      await store.audit.append({
        time: new Date().toISOString(),
        tenantId: 't',
        actorId: 'a',
        action: 'test.role',
        outcome: 'ok',
      });
    } finally {
      await store.close();
    }
    await withPgClient(appUrl.toString(), async (client) => {
      const me = await client.query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; user: string }>(
        'SELECT rolsuper, rolcreatedb, rolcreaterole, current_user AS user FROM pg_roles WHERE rolname = current_user',
      );
      assert.deepEqual(me.rows[0], { rolsuper: false, rolcreatedb: false, rolcreaterole: false, user: role });
    });
  });

  it('takes the password from the environment only, and refuses a bad role name', async () => {
    assert.throws(() => parseRoleArguments(['--admin', 'postgres://a:b@h/d'], {}), /APP_ROLE_PASSWORD is required/);
    assert.deepEqual(parseRoleArguments(['--admin', 'postgres://a:b@h/d'], { APP_ROLE_PASSWORD: 'x'.repeat(12) }), {
      admin: 'postgres://a:b@h/d',
      role: 'guestinvite_app',
      password: 'x'.repeat(12),
    });
    await assert.rejects(
      ensureAppRole(adminUrl, 'Robert"; DROP', 'a-long-app-password-1'),
      /lower-case PostgreSQL name/,
    );
  });
});
