import { strict as assert } from 'node:assert';
import { SchemaTooNewError } from '../../src/store/migrate';
import { openPostgresStore } from '../../src/store/postgres';
import { applyMigrations, latestVersion, migrations } from '../../src/store/postgres/migrations';
import { createDatabase, dropDatabase, withPgClient } from '../support/postgres';
import { freePort } from '../../src/dev/processes';

describe('PostgreSQL store: connection and migrations', () => {
  let url: string;
  beforeEach(async () => {
    url = await createDatabase('migrations');
  });
  afterEach(async () => {
    await dropDatabase(url);
  });

  const versions = (): Promise<number[]> =>
    withPgClient(url, async (c) =>
      (await c.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id')).rows.map((r) => r.id),
    );

  it('has strictly increasing ids starting at 1', () => {
    migrations.forEach((m, i) => assert.equal(m.id, i + 1));
  });

  it('applies every migration on an empty database, and nothing on reopen', async () => {
    await (await openPostgresStore(url)).close();
    assert.deepEqual(
      await versions(),
      migrations.map((m) => m.id),
    );
    const again = await withPgClient(url, (c) => applyMigrations(c));
    assert.deepEqual(again, { from: latestVersion(), to: latestVersion() });
  });

  it('eight instances starting at once on an empty database migrate it once', async () => {
    const stores = await Promise.all(Array.from({ length: 8 }, () => openPostgresStore(url, { poolSize: 1 })));
    try {
      assert.deepEqual(
        await versions(),
        migrations.map((m) => m.id),
      );
      await stores[0].state.write('k', { ok: true }, null);
      assert.deepEqual((await stores[7].state.read(['k'])).get('k')?.value, { ok: true });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses a database whose schema is newer than the code, and rolls back a failing migration', async () => {
    await (await openPostgresStore(url)).close();
    const next = latestVersion() + 1;
    await withPgClient(url, async (c) => {
      const broken = [
        ...migrations,
        { id: next, name: 'broken', sql: 'CREATE TABLE extra (x integer); INSERT INTO nowhere VALUES (1);' },
      ];
      await assert.rejects(applyMigrations(c, broken));
      const extra = await c.query("SELECT to_regclass('extra') AS t");
      assert.equal(extra.rows[0].t, null, 'nothing of the failed migration remains');
      await c.query("INSERT INTO schema_migrations (id, name) VALUES ($1, 'from the future')", [next]);
    });
    await assert.rejects(
      openPostgresStore(url),
      (err: unknown) => err instanceof SchemaTooNewError && /newer than this application supports/.test(err.message),
    );
  });

  it('fails, and does not hang, when the server cannot be reached', async () => {
    const port = await freePort();
    await assert.rejects(openPostgresStore(`postgres://nobody@127.0.0.1:${port}/none`), /ECONNREFUSED|connect/);
  });
});
