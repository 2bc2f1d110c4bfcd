import * as fs from 'node:fs';
import { validateFaultPlan, type FaultPlan } from './faults';
import { demoTenantPath, loadSeed } from './seed';
import { startSimulator } from './server';
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

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { tenant: demoTenantPath, port: 5980, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`${name} needs a value`);
      i += 1;
      return value;
    };
    const number = (text: string): number => {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${text}'`);
      return n;
    };
    switch (name) {
      case '--tenant':
        options.tenant = takeValue();
        break;
      case '--port':
        options.port = number(takeValue());
        break;
      case '--host':
        options.host = takeValue();
        break;
      case '--token':
        options.token = takeValue();
        break;
      case '--page-size':
        options.pageSize = number(takeValue());
        break;
      case '--faults':
        options.faults = takeValue();
        break;
      case '--teams-bot':
        options.teamsBot = takeValue();
        break;
      case '--teams-bot-app-id':
        options.teamsBotAppId = takeValue();
        break;
      case '--teams-port':
        options.teamsPort = number(takeValue());
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument '${arg}'`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const seed = loadSeed(options.tenant);
  let faults: FaultPlan | undefined;
  if (options.faults !== undefined) {
    try {
      faults = validateFaultPlan(JSON.parse(fs.readFileSync(options.faults, 'utf8')) as unknown);
    } catch (err) {
      process.stderr.write(`--faults ${options.faults}: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  const sim = await startSimulator({
    seed,
    port: options.port,
    host: options.host,
    token: options.token,
    pageSize: options.pageSize,
    faults,
  });
  if (faults) {
    process.stdout.write(
      `Fault injection on: ${faults.rules.length} rule(s), seed ${faults.seed ?? 1}, replication lag ${faults.replicationLagMs ?? 0} ms, index lag ${faults.indexLag ?? seed.indexLag ?? 0} ms\n`,
    );
  }
  let teams: TeamsDouble | undefined;
  if (options.teamsBot !== undefined) {
    const botAppId = options.teamsBotAppId ?? seed.teamsApps?.catalog.find((a) => a.botId)?.botId ?? undefined;
    if (!botAppId) {
      process.stderr.write(
        "--teams-bot needs --teams-bot-app-id, or an app with a botId in the seed's teamsApps.catalog\n",
      );
      process.exit(2);
    }
    const linked = seed.teamsApps?.catalog.some((a) => a.botId?.toLowerCase() === botAppId.toLowerCase()) ?? false;
    teams = await startTeamsDouble({
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
  }
  // Last: the line that says the simulator is ready.
  process.stdout.write(
    `Graph tenant simulator listening on ${sim.graphBaseUrl} (tenant: ${seed.tenant.displayName})\n`,
  );
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

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
