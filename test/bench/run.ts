/**
 * `npm run bench`: what a turn costs, over HTTP, beside a bare botbuilder echo bot (see docs/benchmark.md).
 *
 * The bot (node dist/src/index.js), the echo bot (dist/test/bench/echoServer.js) and the Graph simulator (demo tenant
 * plus 16 bench owners of Contoso Expenses) each run as their own process; this process is the load generator
 * (16 conversations at once) and the stubbed Bot Connector. CPU and RSS are read from /proc/PID for each process,
 * so the simulator's CPU is not counted as the bot's.
 *
 * Turn counts: flags (--help-turns=N) or environment (BENCH_HELP_TURNS=N); see `settings` below.
 * BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to the bot process.
 * PostgreSQL: DATABASE_URL, or else a private cluster started like the tests' (Debian's postgresql package), for the
 * store operations and the one-versus-two-instances run; the main scenarios run on the embedded default, SQLite.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoTenantPath } from '../../src/simulator/seed';
import {
  actionData,
  choiceValues,
  Conversation,
  lastCard,
  percentile,
  runLoad,
  StubConnector,
  type LoadResult,
  type TurnResult,
} from './load';
import { cpuMs, rssMiB, startBotProcess, startEcho, startSimulatorProcess, type Measured } from './processes';
import { storeOps, type StoreOpsResult } from './storeOps';
import { createDatabase, stopPostgres } from '../support/postgres';
import { bulkBench, printBulkBench } from './bulk';
import { telemetryBench, type TelemetryBench } from './telemetry';
import { outboxBench, printOutboxBench } from './outbox';

function setting(name: string, fallback: number): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const env = process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const raw = flag ? flag.slice(name.length + 3) : env;
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got '${raw}'`);
  return value;
}

const settings = {
  concurrency: setting('concurrency', 16),
  warmup: setting('warmup', 300),
  echoTurns: setting('echo-turns', 3000),
  helpTurns: setting('help-turns', 3000),
  inviteTurns: setting('invite-turns', 2000),
  invitations: setting('invitations', 150),
  rssTurns: setting('rss-turns', 10_000),
  rssMark: setting('rss-mark', 1000),
  instanceTurns: setting('instance-turns', 1500),
  storeMs: setting('store-ms', 500),
  /** 0 skips the bulk invitation runs (test/bench/bulk.ts). */
  bulk: setting('bulk', 1),
  /** `help` turns with telemetry off and on (test/bench/telemetry.ts); 0 skips them. */
  telemetryTurns: setting('telemetry-turns', 1500),
  /** 0 skips the proactive delivery run (test/bench/outbox.ts); --outbox-only runs it alone. */
  outbox: setting('outbox', 1),
};

/** `--only=telemetry`: only the telemetry comparison (a short run). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? process.env.BENCH_ONLY ?? '';

function printTelemetry(t: TelemetryBench): void {
  console.log(
    `Telemetry (help, ${t.turns} turns each): off ${fmt(t.offCpuMsPerTurn)} ms CPU/turn, on (OTLP) ${fmt(t.onCpuMsPerTurn)} ms CPU/turn (×${fmt(t.ratio)}, target ≤ ${t.target.ratio}); ` +
      `received ${t.exported.traceRequests} trace and ${t.exported.metricRequests} metric exports, ${(t.exported.bytes / 1024).toFixed(0)} KiB`,
  );
}

async function onlyTelemetry(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-bench-'));
  const connector = new StubConnector();
  const stops: Array<() => Promise<void>> = [];
  try {
    await connector.start();
    stops.push(() => connector.close());
    const tenant = benchTenant(dir, settings.concurrency);
    const simulator = await startSimulatorProcess(tenant.file);
    stops.push(() => simulator.stop());
    const result = await telemetryBench({
      connector,
      graphBaseUrl: `${simulator.baseUrl}/v1.0`,
      storePath: (name) => path.join(dir, `bot-${name}.sqlite`),
      owners: tenant.owners,
      turns: settings.telemetryTurns,
      warmup: settings.warmup,
    });
    printTelemetry(result);
    console.log(JSON.stringify({ bench: 'guest-invite', telemetry: result }));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const BENCH_OWNER_PREFIX = 'b0000000-0000-4000-8000-0000000000';
const EXPENSES_GROUP = '6a7b8c9d-1e2f-4a3b-8c4d-5e6f7a8b9c01';

/** The demo tenant plus `count` users who own Contoso Expenses' group: one app owner per conversation. */
function benchTenant(dir: string, count: number): { file: string; owners: Array<{ id: string; name: string }> } {
  const seed = JSON.parse(readFileSync(demoTenantPath, 'utf8')) as {
    users: Array<Record<string, unknown>>;
    groups: Array<{ id: string; owners: string[] }>;
  };
  const owners = Array.from({ length: count }, (_, i) => ({
    id: `${BENCH_OWNER_PREFIX}${String(i + 1).padStart(2, '0')}`,
    name: `Bench Owner ${i + 1}`,
  }));
  for (const [i, owner] of owners.entries()) {
    const upn = `bench.owner${i + 1}@contoso.com`;
    seed.users.push({
      id: owner.id,
      displayName: owner.name,
      userPrincipalName: upn,
      mail: upn,
      userType: 'Member',
      accountEnabled: true,
    });
  }
  const expenses = seed.groups.find((g) => g.id === EXPENSES_GROUP);
  if (!expenses) throw new Error('the demo tenant has no Contoso Expenses group');
  expenses.owners.push(...owners.map((o) => o.id));
  const file = path.join(dir, 'bench-tenant.json');
  writeFileSync(file, JSON.stringify(seed));
  return { file, owners };
}

/** A process that takes turns, and how many it has taken (RSS is sampled when the count passes the marks). */
class Target {
  turns = 0;
  readonly rssAt = new Map<number, number>();
  constructor(
    readonly proc: Measured,
    private readonly marks: number[] = [],
  ) {}
  get endpoint(): string {
    return `${this.proc.baseUrl}/api/messages`;
  }
  count(n = 1): void {
    const before = this.turns;
    this.turns += n;
    for (const mark of this.marks) if (before < mark && this.turns >= mark) this.rssAt.set(mark, rssMiB(this.proc.pid));
  }
}

interface Row {
  name: string;
  turns: number;
  turnsPerSecond: number;
  p50: number;
  p99: number;
  cpuMsPerTurn: number;
  note?: string;
}

/** Runs `load` after `warm`, measuring the CPU of `measured` processes meanwhile. */
async function scenario(
  name: string,
  measured: Measured[],
  warm: () => Promise<unknown>,
  load: () => Promise<LoadResult>,
  note?: string,
): Promise<Row> {
  await warm();
  const cpuBefore = measured.map((m) => cpuMs(m.pid));
  const result = await load();
  const cpu = measured.reduce((sum, m, i) => sum + cpuMs(m.pid) - cpuBefore[i], 0);
  const row: Row = {
    name,
    turns: result.turns,
    turnsPerSecond: (result.turns * 1000) / result.elapsedMs,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    cpuMsPerTurn: cpu / result.turns,
    note,
  };
  process.stderr.write(
    `  ${name}: ${row.turnsPerSecond.toFixed(0)} turns/s, ${row.cpuMsPerTurn.toFixed(2)} ms CPU/turn\n`,
  );
  return row;
}

function textTurns(conversations: Conversation[], targets: Target[], text: (i: number) => string) {
  let rr = 0;
  return (turns: number) =>
    runLoad(conversations, turns, async (conversation, i) => {
      const target = targets[rr++ % targets.length];
      const result = await conversation.send(target.endpoint, text(i));
      target.count();
      if (!result.sent.length) throw new Error(`${target.proc.name} sent nothing for '${text(i)}'`);
      return [result.ms];
    });
}

/** invite guest → (app) → (group) → details → send: one invitation; returns each turn's result. */
async function invitation(
  conversation: Conversation,
  target: Target,
  email: string,
  step?: () => Promise<void>,
): Promise<TurnResult[]> {
  const turns: TurnResult[] = [];
  const take = async (result: Promise<TurnResult>): Promise<TurnResult> => {
    const r = await result;
    target.count();
    turns.push(r);
    await step?.();
    return r;
  };
  let turn = await take(conversation.send(target.endpoint, 'invite guest'));
  for (const input of ['appId', 'groupId']) {
    const { id, card } = lastCard(turn.sent);
    const values = choiceValues(card, input);
    if (values.length === 0) continue;
    turn = await take(conversation.submit(target.endpoint, { ...actionData(card, 'Next'), [input]: values[0] }, id));
  }
  let { id, card } = lastCard(turn.sent);
  turn = await take(
    conversation.submit(target.endpoint, { ...actionData(card, 'Review'), email, message: 'Welcome' }, id),
  );
  ({ id, card } = lastCard(turn.sent));
  turn = await take(conversation.submit(target.endpoint, actionData(card, 'Send invitation'), id));
  if (!JSON.stringify(turn.sent).includes('Guest invited'))
    throw new Error(`the invitation of ${email} did not succeed: ${JSON.stringify(turn.sent).slice(0, 600)}`);
  return turns;
}

async function graphRoundTrips(simulator: Measured): Promise<number> {
  const res = await fetch(`${simulator.baseUrl}/_simulator/requests`);
  const body = (await res.json()) as { requests: Array<{ batchId?: string }> };
  return body.requests.filter((r) => !r.batchId).length;
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-bench-'));
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const stops: Array<() => Promise<void>> = [];
  const connector = new StubConnector();
  try {
    await connector.start();
    stops.push(() => connector.close());
    const tenant = benchTenant(dir, settings.concurrency);
    const simulator = await startSimulatorProcess(tenant.file);
    stops.push(() => simulator.stop());
    const graphBaseUrl = `${simulator.baseUrl}/v1.0`;
    const storePath = path.join(dir, 'bot.sqlite');
    const engine = 'SQLite';
    const databaseEnv: Record<string, string> = {};
    const postgres: { url: string | null; why: string } = { url: null, why: '' };
    try {
      postgres.url = process.env.DATABASE_URL?.trim() || (await createDatabase('bench'));
    } catch (err) {
      postgres.why = `no PostgreSQL (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    }
    stops.push(async () => stopPostgres());
    const echoProc = await startEcho();
    stops.push(() => echoProc.stop());
    const botProc = await startBotProcess('bot', { graphBaseUrl, storePath, env: databaseEnv, nodeArgs });
    stops.push(() => botProc.stop());
    // The first setup scan runs 2 s after start: idle is after it.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const rssIdle = rssMiB(botProc.pid);
    const echoRssIdle = rssMiB(echoProc.pid);
    const echo = new Target(echoProc);
    const bot = new Target(botProc, [settings.rssMark, settings.rssTurns]);

    const synthetic = (tag: string, n: number, from = 0) =>
      Array.from(
        { length: n },
        (_, i) =>
          new Conversation(
            connector,
            { id: `c0000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`, name: `Bench User ${from + i}` },
            tag,
          ),
      );
    const owners = tenant.owners.map((o) => new Conversation(connector, o, 'owner'));
    const rows: Row[] = [];

    const echoLoad = textTurns(synthetic('echo', settings.concurrency), [echo], () => 'hello');
    rows.push(
      await scenario(
        'echo (bare botbuilder)',
        [echoProc],
        () => echoLoad(settings.warmup),
        () => echoLoad(settings.echoTurns),
      ),
    );
    const helpLoad = textTurns(owners, [bot], () => 'help');
    rows.push(
      await scenario(
        'help',
        [botProc],
        () => helpLoad(settings.warmup),
        () => helpLoad(settings.helpTurns),
      ),
    );
    const inviteLoad = textTurns(owners, [bot], () => 'invite guest');
    rows.push(
      await scenario(
        'invite guest (first turn)',
        [botProc],
        () => inviteLoad(settings.warmup),
        () => inviteLoad(settings.inviteTurns),
      ),
    );
    let email = 0;
    const invitations = (count: number) =>
      runLoad(owners, count, async (conversation) =>
        (await invitation(conversation, bot, `bench.${process.pid}.${++email}@adatum.com`)).map((t) => t.ms),
      );
    const full = await scenario(
      'full invitation (per turn)',
      [botProc],
      () => invitations(Math.ceil(settings.warmup / 4)),
      () => invitations(settings.invitations),
    );

    // Graph round trips of one invitation, alone: all four turns, and the last (send) turn.
    await fetch(`${simulator.baseUrl}/_simulator/requests`, { method: 'DELETE' });
    const perTurn: number[] = [];
    let seen = 0;
    await invitation(owners[0], bot, `bench.${process.pid}.single@adatum.com`, async () => {
      const total = await graphRoundTrips(simulator);
      perTurn.push(total - seen);
      seen = total;
    });
    const roundTrips = { invitation: seen, sendTurn: perTurn.at(-1) ?? NaN, perTurn };
    rows[2].note = `${perTurn[0]} Graph round trips`;
    rows.push({
      ...full,
      note: `${settings.invitations} invitations of ${full.turns / settings.invitations} turns; Graph round trips ${perTurn.join('+')}`,
    });

    // RSS: top up to rssTurns with fresh conversations (4 turns each), so per-conversation growth would show.
    let fresh = 0;
    while (bot.turns < settings.rssTurns) {
      const left = settings.rssTurns - bot.turns;
      const batch = synthetic(
        `rss${fresh}`,
        Math.min(settings.concurrency, Math.ceil(left / 4)),
        fresh * settings.concurrency,
      );
      fresh++;
      await textTurns(batch, [bot], (i) => (i % 2 ? 'hello' : 'help'))(Math.min(left, batch.length * 4));
    }
    const rss = {
      idle: rssIdle,
      atMark: bot.rssAt.get(settings.rssMark) ?? NaN,
      atTurns: bot.rssAt.get(settings.rssTurns) ?? rssMiB(botProc.pid),
      echoIdle: echoRssIdle,
    };

    // One instance, then two on the same store (round robin), `help` turns.
    const skipped: Row = { name: 'skipped', turns: 0, turnsPerSecond: NaN, p50: NaN, p99: NaN, cpuMsPerTurn: NaN };
    let one = skipped;
    let two = skipped;
    if (settings.instanceTurns > 0) {
      one = await scenario(
        `help, 1 instance (${engine})`,
        [botProc],
        () => Promise.resolve(),
        () => helpLoad(settings.instanceTurns),
      );
      const botProc2 = await startBotProcess('bot 2', { graphBaseUrl, storePath, env: databaseEnv, nodeArgs });
      stops.push(() => botProc2.stop());
      const twoLoad = textTurns(owners, [bot, new Target(botProc2)], () => 'help');
      two = await scenario(
        `help, 2 instances (${engine})`,
        [botProc, botProc2],
        () => twoLoad(settings.warmup),
        () => twoLoad(settings.instanceTurns),
      );
      await botProc2.stop();
    }
    // The same on PostgreSQL: two instances on one database (what several App Service instances do).
    let pgOne = skipped;
    let pgTwo = skipped;
    if (settings.instanceTurns > 0 && postgres.url) {
      const pgEnv = { DATABASE_URL: postgres.url };
      const pg1 = await startBotProcess('bot (PostgreSQL)', { graphBaseUrl, storePath, env: pgEnv, nodeArgs });
      stops.push(() => pg1.stop());
      const pgTarget = new Target(pg1);
      const oneLoad = textTurns(owners, [pgTarget], () => 'help');
      pgOne = await scenario(
        'help, 1 instance (PostgreSQL)',
        [pg1],
        () => oneLoad(settings.warmup),
        () => oneLoad(settings.instanceTurns),
      );
      const pg2 = await startBotProcess('bot 2 (PostgreSQL)', { graphBaseUrl, storePath, env: pgEnv, nodeArgs });
      stops.push(() => pg2.stop());
      const twoLoad = textTurns(owners, [pgTarget, new Target(pg2)], () => 'help');
      pgTwo = await scenario(
        'help, 2 instances (PostgreSQL)',
        [pg1, pg2],
        () => twoLoad(settings.warmup),
        () => twoLoad(settings.instanceTurns),
      );
    }

    const telemetry =
      settings.telemetryTurns > 0
        ? await telemetryBench({
            connector,
            graphBaseUrl,
            storePath: (name) => path.join(dir, `bot-${name}.sqlite`),
            owners: tenant.owners,
            turns: settings.telemetryTurns,
            warmup: settings.warmup,
          })
        : null;

    const stores: StoreOpsResult[] = await storeOps(dir, settings.storeMs, postgres);
    const bulk = settings.bulk > 0 ? await bulkBench() : null;
    const outbox = settings.outbox > 0 ? await outboxBench() : null;

    // ---- report
    const base = rows[0];
    console.log(
      `\nGuest Invite bench: ${settings.concurrency} conversations at once over HTTP, stub Bot Connector, ${engine} store, Graph simulator in its own process (${os.cpus().length} CPUs)`,
    );
    console.log(
      `${'scenario'.padEnd(28)} ${'turns'.padStart(6)} ${'turns/s'.padStart(8)} ${'×echo'.padStart(6)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU ms/turn'.padStart(11)} ${'×echo'.padStart(6)}  note`,
    );
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(28)} ${String(r.turns).padStart(6)} ${fmt(r.turnsPerSecond, 0).padStart(8)} ${fmt(r.turnsPerSecond / base.turnsPerSecond).padStart(6)} ${fmt(r.p50, 1).padStart(7)} ${fmt(r.p99, 1).padStart(7)} ${fmt(r.cpuMsPerTurn).padStart(11)} ${fmt(r.cpuMsPerTurn / base.cpuMsPerTurn).padStart(6)}  ${r.note ?? ''}`,
      );
    }
    console.log(
      `Graph round trips per invitation: ${roundTrips.invitation} (by turn ${perTurn.join(' + ')}; send turn ${roundTrips.sendTurn})`,
    );
    console.log(
      `RSS (bot): idle ${fmt(rss.idle, 1)} MiB, after ${settings.rssMark} turns ${fmt(rss.atMark, 1)} MiB, after ${settings.rssTurns} turns ${fmt(rss.atTurns, 1)} MiB (×${fmt(rss.atTurns / rss.atMark)}); echo bot idle ${fmt(rss.echoIdle, 1)} MiB`,
    );
    const instancesLine = (name: string, a: Row, b: Row): string =>
      `Instances (${name}): 1 → ${fmt(a.turnsPerSecond, 0)} turns/s, 2 → ${fmt(b.turnsPerSecond, 0)} turns/s (×${fmt(b.turnsPerSecond / a.turnsPerSecond)}), CPU ${fmt(a.cpuMsPerTurn)} vs ${fmt(b.cpuMsPerTurn)} ms/turn`;
    console.log(instancesLine('SQLite, one file', one, two));
    console.log(
      postgres.url
        ? instancesLine('PostgreSQL, one database', pgOne, pgTwo)
        : `Instances (PostgreSQL): not measured: ${postgres.why}`,
    );
    for (const s of stores) {
      const ops = s.opsPerSecond
        ? Object.entries(s.opsPerSecond)
            .map(([k, v]) => `${k} ${fmt(v, 0)}`)
            .join(', ')
        : s.note;
      console.log(`Store ops/s, ${s.engine}: ${ops}`);
    }
    if (bulk) printBulkBench(bulk);
    if (telemetry) printTelemetry(telemetry);
    if (outbox) printOutboxBench(outbox);
    const ratio = (r: Row) => ({
      turnsPerSecond: r.turnsPerSecond,
      p50Ms: r.p50,
      p99Ms: r.p99,
      cpuMsPerTurn: r.cpuMsPerTurn,
      throughputVsEcho: r.turnsPerSecond / base.turnsPerSecond,
      cpuVsEcho: r.cpuMsPerTurn / base.cpuMsPerTurn,
    });
    const json = {
      bench: 'guest-invite',
      concurrency: settings.concurrency,
      engine,
      echo: ratio(rows[0]),
      help: ratio(rows[1]),
      inviteFirstTurn: ratio(rows[2]),
      fullInvitation: { ...ratio(rows[3]), turnsPerInvitation: rows[3].turns / settings.invitations },
      graphRoundTripsPerInvitation: roundTrips,
      rssMiB: {
        idle: rss.idle,
        [`after${settings.rssMark}`]: rss.atMark,
        [`after${settings.rssTurns}`]: rss.atTurns,
        growth: rss.atTurns / rss.atMark,
        echoIdle: rss.echoIdle,
      },
      storeOpsPerSecond: Object.fromEntries(stores.map((s) => [s.engine, s.opsPerSecond ?? s.note])),
      bulkInvite: bulk,
      telemetry,
      outbox,
      instances: {
        SQLite: {
          one: one.turnsPerSecond,
          two: two.turnsPerSecond,
          cpuMsPerTurnOne: one.cpuMsPerTurn,
          cpuMsPerTurnTwo: two.cpuMsPerTurn,
        },
        PostgreSQL: postgres.url
          ? {
              one: pgOne.turnsPerSecond,
              two: pgTwo.turnsPerSecond,
              cpuMsPerTurnOne: pgOne.cpuMsPerTurn,
              cpuMsPerTurnTwo: pgTwo.cpuMsPerTurn,
            }
          : postgres.why,
      },
      targets: {
        helpCpuVsEcho: { target: 1.5, met: rows[1].cpuMsPerTurn / base.cpuMsPerTurn <= 1.5 },
        inviteFirstTurnCpuVsEcho: { target: 2.5, met: rows[2].cpuMsPerTurn / base.cpuMsPerTurn <= 2.5 },
        idleRssMiB: { target: 120, met: rss.idle <= 120 },
        rssGrowth: { target: 1.3, met: rss.atTurns / rss.atMark <= 1.3 },
        graphRoundTripsSendTurn: { target: 3, met: roundTrips.sendTurn <= 3 },
        ...(telemetry ? { telemetryCpuOnVsOff: telemetry.target } : {}),
        ...(outbox ? outboxTargets(outbox) : {}),
      },
      seconds: (Date.now() - started) / 1000,
    };
    console.log(JSON.stringify(json));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function outboxTargets(r: Awaited<ReturnType<typeof outboxBench>>): Record<string, { target: number; met: boolean }> {
  return {
    outboxUnreachable: { target: 0, met: r.unreachable === 0 },
    outboxLost: { target: 0, met: r.lost === 0 },
    outboxDuplicated: { target: 0, met: r.duplicated === 0 },
    outboxWallVsFloor: { target: 1.2, met: r.wallVsFloor <= 1.2 },
    outboxAttemptsPerMessage: { target: 1.1, met: r.attemptsPerMessage <= 1.1 },
  };
}

async function outboxOnly(): Promise<void> {
  const r = await outboxBench();
  printOutboxBench(r);
  console.log(JSON.stringify({ bench: 'guest-invite-outbox', outbox: r, targets: outboxTargets(r) }));
}

(only === 'telemetry' ? onlyTelemetry() : process.argv.includes('--outbox-only') ? outboxOnly() : main()).catch(
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
