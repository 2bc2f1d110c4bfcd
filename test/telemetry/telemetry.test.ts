/**
 * Telemetry with in-memory exporters: an invitation, an approval and a failed write leave spans (Graph requests
 * with their request ids, store calls, Teams-free domain work), metrics with the right counts, and no personal
 * data (none of the seed's addresses or names, nor the typed address, reason or welcome message).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/projectRoot';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { installProviders, observeGauge, uninstallProviders, setAttributes, span } from '../../src/telemetry/telemetry';
import { SpanKind } from '@opentelemetry/api';
import type { ActivityHandler, CloudAdapter } from 'botbuilder';
import { createServer, listen } from '../../src/bot/server';
import { silentLogger } from '../../src/logging';
import { instrumentStore } from '../../src/telemetry/store';
import { routeTemplate } from '../../src/telemetry/route';
import { loadDemoSeed } from '../../src/simulator';
import {
  actionData,
  cardId,
  createHarness,
  groups,
  lastCard,
  requestExpenses,
  toConfirmation,
  users,
  TENANT_ID,
  type Harness,
} from '../support/botHarness';

interface Point {
  name: string;
  attributes: Record<string, unknown>;
  value: unknown;
}

function points(all: ResourceMetrics[]): Point[] {
  const out: Point[] = [];
  for (const resource of all.slice(-1)) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const p of metric.dataPoints)
          out.push({ name: metric.descriptor.name, attributes: p.attributes, value: p.value });
      }
    }
  }
  return out;
}

function sum(all: Point[], name: string, attributes: Record<string, unknown> = {}): number {
  return all
    .filter((p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : 0), 0);
}

describe('telemetry off', () => {
  it('a bot started with no exporter configured loads no OpenTelemetry SDK, exporter or Azure Monitor distro', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'telemetry-off-'));
    const script = `
      const { startBot } = require(${JSON.stringify(path.join(projectRoot(), 'dist/src/index.js'))});
      const { loadSettings } = require(${JSON.stringify(path.join(projectRoot(), 'dist/src/config/index.js'))});
      const { silentLogger } = require(${JSON.stringify(path.join(projectRoot(), 'dist/src/logging.js'))});
      (async () => {
        const bot = await startBot(loadSettings({ PORT: '0', STORE_PATH: ${JSON.stringify(path.join(dir, 'bot.sqlite'))} }), silentLogger);
        await fetch(bot.url + '/health/ready');
        const loaded = Object.keys(require.cache).filter((k) => /@opentelemetry[\\/](sdk-|exporter-|resources)|@azure[\\/]monitor-opentelemetry/.test(k));
        await bot.stop(1000);
        process.stdout.write(JSON.stringify(loaded.length));
        process.exit(0);
      })();`;
    try {
      const out = execFileSync(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      assert.equal(out.trim().split('\n').pop(), '0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('telemetry (in-memory exporters)', () => {
  let spans: InMemorySpanExporter;
  let metricExporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let tracerProvider: NodeTracerProvider;
  let meterProvider: MeterProvider;
  let h: Harness;

  beforeEach(async () => {
    spans = new InMemorySpanExporter();
    tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    tracerProvider.register();
    metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
    meterProvider = new MeterProvider({ readers: [reader] });
    installProviders(tracerProvider, meterProvider);
    h = await createHarness({ wrapStore: instrumentStore });
  });

  afterEach(async () => {
    await h.close();
    uninstallProviders();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    context.disable();
  });

  it('an invitation, an approval and a failed write: spans with Graph request ids, counts by outcome, no personal data', async () => {
    const turn = <T>(fn: () => Promise<T>): Promise<T> => span('turn message', {}, fn, { root: true, kind: 'server' });
    // 1. An invitation that succeeds.
    const chat = h.chat(users.megan);
    const confirm = await turn(() =>
      toConfirmation(
        chat,
        'Contoso Wiki',
        'Wiki Partner Readers',
        'pat.partner@adatum.com',
        'Welcome to the wiki, Pat!',
      ),
    );
    await turn(() => chat.submit(actionData(lastCard(confirm), 'Send invitation'), cardId(confirm)));
    // 2. An access request that an owner approves.
    await turn(() => requestExpenses(h.chat(users.adele), 'Quarterly audit for Adele Vance'));
    const [request] = await h.store.requests.listByRequester(TENANT_ID, users.adele.aadObjectId, 1);
    await turn(() =>
      h.chat(users.megan).invoke('request.approve', { requestId: request.id, comment: 'Welcome aboard' }),
    );
    // 3. A write Graph keeps refusing with 429 (Retry-After 0): the invitation fails after the SDK's retries.
    h.sim.setFaults({ rules: [{ method: 'POST', path: '/invitations', rate429: 1, retryAfterSeconds: 0 }] });
    const again = await turn(() =>
      toConfirmation(chat, 'Contoso Wiki', 'Wiki Partner Readers', 'quinn.partner@adatum.com'),
    );
    await turn(() => chat.submit(actionData(lastCard(again), 'Send invitation'), cardId(again)));
    await h.background.drain(5_000);
    h.sim.setFaults(null);

    await reader.forceFlush();
    const finished = spans.getFinishedSpans();
    const all = points(metricExporter.getMetrics());

    // Spans: the Graph calls with method, route template and Graph's request id, inside the turn's trace.
    const graph = finished.filter(
      (s) => s.attributes['url.template'] !== undefined && s.name.startsWith('POST /invitations'),
    );
    assert.ok(graph.length >= 2, `invitation spans: ${finished.map((s) => s.name).join(', ')}`);
    const ok = graph.find((s) => s.attributes['http.response.status_code'] === 201);
    assert.ok(ok, 'a successful POST /invitations span');
    assert.match(String(ok.attributes['graph.request_id']), /^[0-9a-f-]{36}$/);
    const turns = new Set(finished.filter((s) => s.name === 'turn message').map((s) => s.spanContext().traceId));
    assert.ok(turns.has(ok.spanContext().traceId), 'the Graph span is in a turn trace');
    const throttled = graph.find((s) => s.attributes['http.response.status_code'] === 429);
    assert.ok(throttled, 'the refused write has a span');
    assert.ok(
      throttled.events.filter((e) => e.name === 'graph.throttled').length >= 2,
      'each throttled attempt is an event',
    );
    const members = finished.find((s) => s.name === 'POST /groups/{id}/members/$ref');
    assert.ok(members, 'membership write span with the group id replaced');
    assert.ok(
      finished.some((s) => s.name === 'store.audit.append'),
      'store calls are spans',
    );
    assert.ok(
      finished.some((s) => s.name === 'store.operations.update'),
      'store calls are spans',
    );

    // Metrics with the right counts.
    assert.equal(sum(all, 'guestinvite.invitations', { outcome: 'succeeded' }), 1);
    assert.equal(sum(all, 'guestinvite.invitations', { outcome: 'failed' }), 1);
    assert.equal(sum(all, 'guestinvite.approvals', { outcome: 'approved' }), 1);
    assert.equal(sum(all, 'guestinvite.approvals', { outcome: 'membership.added' }), 1);
    const waits = all.filter(
      (p) => p.name === 'guestinvite.request.decision_wait' && p.attributes.outcome === 'approved',
    );
    assert.equal(waits.length, 1);
    assert.equal((waits[0].value as { count: number }).count, 1, 'one decision wait recorded');
    const invitationPosts = h.sim
      .requests()
      .filter((r) => r.method === 'POST' && r.url.startsWith('/v1.0/invitations')).length;
    assert.equal(
      sum(all, 'guestinvite.graph.requests', { 'url.template': '/invitations' }),
      invitationPosts,
      'each attempt counted',
    );
    assert.equal(sum(all, 'guestinvite.graph.throttled', { 'url.template': '/invitations' }), invitationPosts - 1);
    assert.ok(sum(all, 'guestinvite.graph.requests', { 'http.response.status_code': 200 }) > 0);

    // No personal data anywhere in what is exported.
    const exported = JSON.stringify({
      spans: finished.map((s: ReadableSpan) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
      })),
      metrics: all,
    }).toLowerCase();
    const seed = loadDemoSeed();
    const personal = [
      ...seed.users.flatMap((u) => [u.displayName, u.mail, u.userPrincipalName]),
      'pat.partner@adatum.com',
      'quinn.partner@adatum.com',
      'Welcome to the wiki',
      'Quarterly audit',
      'Welcome aboard',
      groups.wikiReaders,
    ].filter((v): v is string => typeof v === 'string' && v.length > 0);
    for (const value of personal)
      assert.ok(!exported.includes(value.toLowerCase()), `exported telemetry contains '${value}'`);
  });

  it('a replication wait is measured from the first invite.waiting to invite.succeeded of the same operation', async () => {
    const entry = (action: string, time: string) => ({
      time,
      tenantId: TENANT_ID,
      actorId: users.megan.aadObjectId,
      action,
      outcome: 'x',
      operationId: 'op-replication-1',
    });
    await h.store.audit.append(entry('invite.waiting', '2026-01-01T10:00:00.000Z'));
    await h.store.audit.append(entry('invite.waiting', '2026-01-01T10:00:30.000Z'));
    await h.store.audit.append(entry('invite.succeeded', '2026-01-01T10:01:30.000Z'));
    await reader.forceFlush();
    const all = points(metricExporter.getMetrics());
    const wait = all.find((p) => p.name === 'guestinvite.replication.wait');
    assert.deepEqual([(wait?.value as { count: number }).count, (wait?.value as { sum: number }).sum], [1, 90]);
    assert.equal(sum(all, 'guestinvite.replication.waits'), 2);
    assert.equal(sum(all, 'guestinvite.invitations', { outcome: 'waiting' }), 2);
  });

  it('each incoming activity is a root server span with its type and the command, never the text', async () => {
    const adapter = {
      process: async (
        _req: unknown,
        res: { send(status: number): void },
        logic: (context: unknown) => Promise<void>,
      ) => {
        await logic({});
        res.send(200);
      },
    } as unknown as CloudAdapter;
    const bot = { run: async () => setAttributes({ 'guestinvite.command': 'invite' }) } as unknown as ActivityHandler;
    const host = createServer({
      adapter,
      bot,
      logger: silentLogger,
      health: async () => ({ status: 'ok', checks: {} }),
    });
    const url = await listen(host.server, 0, '127.0.0.1');
    try {
      const body = {
        type: 'message',
        id: 'a1',
        text: 'invite pat.partner@adatum.com',
        conversation: { id: 'c1' },
        from: { id: 'u1' },
      };
      const response = await fetch(`${url}/api/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200);
    } finally {
      await new Promise<void>((resolve) => host.server.close(() => resolve()));
    }
    const [turn] = spans.getFinishedSpans().filter((s) => s.name === 'turn message');
    assert.ok(turn, 'a turn span');
    assert.equal(turn.kind, SpanKind.SERVER);
    assert.equal(turn.parentSpanContext, undefined, 'a root span');
    assert.equal(turn.attributes['guestinvite.command'], 'invite');
    assert.ok(!JSON.stringify(turn.attributes).includes('adatum'), 'no text');
    await reader.forceFlush();
    const turns = points(metricExporter.getMetrics()).filter((p) => p.name === 'guestinvite.turn.duration');
    assert.equal((turns[0]?.value as { count: number }).count, 1);
  });

  it('observeGauge: read at each export until it is unregistered (the API an outbox uses for waiting and oldest age)', async () => {
    let waiting = 3;
    let reads = 0;
    const stop = observeGauge('guestinvite.outbox.waiting', 'Proactive messages waiting', '{message}', async () => {
      reads++;
      return [{ value: waiting }];
    });
    await reader.forceFlush();
    assert.equal(points(metricExporter.getMetrics()).find((p) => p.name === 'guestinvite.outbox.waiting')?.value, 3);
    waiting = 5;
    await reader.forceFlush();
    assert.equal(points(metricExporter.getMetrics()).find((p) => p.name === 'guestinvite.outbox.waiting')?.value, 5);
    assert.equal(reads, 2);
    stop();
    await reader.forceFlush();
    assert.equal(reads, 2, 'not read once unregistered');
  });

  it('route templates keep names and drop ids, addresses, keys and queries', () => {
    assert.equal(
      routeTemplate('/v1.0/users/3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e6f01/memberOf?$filter=x'),
      '/users/{id}/memberOf',
    );
    assert.equal(routeTemplate('/v1.0/users/pat.partner@adatum.com'), '/users/{id}');
    assert.equal(
      routeTemplate("/v1.0/directoryRoles(roleTemplateId='62e90394')/members"),
      '/directoryRoles({id})/members',
    );
    assert.equal(routeTemplate('/v1.0/groups/6a7b/members/$ref'), '/groups/{id}/members/$ref');
    assert.equal(routeTemplate('/v1.0/$batch'), '/$batch');
  });
});
