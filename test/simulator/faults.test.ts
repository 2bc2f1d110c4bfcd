import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { FaultInjector } from '../../src/simulator/faults';
import type { FaultPlan, FaultStats, SimRequest, SimResponse } from '../../src/simulator';
import { type Client, TOKEN, contractProblems, ids, q, start, type GraphBody, type Reply } from './helpers';

type BatchRequest = {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
};

const GRAPH_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ORG = '/organization?$select=id';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

describe('simulator fault injection (real HTTP)', () => {
  let c: Client | undefined;

  afterEach(async () => {
    if (!c) return;
    const problems = contractProblems(c);
    await c.sim.close();
    c = undefined;
    assert.deepEqual(problems, []);
  });

  const sim = (): Client => {
    if (!c) throw new Error('no simulator started');
    return c;
  };
  const batch = (requests: BatchRequest[]) => sim().post('/$batch', { requests });
  const byId = (body: GraphBody) => new Map((body.responses ?? []).map((r) => [r.id, r]));
  const admin = async (method: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${sim().sim.url}/_simulator/faults`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  /** Checks the Graph error shape common to every injected fault. */
  function assertGraphError(r: Reply, status: number, code: string, clientRequestId?: string): void {
    assert.equal(r.status, status);
    assert.match(String(r.headers.get('content-type')), /^application\/json/);
    const err = r.body.error;
    assert.ok(err, `expected an OData error body, got ${JSON.stringify(r.body)}`);
    assert.equal(err.code, code);
    assert.equal(typeof err.message, 'string');
    assert.match(err.innerError.date, GRAPH_DATE);
    assert.equal(err.innerError['request-id'], r.headers.get('request-id'));
    assert.equal(err.innerError['client-request-id'], r.headers.get('client-request-id'));
    if (clientRequestId) assert.equal(err.innerError['client-request-id'], clientRequestId);
  }

  describe('off by default', () => {
    it('injects nothing without a plan, and reports no plan', async () => {
      c = await start();
      for (let i = 0; i < 10; i += 1) assert.equal((await sim().get(ORG)).status, 200);
      const b = await batch([{ id: '1', method: 'GET', url: ORG }]);
      assert.equal(byId(b.body).get('1')?.status, 200);
      assert.ok(
        sim()
          .sim.requests()
          .every((e) => e.fault === undefined && e.injectedLatencyMs === undefined),
      );
      assert.equal(sim().sim.faultPlan(), null);
      assert.equal(sim().sim.faultStats().active, false);
      const got = await admin('GET');
      assert.equal(got.status, 200);
      assert.deepEqual((got.body as { plan: unknown }).plan, null);
    });

    it('injects nothing when no rule matches (and a plan with no rules is harmless)', async () => {
      c = await start({
        faults: {
          seed: 3,
          rules: [
            { path: '/invitations', rate503: 1 },
            { method: 'POST', path: '/organization', rate500: 1 },
          ],
        },
      });
      for (let i = 0; i < 10; i += 1) assert.equal((await sim().get(ORG)).status, 200);
      const stats = sim().sim.faultStats();
      assert.equal(stats.active, true);
      assert.equal(stats.requests, 10);
      assert.equal(stats.matched, 0);
      sim().sim.setFaults({ rules: [] });
      assert.equal((await sim().get(ORG)).status, 200);
      assert.ok(
        sim()
          .sim.requests()
          .every((e) => e.fault === undefined),
      );
    });
  });

  describe('each fault kind, as Graph answers it', () => {
    it('429 TooManyRequests with Retry-After in seconds', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate429: 1, retryAfterSeconds: 7 }] } });
      const r = await sim().get(ORG, { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' });
      assertGraphError(r, 429, 'TooManyRequests', 'c0ffee00-0000-4000-8000-000000000001');
      assert.equal(r.headers.get('retry-after'), '7');
      assert.match(
        String(r.body.error?.message),
        /^Too many requests from Identifier:\S+ under category:\S+\. Please try again later\.$/,
      );
      assert.ok(r.headers.get('date'));
      const entry = sim().sim.requests().at(-1);
      assert.equal(entry?.status, 429);
      assert.equal(entry?.fault, '429');
    });

    it('429 with the default Retry-After of 1 second', async () => {
      c = await start({ faults: { rules: [{ path: '*', rate429: 1 }] } });
      const r = await sim().get(`/groups/${ids.group(1)}?$select=id`);
      assertGraphError(r, 429, 'TooManyRequests');
      assert.equal(r.headers.get('retry-after'), '1');
    });

    it('500 generalException, without Retry-After', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate500: 1 }] } });
      const r = await sim().get(ORG);
      assertGraphError(r, 500, 'generalException');
      assert.equal(r.body.error?.message, 'General exception while processing');
      assert.equal(r.headers.get('retry-after'), null);
      assert.equal(sim().sim.requests().at(-1)?.fault, '500');
    });

    it('502 UnknownError "502 Bad Gateway"', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate502: 1 }] } });
      const r = await sim().get(ORG);
      assertGraphError(r, 502, 'UnknownError');
      assert.equal(r.body.error?.message, '502 Bad Gateway');
      assert.equal(r.headers.get('retry-after'), null);
      assert.equal(sim().sim.requests().at(-1)?.fault, '502');
    });

    it('503 serviceNotAvailable with Retry-After', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate503: 1, retryAfterSeconds: 3 }] } });
      const r = await sim().get(ORG);
      assertGraphError(r, 503, 'serviceNotAvailable');
      assert.equal(r.body.error?.message, 'Service unavailable');
      assert.equal(r.headers.get('retry-after'), '3');
      assert.equal(sim().sim.requests().at(-1)?.fault, '503');
    });

    it('504 UnknownError with an empty message', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate504: 1 }] } });
      const r = await sim().get(ORG);
      assertGraphError(r, 504, 'UnknownError');
      assert.equal(r.body.error?.message, '');
      assert.equal(r.headers.get('retry-after'), null);
      assert.equal(sim().sim.requests().at(-1)?.fault, '504');
    });

    it('faults writes before they happen (POST /invitations creates nobody)', async () => {
      c = await start({ faults: { rules: [{ method: 'POST', path: '/invitations', rate503: 1 }] } });
      const r = await sim().post('/invitations', {
        invitedUserEmailAddress: 'nora@fabrikam.com',
        inviteRedirectUrl: 'https://x.example',
      });
      assertGraphError(r, 503, 'serviceNotAvailable');
      const found = await sim().get(`/users?$filter=${q("mail eq 'nora@fabrikam.com'")}&$select=id`);
      assert.deepEqual(found.body.value, []);
    });

    it('adds latency (fixed or drawn from a range) and logs it', async () => {
      c = await start({
        faults: {
          rules: [
            { path: '/organization', latencyMs: 150 },
            { path: '/policies/*', latencyMs: [40, 60] },
          ],
        },
      });
      const t0 = Date.now();
      const r = await sim().get(ORG);
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 >= 145, `took ${Date.now() - t0} ms`);
      const entry = sim().sim.requests().at(-1);
      assert.equal(entry?.fault, 'latency');
      assert.equal(entry?.injectedLatencyMs, 150);
      for (let i = 0; i < 5; i += 1) await sim().get('/policies/authorizationPolicy');
      const delays = sim()
        .sim.requests()
        .slice(-5)
        .map((e) => e.injectedLatencyMs ?? -1);
      assert.ok(
        delays.every((d) => d >= 40 && d <= 60),
        `delays ${delays.join(',')}`,
      );
      assert.equal(sim().sim.faultStats().injected.latency, 6);
    });

    it('a latency rule that also faults logs the status fault', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', latencyMs: 30, rate503: 1 }] } });
      const r = await sim().get(ORG);
      assert.equal(r.status, 503);
      const entry = sim().sim.requests().at(-1);
      assert.equal(entry?.fault, '503');
      assert.equal(entry?.injectedLatencyMs, 30);
    });

    it('matches method and path patterns ("*" segments, "**", case, encoded $ref)', async () => {
      c = await start({
        faults: {
          rules: [
            { method: 'POST', path: '/groups/*/members/$ref', rate503: 1 },
            { method: 'get', path: '/USERS/**', rate500: 1 },
          ],
        },
      });
      const add = await sim().post(`/groups/${ids.group(3)}/members/%24ref`, ref(ids.jordan));
      assert.equal(add.status, 503);
      assert.equal((await sim().get(`/groups/${ids.group(3)}/members?$select=id`)).status, 200);
      assert.equal((await sim().get(`/users/${ids.megan}/memberOf`)).status, 500);
      assert.equal((await sim().get('/users?$select=id')).status, 500);
      assert.equal((await sim().get(ORG)).status, 200);
    });
  });

  describe('determinism', () => {
    const plan = (seed: number): FaultPlan => ({
      seed,
      rules: [{ path: '*', rate429: 0.25, rate500: 0.1, rate503: 0.15, rate504: 0.1 }],
    });
    const run = async (client: Client, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i += 1)
        out.push((await client.get(i % 2 ? ORG : `/groups/${ids.group(1)}?$select=id`)).status);
      return out;
    };

    it('the same seed and request sequence give the same faults; another seed gives others', async () => {
      c = await start({ faults: plan(42) });
      const first = await run(sim(), 40);
      assert.ok(first.some((s) => s !== 200) && first.some((s) => s === 200), `statuses ${first.join(',')}`);
      const logged = sim()
        .sim.requests()
        .map((e) => e.fault ?? '-');
      await sim().sim.close();

      c = await start({ faults: plan(42) });
      assert.deepEqual(await run(sim(), 40), first);
      assert.deepEqual(
        sim()
          .sim.requests()
          .map((e) => e.fault ?? '-'),
        logged,
      );

      sim().sim.setFaults(plan(42));
      assert.deepEqual(await run(sim(), 40), first, 'setting the plan again restarts the sequence');

      sim().sim.setFaults(plan(7));
      assert.notDeepEqual(await run(sim(), 40), first);
    });

    it('the counters add up', async () => {
      c = await start({ faults: plan(42) });
      const statuses = await run(sim(), 40);
      const stats = sim().sim.faultStats();
      assert.equal(stats.requests, 40);
      assert.equal(stats.matched, 40);
      assert.equal(stats.seed, 42);
      for (const code of [429, 500, 502, 503, 504]) {
        assert.equal(
          stats.injected[String(code) as '429'],
          statuses.filter((s) => s === code).length,
          `count of ${code}`,
        );
      }
      assert.equal(stats.rules[0].injected, statuses.filter((s) => s !== 200).length);
      assert.equal(
        sim()
          .sim.requests()
          .filter((e) => e.fault !== undefined).length,
        stats.rules[0].injected,
      );
    });
  });

  describe('rate caps (limit)', () => {
    it('answers the N+1th request in the window with 429 and the seconds left, then lets requests through again', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', limit: { requests: 3, perMs: 2500 } }] } });
      const t0 = Date.now();
      for (let i = 0; i < 3; i += 1) assert.equal((await sim().get(ORG)).status, 200);
      const over = await sim().get(ORG);
      const elapsed = Date.now() - t0;
      assertGraphError(over, 429, 'TooManyRequests');
      assert.ok(elapsed < 400, `the first four requests took ${elapsed} ms`);
      assert.equal(over.headers.get('retry-after'), '3');
      assert.equal(sim().sim.requests().at(-1)?.fault, '429');
      assert.equal((await sim().get('/policies/authorizationPolicy')).status, 200, 'other paths are not capped');

      await sleep(t0 + 1100 - Date.now());
      const later = await sim().get(ORG);
      assert.equal(later.status, 429);
      assert.equal(later.headers.get('retry-after'), '2', 'Retry-After counts down to the end of the window');

      await sleep(t0 + 2500 + 150 - Date.now());
      assert.equal((await sim().get(ORG)).status, 200);
      const stats = sim().sim.faultStats();
      assert.equal(stats.throttled, 2);
      assert.equal(stats.injected['429'], 2);
      assert.equal(stats.rules[0].throttled, 2);
    });

    it('counts batch sub-requests against the cap, throttled items come back inside the 200', async () => {
      c = await start({ faults: { rules: [{ path: '/groups/*', limit: { requests: 2, perMs: 60_000 } }] } });
      const b = await batch(
        [1, 2, 3, 4].map((n) => ({ id: String(n), method: 'GET', url: `/groups/${ids.group(n)}?$select=id` })),
      );
      assert.equal(b.status, 200);
      const statuses = [1, 2, 3, 4].map((n) => byId(b.body).get(String(n))?.status);
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      const throttled = byId(b.body).get('3');
      assert.equal(throttled?.headers['Retry-After'], '60');
      assert.equal(throttled?.body?.error?.code, 'TooManyRequests');
    });
  });

  describe('$batch', () => {
    it('returns a faulted sub-request as its status inside the 200 batch response, with Retry-After in its headers', async () => {
      c = await start({
        faults: {
          rules: [
            { path: '/groups/*', rate429: 1, retryAfterSeconds: 5 },
            { path: '/users/*', rate503: 1 },
          ],
        },
      });
      const b = await batch([
        { id: 'g', method: 'GET', url: `/groups/${ids.group(1)}?$select=id` },
        { id: 'u', method: 'GET', url: `/users/${ids.megan}?$select=id` },
        { id: 'o', method: 'GET', url: ORG },
        { id: 'after', method: 'GET', url: ORG, dependsOn: ['g'] },
      ]);
      assert.equal(b.status, 200);
      const res = byId(b.body);
      assert.equal(res.get('g')?.status, 429);
      assert.equal(res.get('g')?.headers['Retry-After'], '5');
      assert.match(String(res.get('g')?.headers['Content-Type']), /^application\/json/);
      assert.equal(res.get('g')?.body?.error?.code, 'TooManyRequests');
      assert.match(String(res.get('g')?.body?.error?.innerError.date), GRAPH_DATE);
      assert.equal(typeof res.get('g')?.body?.error?.innerError['request-id'], 'string');
      assert.equal(res.get('u')?.status, 503);
      assert.equal(res.get('u')?.body?.error?.code, 'serviceNotAvailable');
      assert.equal(res.get('u')?.headers['Retry-After'], '1');
      assert.equal(res.get('o')?.status, 200);
      assert.equal(res.get('after')?.status, 424);
      const log = sim().sim.requests();
      const outer = log.find((e) => e.url === '/v1.0/$batch');
      assert.equal(outer?.fault, undefined);
      const subs = log.filter((e) => e.batchId === outer?.id);
      assert.deepEqual(subs.map((e) => [e.status, e.fault ?? '-']).sort(), [
        [200, '-'],
        [424, '-'],
        [429, '429'],
        [503, '503'],
      ]);
    });

    it('inBatchOnly faults only sub-requests; topLevelOnly only requests outside a batch', async () => {
      c = await start({
        faults: {
          rules: [
            { path: '/groups/*', rate429: 1, inBatchOnly: true },
            { path: '/groups/*', rate503: 1, topLevelOnly: true },
            { path: '/organization', rate500: 1, topLevelOnly: true },
          ],
        },
      });
      const group = `/groups/${ids.group(1)}?$select=id`;
      assert.equal((await sim().get(group)).status, 503);
      assert.equal((await sim().get(ORG)).status, 500);
      const b = await batch([
        { id: 'g', method: 'GET', url: group },
        { id: 'o', method: 'GET', url: ORG },
      ]);
      assert.equal(byId(b.body).get('g')?.status, 429);
      assert.equal(byId(b.body).get('o')?.status, 200);
    });

    it('"*" leaves the batch envelope alone; "/$batch" faults the envelope itself', async () => {
      c = await start({ faults: { rules: [{ path: '*', rate504: 1, inBatchOnly: true }] } });
      const b = await batch([{ id: '1', method: 'GET', url: ORG }]);
      assert.equal(b.status, 200);
      assert.equal(byId(b.body).get('1')?.status, 504);
      sim().sim.setFaults({ rules: [{ path: '/$batch', rate429: 1, retryAfterSeconds: 2 }] });
      const whole = await batch([{ id: '1', method: 'GET', url: ORG }]);
      assertGraphError(whole, 429, 'TooManyRequests');
      assert.equal(whole.headers.get('retry-after'), '2');
      assert.equal((await sim().get(ORG)).status, 200);
    });
  });

  describe('replication lag', () => {
    const LAG = 1000;
    const address = 'lena@fabrikam.com';
    const invite = () =>
      sim().post('/invitations', {
        invitedUserEmailAddress: address,
        inviteRedirectUrl: 'https://myapps.microsoft.com/',
      });

    it('hides an invited user from membership writes and reads until the lag is over; re-invites return the same user', async () => {
      c = await start({ faults: { rules: [], replicationLagMs: LAG } });
      const t0 = Date.now();
      const invited = await invite();
      assert.equal(invited.status, 201);
      const userId = (invited.body.invitedUser as { id: string }).id;

      const add = await sim().post(`/groups/${ids.group(3)}/members/$ref`, ref(userId));
      assert.equal(add.status, 404);
      assert.equal(add.body.error?.code, 'Request_ResourceNotFound');
      assert.equal(
        add.body.error?.message,
        `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`,
      );
      const bind = await sim().call('PATCH', `/groups/${ids.group(3)}`, {
        body: {
          'members@odata.bind': [
            `https://graph.microsoft.com/v1.0/directoryObjects/${ids.jordan}`,
            `https://graph.microsoft.com/v1.0/directoryObjects/${userId}`,
          ],
        },
      });
      assert.equal(bind.status, 404);
      assert.equal(bind.body.error?.code, 'Request_ResourceNotFound');
      assert.match(String(bind.body.error?.message), new RegExp(userId));
      assert.equal(
        (await sim().get(`/groups/${ids.group(3)}/members?$select=id`)).body.value?.length,
        0,
        'all or none',
      );

      const read = await sim().get(`/users/${userId}`);
      assert.equal(read.status, 404);
      assert.equal(read.body.error?.code, 'Request_ResourceNotFound');
      const byUpn = await sim().get(`/users/${encodeURIComponent('lena_fabrikam.com#EXT#@contoso.onmicrosoft.com')}`);
      assert.equal(byUpn.status, 404);
      const listed = await sim().get(`/users?$filter=${q(`mail eq '${address}'`)}&$select=id&$count=true`, {
        ConsistencyLevel: 'eventual',
      });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.value, []);
      assert.equal(listed.body['@odata.count'], 0);

      const again = await invite();
      assert.equal(again.status, 201);
      assert.equal((again.body.invitedUser as { id: string }).id, userId, 'no duplicate user');

      const inBatch = await batch([
        {
          id: 'add',
          method: 'POST',
          url: `/groups/${ids.group(3)}/members/$ref`,
          headers: { 'Content-Type': 'application/json' },
          body: ref(userId),
        },
      ]);
      assert.equal(byId(inBatch.body).get('add')?.status, 404);
      assert.ok(Date.now() - t0 < LAG, `the checks during the lag took ${Date.now() - t0} ms`);

      const lagFaults = sim()
        .sim.requests()
        .filter((e) => e.fault === 'lag');
      assert.equal(lagFaults.length, 6);
      assert.equal(sim().sim.faultStats().injected.lag, 6);
      assert.equal(sim().sim.faultStats().hiddenUsers, 1);

      await sleep(t0 + LAG + 100 - Date.now());
      assert.equal((await sim().post(`/groups/${ids.group(3)}/members/$ref`, ref(userId))).status, 204);
      assert.equal((await sim().get(`/users/${userId}?$select=id`)).status, 200);
      const found = await sim().get(`/users?$filter=${q(`mail eq '${address}'`)}&$select=id`);
      assert.deepEqual(
        found.body.value?.map((v) => v.id),
        [userId],
      );
      assert.equal(sim().sim.faultStats().hiddenUsers, 0);
      const third = await invite();
      assert.equal((third.body.invitedUser as { id: string }).id, userId);
      assert.equal(
        (await sim().get(`/users/${userId}?$select=id`)).status,
        200,
        're-inviting an existing guest does not hide it again',
      );
    });

    it('does not hide users that existed before, nor anything without a lag', async () => {
      c = await start({ faults: { rules: [], replicationLagMs: 5000 } });
      assert.equal((await sim().post(`/groups/${ids.group(3)}/members/$ref`, ref(ids.jordan))).status, 204);
      sim().sim.setFaults({ rules: [] });
      const invited = await invite();
      const userId = (invited.body.invitedUser as { id: string }).id;
      assert.equal((await sim().get(`/users/${userId}?$select=id`)).status, 200);
    });
  });

  describe('runtime control', () => {
    it('POST /_simulator/faults replaces the plan, GET returns it with counters, DELETE clears it', async () => {
      c = await start({ faults: { rules: [{ path: '/organization', rate500: 1 }] } });
      assert.equal((await sim().get(ORG)).status, 500);

      const posted = await admin('POST', {
        seed: 9,
        rules: [{ path: '/organization', rate503: 1, retryAfterSeconds: 2 }],
      });
      assert.equal(posted.status, 200);
      assert.deepEqual((posted.body as { plan: FaultPlan }).plan, {
        seed: 9,
        rules: [{ path: '/organization', rate503: 1, retryAfterSeconds: 2 }],
      });
      for (let i = 0; i < 3; i += 1) assert.equal((await sim().get(ORG)).status, 503);
      assert.equal((await sim().get('/policies/authorizationPolicy')).status, 200);

      const got = await admin('GET');
      assert.equal(got.status, 200);
      const { plan, stats } = got.body as { plan: FaultPlan; stats: FaultStats };
      assert.equal(plan.seed, 9);
      assert.equal(stats.active, true);
      assert.equal(stats.requests, 4);
      assert.equal(stats.matched, 3);
      assert.equal(stats.injected['503'], 3);
      assert.equal(stats.injected['500'], 0, 'counters start afresh with a new plan');
      assert.deepEqual(stats.rules, [
        { index: 0, method: '*', path: '/organization', matched: 3, injected: 3, throttled: 0 },
      ]);

      const bad = await admin('POST', { rules: [{ path: '/organization', rate429: 2 }] });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /rate429/);
      const badJson = await admin('POST', '{not json');
      assert.equal(badJson.status, 400);
      const typo = await admin('POST', { rules: [{ path: '*', rate_429: 1 }] });
      assert.equal(typo.status, 400);
      assert.match(JSON.stringify(typo.body), /rate_429/);
      assert.equal((await sim().get(ORG)).status, 503, 'a refused plan leaves the current one in place');

      const deleted = await admin('DELETE');
      assert.equal(deleted.status, 204);
      assert.equal((await sim().get(ORG)).status, 200);
      const after = await admin('GET');
      assert.equal((after.body as { plan: unknown }).plan, null);
      assert.equal((after.body as { stats: { active: boolean } }).stats.active, false);
      assert.ok(
        !sim()
          .sim.requests()
          .some((e) => e.url.startsWith('/_simulator')),
        'admin calls are not logged',
      );
    });

    it('setFaults and faultStats do the same in process, and refuse invalid plans', async () => {
      c = await start();
      sim().sim.setFaults({ rules: [{ path: '/organization', rate502: 1 }] });
      assert.equal((await sim().get(ORG)).status, 502);
      assert.equal(sim().sim.faultStats().injected['502'], 1);
      assert.throws(
        () => sim().sim.setFaults({ rules: [{ path: '/x', rate429: 0.6, rate503: 0.6 }] }),
        /add up to more than 1/,
      );
      assert.throws(
        () => sim().sim.setFaults({ rules: [{ path: '/x', latencyMs: [5, 1] }] }),
        /min is larger than max/,
      );
      assert.throws(
        () => sim().sim.setFaults({ rules: [{ path: '/x', inBatchOnly: true, topLevelOnly: true }] }),
        /exclude each other/,
      );
      sim().sim.setFaults(null);
      assert.equal((await sim().get(ORG)).status, 200);
    });
  });

  describe('CLI --faults FILE', () => {
    const mainJs = path.resolve(__dirname, '../../src/simulator/main.js');

    async function runCli(args: string[]): Promise<{ url: string; stop: () => Promise<void>; stdout: () => string }> {
      const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening on (http:\/\/\S+)\/v1\.0/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 20);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`simulator exited with ${code}: ${err}`));
        });
      });
      return {
        url,
        stdout: () => out,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }

    it('starts with the plan from the file (port 0) and injects its faults', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-faults-'));
      const file = path.join(dir, 'faults.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ seed: 5, rules: [{ path: '/organization', rate503: 1, retryAfterSeconds: 4 }] }),
      );
      const cli = await runCli(['--faults', file, '--port', '0']);
      try {
        assert.match(cli.stdout(), /Fault injection on: 1 rule\(s\), seed 5/);
        const res = await fetch(`${cli.url}/v1.0/organization`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '4');
        const body = (await res.json()) as GraphBody;
        assert.equal(body.error?.code, 'serviceNotAvailable');
        const ok = await fetch(`${cli.url}/v1.0/policies/authorizationPolicy`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(ok.status, 200);
        const faults = (await (await fetch(`${cli.url}/_simulator/faults`)).json()) as {
          stats: { injected: Record<string, number> };
        };
        assert.equal(faults.stats.injected['503'], 1);
        const log = (await (await fetch(`${cli.url}/_simulator/requests`)).json()) as {
          requests: Array<{ fault?: string }>;
        };
        assert.deepEqual(
          log.requests.map((e) => e.fault ?? '-'),
          ['503', '-'],
        );
      } finally {
        await cli.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses an invalid fault file with exit code 2', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-faults-'));
      const file = path.join(dir, 'faults.json');
      fs.writeFileSync(file, JSON.stringify({ rules: [{ path: '/organization', rate503: 7 }] }));
      try {
        const child = spawn(process.execPath, [mainJs, '--faults', file, '--port', '0'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        assert.equal(code, 2);
        assert.match(err, /rate503/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('fault stage (property)', () => {
  const request = (n: number, inBatch: boolean): SimRequest => ({
    logId: `log-${n}`,
    method: n % 3 === 0 ? 'POST' : 'GET',
    url: `/v1.0/groups/g${n % 4}/members`,
    path: `/v1.0/groups/g${n % 4}/members`,
    query: new URLSearchParams(),
    headers: {},
    body: undefined,
    baseUrl: 'http://localhost',
    requestId: `r-${n}`,
    clientRequestId: `c-${n}`,
    batchId: inBatch ? 'batch' : undefined,
  });
  const ok = async (): Promise<SimResponse> => ({ status: 200, headers: {} });
  const statuses = async (plan: FaultPlan, flags: boolean[]): Promise<number[]> => {
    const injector = new FaultInjector('tenant', plan);
    const out: number[] = [];
    for (let i = 0; i < flags.length; i += 1) out.push((await injector.stage(request(i, flags[i]), ok)).status);
    return out;
  };

  it('gives the same faults for the same seed and requests, and respects zero and full rates', async () => {
    const rate = fc.double({ min: 0, max: 0.2, noNaN: true });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -2_000_000, max: 2_000_000 }),
        fc.record({ rate429: rate, rate500: rate, rate502: rate, rate503: rate, rate504: rate }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        async (seed, rates, flags) => {
          const plan: FaultPlan = { seed, rules: [{ path: '/groups/*/members', ...rates }] };
          const a = await statuses(plan, flags);
          assert.deepEqual(await statuses(plan, flags), a);
          assert.ok(a.every((s) => [200, 429, 500, 502, 503, 504].includes(s)));
          const none = await statuses({ seed, rules: [{ path: '*', rate429: 0 }] }, flags);
          assert.ok(none.every((s) => s === 200));
          const all = await statuses({ seed, rules: [{ path: '**', rate504: 1 }] }, flags);
          assert.ok(all.every((s) => s === 504));
          const batchOnly = await statuses({ seed, rules: [{ path: '*', rate429: 1, inBatchOnly: true }] }, flags);
          assert.deepEqual(
            batchOnly,
            flags.map((f) => (f ? 429 : 200)),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
