/** The simulator's command line: a Graph tenant simulator, and the Teams connector double when asked. */
import * as fs from 'node:fs';
import { validateFaultPlan, type FaultPlan } from './faultPlan';
import { demoTenantPath, loadSeed, type TenantSeed } from './seed';
import { startSimulator, type RunningSimulator } from './server';
import { startTeamsDouble, type TeamsDouble } from './teams';

interface CliOptions {
  tenant: string;
  port: number;
  host: string;
  token?: string;
  pageSize?: number;
  faults?: string;
  /** The bot's messaging endpoint: starts the Teams double linked to the tenant's Teams apps. */
  teamsBot?: string;
  teamsBotAppId?: string;
  teamsPort?: number;
}

const USAGE =
  'Usage: node dist/src/simulator/main.js [--tenant FILE] [--port N] [--host H] [--token T] [--page-size N] [--faults FILE]\n' +
  '       [--teams-bot URL [--teams-bot-app-id ID] [--teams-port N]]  (Teams connector double posting to the bot at URL)';

function nonNegativeInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${text}'`);
  return n;
}

/** The options that take a value: what each sets. */
const VALUE_OPTIONS: Record<string, (options: CliOptions, value: string, name: string) => void> = {
  '--tenant': (o, v) => (o.tenant = v),
  '--port': (o, v, name) => (o.port = nonNegativeInteger(name, v)),
  '--host': (o, v) => (o.host = v),
  '--token': (o, v) => (o.token = v),
  '--page-size': (o, v, name) => (o.pageSize = nonNegativeInteger(name, v)),
  '--faults': (o, v) => (o.faults = v),
  '--teams-bot': (o, v) => (o.teamsBot = v),
  '--teams-bot-app-id': (o, v) => (o.teamsBotAppId = v),
  '--teams-port': (o, v, name) => (o.teamsPort = nonNegativeInteger(name, v)),
};

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { tenant: demoTenantPath, port: 5980, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const set = VALUE_OPTIONS[name];
    if (!set) throw new Error(`unknown argument '${arg}'`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined) throw new Error(`${name} needs a value`);
      i += 1;
    }
    set(options, value, name);
  }
  return options;
}

/** Ends the process with `message` on stderr and exit code 2 (a usage or input error). */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function readFaultPlan(file: string): FaultPlan {
  try {
    return validateFaultPlan(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
  } catch (err) {
    return fail(`--faults ${file}: ${(err as Error).message}`);
  }
}

/** The Teams connector double posting to the bot at `--teams-bot`, linked to the tenant's Teams apps when it can be. */
async function startTeams(options: CliOptions & { teamsBot: string }, seed: TenantSeed, sim: RunningSimulator) {
  const botAppId = options.teamsBotAppId ?? seed.teamsApps?.catalog.find((a) => a.botId)?.botId ?? undefined;
  if (!botAppId) fail("--teams-bot needs --teams-bot-app-id, or an app with a botId in the seed's teamsApps.catalog");
  const linked = seed.teamsApps?.catalog.some((a) => a.botId?.toLowerCase() === botAppId.toLowerCase()) ?? false;
  const teams = await startTeamsDouble({
    tenant: seed.tenant.id,
    botAppId,
    botEndpoint: options.teamsBot,
    port: options.teamsPort,
    host: options.host,
    graph: linked ? sim.teamsApps : undefined,
  });
  process.stdout.write(
    `Teams connector double: serviceUrl ${teams.serviceUrl} (bot ${botAppId} at ${options.teamsBot})\n`,
  );
  return teams;
}

function stopOnSignal(sim: RunningSimulator, teams: TeamsDouble | undefined): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    Promise.all([sim.close(), teams?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  const seed = loadSeed(options.tenant);
  const faults = options.faults === undefined ? undefined : readFaultPlan(options.faults);
  const { port, host, token, pageSize } = options;
  const sim = await startSimulator({ seed, port, host, token, pageSize, faults });
  if (faults) {
    process.stdout.write(
      `Fault injection on: ${faults.rules.length} rule(s), seed ${faults.seed ?? 1}, replication lag ${faults.replicationLagMs ?? 0} ms, index lag ${faults.indexLag ?? seed.indexLag ?? 0} ms\n`,
    );
  }
  const { teamsBot } = options;
  const teams = teamsBot === undefined ? undefined : await startTeams({ ...options, teamsBot }, seed, sim);
  // Last: the line that says the simulator is ready.
  process.stdout.write(
    `Graph tenant simulator listening on ${sim.graphBaseUrl} (tenant: ${seed.tenant.displayName})\n`,
  );
  stopOnSignal(sim, teams);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
