/**
 * Gives the bot a PostgreSQL role of its own, so it need not connect as the server administrator.
 *
 * Usage (once, with the administrator's URL, e.g. from the web app's SSH console inside the virtual network):
 * APP_ROLE_PASSWORD='…' npm run store:role -- --admin 'postgres://admin:…@host:5432/guestinvite?sslmode=verify-full'
 * [--role guestinvite_app]
 *
 * Creates the role (or sets its password again), lets it connect to the database and create in the store's
 * schema, and hands it the store's tables and sequences, so the bot's later migrations run as their owner. The
 * role gets no other right: not superuser, no CREATEDB, no CREATEROLE. Then DATABASE_URL names that role
 * (infra: SECRET_POSTGRES_APP_PASSWORD, docs/several-instances.md).
 */
import { Client } from 'pg';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface AppRoleResult {
  role: string;
  created: boolean;
  schema: string;
  /** Tables and sequences handed to the role. */
  handedOver: number;
}

export async function ensureAppRole(adminUrl: string, role: string, password: string): Promise<AppRoleResult> {
  if (!ROLE_NAME.test(role)) throw new Error(`--role must be a lower-case PostgreSQL name, got '${role}'`);
  if (password.length < 12) throw new Error('APP_ROLE_PASSWORD must have at least 12 characters');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    const options = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${client.escapeLiteral(password)}`;
    await client.query(
      exists ? `ALTER ROLE ${ident(role)} WITH ${options}` : `CREATE ROLE ${ident(role)} WITH ${options}`,
    );
    const { rows } = await client.query<{ db: string; schema: string; me: string }>(
      'SELECT current_database() AS db, current_schema() AS schema, current_user AS me',
    );
    const { db, schema, me } = rows[0];
    // Handing objects over needs membership in the new owner (PostgreSQL 16 grants a creator ADMIN only).
    await client.query(`GRANT ${ident(role)} TO ${ident(me)}`);
    await client.query(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(role)}`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${ident(role)}`);
    const owned = await client.query<{ oid: number; name: string; kind: string }>(
      `SELECT c.oid AS oid, c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S') AND pg_get_userbyid(c.relowner) = $2`,
      [schema, me],
    );
    for (const object of owned.rows) {
      // Sequences owned by a column move with their table.
      const kind = object.kind === 'S' ? 'SEQUENCE' : 'TABLE';
      const linked =
        object.kind === 'S' &&
        (await client.query("SELECT 1 FROM pg_depend WHERE objid = $1 AND deptype IN ('a', 'i')", [object.oid]))
          .rowCount;
      if (!linked) await client.query(`ALTER ${kind} ${ident(schema)}.${ident(object.name)} OWNER TO ${ident(role)}`);
    }
    return { role, created: !exists, schema, handedOver: owned.rows.length };
  } finally {
    await client.end();
  }
}

export function parseRoleArguments(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { admin: string; role: string; password: string } {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const admin = value('--admin');
  const password = env.APP_ROLE_PASSWORD ?? '';
  if (!admin || !/^postgres(ql)?:\/\//.test(admin))
    throw new Error(
      "usage: APP_ROLE_PASSWORD='…' npm run store:role -- --admin postgres://admin:password@host:5432/database [--role guestinvite_app]",
    );
  if (!password) throw new Error('APP_ROLE_PASSWORD is required (kept out of the command line and the shell history)');
  return { admin, role: value('--role') ?? 'guestinvite_app', password };
}

async function main(): Promise<void> {
  try {
    const args = parseRoleArguments(process.argv.slice(2), process.env);
    const result = await ensureAppRole(args.admin, args.role, args.password);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (err) {
    process.stderr.write(`store:role: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  void main();
}
