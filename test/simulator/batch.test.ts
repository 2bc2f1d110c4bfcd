import { strict as assert } from 'node:assert';
import { Client, contractProblems, ids, start, type GraphBody } from './helpers';

type BatchRequest = {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
};

describe('simulator $batch (real HTTP)', () => {
  let c: Client;

  beforeEach(async () => {
    c = await start();
  });
  afterEach(async () => {
    const problems = contractProblems(c, (e) => e.url === '/v1.0/$batch' && e.status === 400);
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  const batch = (requests: BatchRequest[]) => c.post('/$batch', { requests });
  const byId = (body: GraphBody) => new Map((body.responses ?? []).map((r) => [r.id, r]));

  it('runs sub-requests through the same handlers, with or without a leading slash', async () => {
    const r = await batch([
      { id: '1', method: 'GET', url: `/groups/${ids.group(1)}?$select=id,displayName` },
      { id: '2', method: 'GET', url: `servicePrincipals/${ids.sp(1)}?$select=id,homepage` },
      {
        id: '3',
        method: 'GET',
        url: `/groups/${ids.group(1)}/owners?$filter=id eq '${ids.megan}'&$count=true&$select=id`,
        headers: { ConsistencyLevel: 'eventual' },
      },
      { id: '4', method: 'GET', url: '/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' },
    ]);
    assert.equal(r.status, 200);
    const res = byId(r.body);
    assert.equal(res.size, 4);
    assert.equal(res.get('1')?.status, 200);
    assert.equal(res.get('1')?.body?.displayName, 'Expenses External Reviewers');
    assert.equal(res.get('2')?.body?.homepage, 'https://expenses.contoso.com/');
    assert.equal(res.get('3')?.body?.['@odata.count'], 1);
    assert.equal(res.get('4')?.status, 404);
    assert.equal(res.get('4')?.body?.error?.code, 'Request_ResourceNotFound');
    assert.match(String(res.get('1')?.headers['Content-Type']), /^application\/json/);
  });

  it('does not promise response order', async () => {
    const r = await batch([
      { id: 'a', method: 'GET', url: '/organization?$select=id' },
      { id: 'b', method: 'GET', url: '/policies/authorizationPolicy' },
    ]);
    assert.deepEqual((r.body.responses ?? []).map((x) => x.id).sort(), ['a', 'b']);
    assert.notDeepEqual(
      (r.body.responses ?? []).map((x) => x.id),
      ['a', 'b'],
    );
  });

  it('logs each sub-request with the batch log id, and the batch itself', async () => {
    c.sim.clearRequests();
    await batch([
      { id: '1', method: 'GET', url: '/organization?$select=id' },
      {
        id: '2',
        method: 'POST',
        url: `/groups/${ids.group(3)}/members/$ref`,
        headers: { 'Content-Type': 'application/json' },
        body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${ids.jordan}` },
      },
    ]);
    const log = c.sim.requests();
    const outer = log.find((e) => e.url === '/v1.0/$batch');
    assert.ok(outer);
    const subs = log.filter((e) => e.batchId === outer.id);
    assert.deepEqual(subs.map((s) => [s.method, s.url, s.status]).sort(), [
      ['GET', '/v1.0/organization?$select=id', 200],
      ['POST', `/v1.0/groups/${ids.group(3)}/members/$ref`, 204],
    ]);
    assert.ok(subs.every((s) => s.requestId !== outer.requestId));
    const members = await c.get(`/groups/${ids.group(3)}/members?$select=id`);
    assert.equal(members.body.value?.[0]?.id, ids.jordan);
  });

  it('answers 424 for requests whose dependency failed, and runs dependents after success', async () => {
    const r = await batch([
      {
        id: 'invite',
        method: 'POST',
        url: '/invitations',
        headers: { 'Content-Type': 'application/json' },
        body: { invitedUserEmailAddress: 'eve@tailspintoys.com', inviteRedirectUrl: 'https://x.example' },
      },
      { id: 'after', method: 'GET', url: '/organization?$select=id', dependsOn: ['invite'] },
      { id: 'chain', method: 'GET', url: '/organization?$select=id', dependsOn: ['after'] },
      { id: 'ok', method: 'GET', url: '/organization?$select=id' },
      { id: 'next', method: 'GET', url: '/policies/authorizationPolicy', dependsOn: ['ok'] },
    ]);
    const res = byId(r.body);
    assert.equal(res.get('invite')?.status, 400);
    assert.equal(res.get('after')?.status, 424);
    assert.equal(res.get('after')?.body?.error?.code, 'FailedDependency');
    assert.equal(res.get('chain')?.status, 424);
    assert.equal(res.get('ok')?.status, 200);
    assert.equal(res.get('next')?.status, 200);
  });

  it('refuses more than 20 requests, duplicate ids (case-insensitive), unknown dependencies and bodies without Content-Type', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/organization' }));
    const tooMany = await batch(many);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error?.code, 'BadRequest');
    assert.equal(tooMany.body.error?.message, 'Number of requests inside batch exceed the limit.');
    const twenty = await batch(many.slice(0, 20));
    assert.equal(twenty.status, 200);
    assert.equal(twenty.body.responses?.length, 20);
    const dup = await batch([
      { id: 'A', method: 'GET', url: '/organization' },
      { id: 'a', method: 'GET', url: '/organization' },
    ]);
    assert.equal(dup.status, 400);
    assert.match(dup.body.error?.message ?? '', /duplicate/);
    const unknownDep = await batch([{ id: '1', method: 'GET', url: '/organization', dependsOn: ['9'] }]);
    assert.equal(unknownDep.status, 400);
    const noType = await batch([
      { id: '1', method: 'POST', url: '/invitations', body: { invitedUserEmailAddress: 'x@fabrikam.com' } },
    ]);
    assert.equal(noType.status, 400);
    assert.equal(noType.body.error?.message, 'Write request id : 1 does not contain Content-Type header or body.');
    const noBody = await batch([
      {
        id: 'w',
        method: 'POST',
        url: `/groups/${ids.group(3)}/members/$ref`,
        headers: { 'Content-Type': 'application/json' },
      },
    ]);
    assert.equal(noBody.status, 400);
    assert.equal(noBody.body.error?.message, 'Write request id : w does not contain Content-Type header or body.');
    const notBatch = await c.post('/$batch', { nothing: true });
    assert.equal(notBatch.status, 400);
  });

  it("inherits the batch's authentication and refuses a batch without a token", async () => {
    const anonymous = await new Client(c.sim, null).post('/$batch', {
      requests: [{ id: '1', method: 'GET', url: '/organization' }],
    });
    assert.equal(anonymous.status, 401);
    const r = await batch([{ id: '1', method: 'GET', url: '/organization', headers: { Authorization: '' } }]);
    assert.equal(byId(r.body).get('1')?.status, 200);
  });

  it('answers unknown paths inside a batch like Graph, per request', async () => {
    const r = await batch([{ id: '1', method: 'GET', url: '/bogus' }]);
    assert.equal(r.status, 200);
    assert.equal(byId(r.body).get('1')?.status, 400);
    assert.equal(byId(r.body).get('1')?.body?.error?.message, "Resource not found for the segment 'bogus'.");
    c.sim.clearRequests();
  });
});
