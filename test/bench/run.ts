/**
 * Benchmarks (not tests): figures for the invite path on this machine.
 * The real bot stack (dialogs, domain, Graph client, SQLite on disk) against the in-process tenant simulator.
 * Run: npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { actionData, apps, cardOf, createHarness, users, type Harness, type Turn } from '../support/botHarness';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(name: string, values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `${name.padEnd(44)} n=${String(values.length).padStart(4)}  mean ${mean.toFixed(2)} ms  p50 ${percentile(values, 50).toFixed(2)} ms  p95 ${percentile(values, 95).toFixed(2)} ms  max ${Math.max(...values).toFixed(2)} ms`;
}

function lastCardId(turn: Turn): string {
  const activity = [...turn.replies].reverse().find((a) => cardOf(a));
  if (!activity?.id) throw new Error('no card');
  return activity.id;
}

async function flow(h: Harness, i: number, timings: Record<string, number[]>): Promise<void> {
  const chat = h.chat(users.megan);
  let t = performance.now();
  const appTurn = await chat.send('invite guest');
  timings['turn: invite guest → app card (2 Graph round trips)'].push(performance.now() - t);
  t = performance.now();
  const detailsTurn = await chat.submit({ ...actionData(cardOf(appTurn.replies.at(-1)), 'Next'), appId: apps.expenses }, lastCardId(appTurn));
  const confirmTurn = await chat.submit({ ...actionData(cardOf(detailsTurn.replies.at(-1)), 'Review'), email: `bench.${i}@adatum.com`, message: 'Welcome' }, lastCardId(detailsTurn));
  timings['turns: app → details → confirmation'].push(performance.now() - t);
  const before = h.sim.requests().length;
  t = performance.now();
  const done = await chat.submit(actionData(cardOf(confirmTurn.replies.at(-1)), 'Send invitation'), lastCardId(confirmTurn));
  timings['turn: Send invitation → outcome card'].push(performance.now() - t);
  const after = h.sim.requests().slice(before);
  timings['Graph round trips after confirmation'].push(after.filter((r) => !r.batchId).length);
  timings['Graph requests after confirmation (batch items)'].push(after.filter((r) => !r.url.includes('$batch')).length);
  if (!JSON.stringify(done.updates.at(-1)).includes('Guest invited')) throw new Error(`invitation ${i} did not succeed`);
}

async function main(): Promise<void> {
  const count = Number(process.env.BENCH_INVITES ?? 200);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guest-invite-bench-'));
  const h = await createHarness({ storePath: path.join(dir, 'bot.sqlite') });
  const timings: Record<string, number[]> = {
    'turn: invite guest → app card (2 Graph round trips)': [],
    'turns: app → details → confirmation': [],
    'turn: Send invitation → outcome card': [],
    'Graph round trips after confirmation': [],
    'Graph requests after confirmation (batch items)': [],
  };
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  for (let i = 0; i < count; i++) await flow(h, i, timings);
  const elapsed = performance.now() - started;
  const memory = process.memoryUsage();
  console.log(`Guest Invite benchmark: ${count} complete invitations (new guests), one at a time, SQLite on disk, simulator on loopback`);
  for (const [name, values] of Object.entries(timings)) {
    if (name.startsWith('Graph')) console.log(`${name.padEnd(44)} min ${Math.min(...values)}  max ${Math.max(...values)}`);
    else console.log(summary(name, values));
  }
  console.log(`${'whole flows per second'.padEnd(44)} ${((count * 1000) / elapsed).toFixed(1)}`);
  console.log(`${'memory'.padEnd(44)} rss ${(memory.rss / 2 ** 20).toFixed(1)} MiB (+${((memory.rss - rssBefore) / 2 ** 20).toFixed(1)} MiB during the run), heap used ${(memory.heapUsed / 2 ** 20).toFixed(1)} MiB`);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
