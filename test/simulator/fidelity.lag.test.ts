import { strict as assert } from 'node:assert';
import { validateFaultPlan, type FaultPlan } from '../../src/simulator';
import { type Client, contractProblems, start } from './helpers';
import { EVENTUAL, assertGraphError, f, fakeClock, fidelitySeed, idsOf, ref } from './fidelitySeed';

const q = encodeURIComponent;
const INVITE = { invitedUserEmailAddress: 'pat@partner.example', inviteRedirectUrl: 'https://myapps.microsoft.com' };
const ownerCheck = (user: string) => `/groups/${f.plain}/owners?$filter=${q(`id eq '${user}'`)}&$count=true&$select=id`;

describe('simulator fidelity: index lag, replication lag and gateway timeouts (real HTTP)', () => {
  let c: Client | undefined;
  const sim = (): Client => {
    if (!c) throw new Error('no simulator');
    return c;
  };

  afterEach(async () => {
    if (!c) return;
    const problems = contractProblems(c);
    await c.sim.close();
    c = undefined;
    assert.deepEqual(problems, []);
  });

  describe('advanced-query index lag (group-list-owners.md, group-list-members.md: the index "might not be up-to-date with recent changes")', () => {
    it('an eventual read misses a just-added owner, a plain read sees it; after the lag both do (seed indexLag)', async () => {
      const clock = fakeClock();
      c = await start({ now: clock.now }, fidelitySeed({ indexLag: 60_000 }));
      assert.equal((await sim().post(`/groups/${f.plain}/owners/$ref`, ref(f.spare))).status, 204);
      const eventual = await sim().get(ownerCheck(f.spare), EVENTUAL);
      assert.deepEqual(idsOf(eventual), []);
      assert.equal(eventual.body['@odata.count'], 0);
      assert.deepEqual(idsOf(await sim().get(`/groups/${f.plain}/owners?$select=id`)), [f.owner, f.spare]);
      clock.advance(59_999);
      assert.deepEqual(idsOf(await sim().get(ownerCheck(f.spare), EVENTUAL)), []);
      clock.advance(1);
      assert.deepEqual(idsOf(await sim().get(ownerCheck(f.spare), EVENTUAL)), [f.spare]);
    });

    it('a removed member still shows in eventual reads until the lag has passed (fault plan indexLag overrides the seed)', async () => {
      const clock = fakeClock();
      c = await start({ now: clock.now, faults: { rules: [], indexLag: 30_000 } }, fidelitySeed({ indexLag: 0 }));
      assert.equal((await sim().call('DELETE', `/groups/${f.plain}/members/${f.member}/$ref`)).status, 204);
      const url = `/groups/${f.plain}/members?$filter=${q(`id eq '${f.member}'`)}&$count=true&$select=id`;
      assert.deepEqual(idsOf(await sim().get(url, EVENTUAL)), [f.member]);
      assert.deepEqual((await sim().get(`/groups/${f.plain}/members?$select=id`)).body.value, []);
      const check = await sim().post(`/users/${f.member}/checkMemberGroups`, { groupIds: [f.plain] });
      assert.deepEqual(check.body.value, [], 'checkMemberGroups without the header reads the directory');
      clock.advance(30_000);
      assert.deepEqual(idsOf(await sim().get(url, EVENTUAL)), []);
    });

    it('a user created by an invitation is missing from eventual GET /users until the lag has passed', async () => {
      const clock = fakeClock();
      c = await start({ now: clock.now }, fidelitySeed({ indexLag: 10_000 }));
      assert.equal((await sim().post('/invitations', INVITE)).status, 201);
      const url = `/users?$filter=${q("mail eq 'pat@partner.example'")}&$count=true&$select=id`;
      assert.equal((await sim().get(url, EVENTUAL)).body['@odata.count'], 0);
      assert.equal((await sim().get(url)).body.value?.length, 1, 'a plain read sees the new user');
      clock.advance(10_000);
      assert.equal((await sim().get(url, EVENTUAL)).body['@odata.count'], 1);
    });

    it('indexLag 0 (the default): eventual reads see changes at once', async () => {
      c = await start({}, fidelitySeed());
      await sim().post(`/groups/${f.plain}/owners/$ref`, ref(f.spare));
      assert.deepEqual(idsOf(await sim().get(ownerCheck(f.spare), EVENTUAL)), [f.spare]);
    });
  });

  describe('replication lag after POST /invitations (msgraph-sdk-dotnet#2508, microsoft-graph-docs#15839)', () => {
    const FORMS = [
      [
        'Request_ResourceNotFound',
        404,
        /^Resource '.+' does not exist or one of its queried reference-property objects are not present\.$/,
      ],
      ['Directory_ObjectNotFound', 404, /^Unable to read the company information from the directory\.$/],
      ['Request_BadRequest', 400, /^Not a valid reference update\.$/],
    ] as const;

    async function invited(plan: FaultPlan, now?: () => number): Promise<string> {
      c = await start({ faults: plan, now }, fidelitySeed());
      const r = await sim().post('/invitations', INVITE);
      assert.equal(r.status, 201);
      return String((r.body.invitedUser as { id: string }).id);
    }

    for (const [form, status, message] of FORMS) {
      it(`answers ${status} ${form} to member writes naming the just-invited user`, async () => {
        const id = await invited({ rules: [], replicationLagMs: 60_000, replicationLagForms: [form] });
        for (const write of [
          () => sim().post(`/groups/${f.plain}/members/$ref`, ref(id)),
          () =>
            sim().call('PATCH', `/groups/${f.plain}`, {
              body: { 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${id}`] },
            }),
        ]) {
          const r = await write();
          assertGraphError(r, status, form);
          assert.match(String(r.body.error?.message), message);
        }
        assert.equal(
          sim()
            .sim.requests()
            .filter((e) => e.fault === 'lag').length,
          2,
        );
      });
    }

    it('mixes the configured forms, the same way for the same seed, and lasts minutes on the injected clock', async () => {
      const plan: FaultPlan = {
        seed: 7,
        rules: [],
        replicationLagMs: 5 * 60_000,
        replicationLagForms: FORMS.map(([form]) => form),
      };
      const sequence = async (): Promise<string[]> => {
        const clock = fakeClock();
        const id = await invited(plan, clock.now);
        const seen: string[] = [];
        for (let i = 0; i < 12; i += 1) {
          const r = await sim().post(`/groups/${f.plain}/members/$ref`, ref(id));
          seen.push(`${r.status} ${String(r.body.error?.code)}`);
        }
        clock.advance(4 * 60_000);
        assert.notEqual(
          (await sim().post(`/groups/${f.plain}/members/$ref`, ref(id))).status,
          204,
          'still lagging after 4 minutes',
        );
        clock.advance(60_000);
        assert.equal(
          (await sim().post(`/groups/${f.plain}/members/$ref`, ref(id))).status,
          204,
          'visible after 5 minutes',
        );
        return seen;
      };
      const first = await sequence();
      assert.deepEqual([...new Set(first)].sort(), [
        '400 Request_BadRequest',
        '404 Directory_ObjectNotFound',
        '404 Request_ResourceNotFound',
      ]);
      const problems = contractProblems(sim());
      await sim().sim.close();
      c = undefined;
      assert.deepEqual(problems, []);
      assert.deepEqual(await sequence(), first);
    });

    it('refuses an unknown form in the plan', () => {
      assert.throws(() => validateFaultPlan({ rules: [], replicationLagForms: ['Gone'] }), /replicationLagForms/);
      assert.throws(() => validateFaultPlan({ rules: [], replicationLagForms: [] }), /replicationLagForms/);
    });
  });

  describe('a write that times out after it happened', () => {
    it('rate504AfterWrite: POST /invitations creates the guest and answers 504; the log and invitationCounts() record it took effect', async () => {
      c = await start(
        { faults: { rules: [{ method: 'POST', path: '/invitations', rate504AfterWrite: 1 }] } },
        fidelitySeed(),
      );
      const r = await sim().post('/invitations', INVITE);
      assertGraphError(r, 504, 'UnknownError');
      const entry = sim()
        .sim.requests()
        .find((e) => e.url === '/v1.0/invitations');
      assert.equal(entry?.status, 504);
      assert.equal(entry?.fault, '504-after-write');
      assert.equal(entry?.appliedStatus, 201);
      const found = await sim().get(`/users?$filter=${q("mail eq 'pat@partner.example'")}&$select=id`);
      assert.equal(found.body.value?.length, 1, 'the guest exists');
      assert.equal((await sim().post('/invitations', INVITE)).status, 504);
      assert.deepEqual(sim().sim.invitationCounts(), { 'pat@partner.example': 2 });
      assert.equal(sim().sim.faultStats().injected['504-after-write'], 2);
    });

    it('rate504AfterWrite on member writes: the member is there after the 504, also inside $batch (item 504)', async () => {
      c = await start({ faults: { rules: [{ path: '/groups/*/members/**', rate504AfterWrite: 1 }] } }, fidelitySeed());
      assert.equal((await sim().post(`/groups/${f.plain}/members/$ref`, ref(f.spare))).status, 504);
      const batch = await sim().post('/$batch', {
        requests: [
          {
            id: '1',
            method: 'POST',
            url: `/groups/${f.outer}/members/$ref`,
            headers: { 'Content-Type': 'application/json' },
            body: ref(f.spare),
          },
        ],
      });
      assert.equal(batch.status, 200);
      assert.equal(batch.body.responses?.[0].status, 504);
      assert.equal((await sim().get(`/groups/${f.plain}/members?$select=id`)).status, 200, 'reads are not faulted');
      assert.deepEqual(idsOf(await sim().get(`/groups/${f.plain}/members?$select=id`)), [f.member, f.spare]);
      assert.deepEqual(idsOf(await sim().get(`/groups/${f.outer}/members?$select=id`)), [f.spare]);
      assert.deepEqual(
        sim()
          .sim.requests()
          .filter((e) => e.fault === '504-after-write')
          .map((e) => e.appliedStatus),
        [204, 204],
      );
    });

    it('rateDropAfterWrite: the connection is destroyed without an answer, yet the member was added; the log says status 0, applied 204', async () => {
      c = await start(
        {
          faults: {
            rules: [{ method: 'POST', path: '/groups/*/members/$ref', rateDropAfterWrite: 1, topLevelOnly: true }],
          },
        },
        fidelitySeed(),
      );
      await assert.rejects(sim().post(`/groups/${f.plain}/members/$ref`, ref(f.spare)));
      assert.deepEqual(idsOf(await sim().get(`/groups/${f.plain}/members?$select=id`)), [f.member, f.spare]);
      const entry = sim()
        .sim.requests()
        .find((e) => e.method === 'POST');
      assert.equal(entry?.status, 0);
      assert.equal(entry?.fault, 'drop-after-write');
      assert.equal(entry?.appliedStatus, 204);
    });

    it('rateDropAfterWrite inside $batch answers the item 504 (a batch item has no connection of its own)', async () => {
      c = await start({ faults: { rules: [{ path: '/invitations', rateDropAfterWrite: 1 }] } }, fidelitySeed());
      const batch = await sim().post('/$batch', {
        requests: [
          {
            id: 'i',
            method: 'POST',
            url: '/invitations',
            headers: { 'Content-Type': 'application/json' },
            body: INVITE,
          },
        ],
      });
      assert.equal(batch.status, 200);
      assert.equal(batch.body.responses?.[0].status, 504);
      assert.deepEqual(sim().sim.invitationCounts(), { 'pat@partner.example': 1 });
    });

    it('reads are never answered "after write", and the rates count toward the rule total of 1', () => {
      assert.throws(
        () =>
          validateFaultPlan({ rules: [{ path: '*', rate504: 0.6, rate504AfterWrite: 0.3, rateDropAfterWrite: 0.2 }] }),
        /add up to more than 1/,
      );
    });
  });
});
