import { strict as assert } from 'node:assert';
import {
  actionData,
  cardId,
  cardText,
  createHarness,
  groups,
  lastCard,
  requestExpenses,
  textOf,
  toConfirmation,
  users,
  TENANT_ID,
  type Harness,
} from '../support/botHarness';
import { validateLog } from '../support/graphContract';
import { APPROVAL_OPERATION_KIND } from '../../src/domain/requests/approval';
import { reopenOperation } from '../../src/domain/shared/operations';
import type { AccessRequestRecord } from '../../src/store/store';

const MINUTE = 60_000;

function memberWrites(h: Harness): Array<{ status: number }> {
  return h.sim.requests().filter((r) => r.method === 'POST' && r.url.includes('/members/$ref'));
}

async function memberIds(h: Harness, groupId: string): Promise<string[]> {
  const res = await h.graph<{ value: Array<{ id: string }> }>(`/groups/${groupId}/members?$select=id`);
  return res.body.value.map((m) => m.id);
}

async function pendingRequest(h: Harness): Promise<AccessRequestRecord> {
  await requestExpenses(h.chat(users.adele));
  const [request] = await h.store.requests.listByRequester(TENANT_ID, users.adele.aadObjectId, 1);
  assert.equal(request.state, 'pending');
  return request;
}

/** What the bot records when Megan clicks Approve, up to the moment the process dies (before the membership write). */
async function approvedThenCrashed(
  h: Harness,
  request: AccessRequestRecord,
  at: Date,
  decided: boolean,
): Promise<void> {
  await h.store.operations.create(
    {
      id: `approve:${request.id}`,
      kind: APPROVAL_OPERATION_KIND,
      tenantId: TENANT_ID,
      actorId: users.megan.aadObjectId,
      input: { requestId: request.id, groupId: request.groupId, userId: request.requesterId },
    },
    at,
  );
  if (decided) {
    await h.store.requests.update(
      request.id,
      request.version,
      {
        state: 'approved',
        decidedBy: users.megan.aadObjectId,
        decidedByName: users.megan.name,
        decidedAt: at.toISOString(),
      },
      at,
    );
  }
}

const failEveryMemberWrite = {
  rules: [{ method: 'POST', path: '/groups/*/members/$ref', rate503: 1, retryAfterSeconds: 0 }],
};

describe('operations a crash or a failure left behind are finished once', () => {
  let h: Harness;
  let now: number;

  beforeEach(async () => {
    now = Date.parse('2026-11-24T09:00:00Z');
    h = await createHarness({ clock: () => new Date(now), operationRetryAfterMs: 15 * MINUTE, operationRetryMax: 1 });
  });
  afterEach(async () => {
    const problems = validateLog(h.sim.requests());
    await h.close();
    assert.deepEqual(problems, []);
  });

  it('an approval interrupted after the decision is finished by the resumer: added once, every card updated, requester told', async () => {
    const request = await pendingRequest(h);
    await approvedThenCrashed(h, request, new Date(now), true);
    assert.deepEqual(memberWrites(h), []);

    assert.equal(await h.resumeOperations(), 1);
    assert.equal(memberWrites(h).length, 1);
    assert.ok((await memberIds(h, groups.expenses)).includes(users.adele.aadObjectId));
    const final = await h.store.requests.get(request.id);
    assert.equal(final?.outcome?.membership, 'added');
    for (const card of h.messenger.cards.values())
      assert.match(cardText(card.card), /Approved by Megan Bowen.*Adele Vance was added/s);
    assert.deepEqual(
      h.messenger.notices.map((n) => n.state),
      ['approved'],
    );
    assert.equal((await h.store.operations.get(`approve:${request.id}`))?.status, 'succeeded');

    assert.equal(await h.resumeOperations(), 0, 'nothing is left to resume');
    assert.equal(memberWrites(h).length, 1);
    assert.equal(h.messenger.notices.length, 1);
  });

  it("a process dying while it stores an approval's outcome leaves the record unfinished, so the resumer stores it (one transaction)", async () => {
    const request = await pendingRequest(h);
    await approvedThenCrashed(h, request, new Date(now), true);
    // The process dies at the moment the outcome is written to the request: that write (and whatever is in
    // its transaction) does not happen. Before, the record had ended in a write of its own by then.
    const { requests } = h.store;
    const update = requests.update.bind(requests);
    const both = h.store.updateOperationAndRequest.bind(h.store);
    let died = false;
    const dieOnce = (patch: { outcome?: unknown }): void => {
      if (!died && patch.outcome) {
        died = true;
        throw new Error('process died');
      }
    };
    requests.update = async (id, version, patch, at) => (dieOnce(patch), update(id, version, patch, at));
    h.store.updateOperationAndRequest = async (operation, req, at) => (dieOnce(req.patch), both(operation, req, at));
    try {
      await assert.rejects(h.resumeOperations(), /process died/);
    } finally {
      requests.update = update;
      h.store.updateOperationAndRequest = both;
    }
    assert.equal(memberWrites(h).length, 1);
    assert.equal((await h.store.requests.get(request.id))?.outcome, null);
    assert.notEqual(
      (await h.store.operations.get(`approve:${request.id}`))?.status,
      'succeeded',
      'the record did not end without the outcome',
    );

    assert.equal(await h.resumeOperations(), 1);
    assert.equal((await h.store.requests.get(request.id))?.outcome?.membership, 'added');
    assert.equal(memberWrites(h).length, 1, 'the recorded step is not repeated');
    for (const card of h.messenger.cards.values())
      assert.match(cardText(card.card), /Approved by Megan Bowen.*Adele Vance was added/s);
    assert.deepEqual(
      h.messenger.notices.map((n) => n.state),
      ['approved'],
    );
  });

  it('an approval recorded but not decided when the process died waits for a decision, then runs once', async () => {
    const request = await pendingRequest(h);
    await approvedThenCrashed(h, request, new Date(now), false);
    assert.equal(await h.resumeOperations(), 0);
    assert.deepEqual(memberWrites(h), []);
    assert.equal((await h.store.operations.get(`approve:${request.id}`))?.status, 'pending');

    const response = await h.chat(users.alex).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(response), /Approved by Alex Wilber.*was added/s);
    assert.equal(memberWrites(h).length, 1);
    assert.equal((await h.store.operations.get(`approve:${request.id}`))?.status, 'succeeded');
  });

  it('a denial after an interrupted approval closes the approval record without writing', async () => {
    const request = await pendingRequest(h);
    await approvedThenCrashed(h, request, new Date(now), false);
    const response = await h.chat(users.alex).invoke('request.deny', { requestId: request.id });
    assert.match(cardText(response), /Denied by Alex Wilber/);
    assert.equal(await h.resumeOperations(), 1);
    assert.equal((await h.store.operations.get(`approve:${request.id}`))?.status, 'succeeded');
    assert.deepEqual(memberWrites(h), []);
    assert.equal((await h.store.requests.get(request.id))?.state, 'denied');
  });

  it('a membership write that keeps failing is retried after OPERATION_RETRY_AFTER, at most OPERATION_RETRY_MAX times; an admin can retry after', async () => {
    const request = await pendingRequest(h);
    h.sim.setFaults(failEveryMemberWrite);
    const response = await h.chat(users.megan).invoke('request.approve', { requestId: request.id });
    assert.match(cardText(response), /Adding Adele Vance to Expenses External Reviewers failed/);
    const operationId = `approve:${request.id}`;
    assert.equal((await h.store.operations.get(operationId))?.status, 'failed');
    assert.equal((await h.store.requests.get(request.id))?.outcome?.membership, 'failed');

    await h.resumeOperations();
    assert.equal((await h.store.operations.get(operationId))?.attempts, 0, 'not retried before OPERATION_RETRY_AFTER');

    now += 16 * MINUTE;
    await h.resumeOperations();
    const retried = await h.store.operations.get(operationId);
    assert.equal(retried?.attempts, 1, 'retried once automatically');
    assert.equal(retried?.status, 'failed', 'Graph still fails');

    now += 16 * MINUTE;
    h.sim.setFaults(null);
    const writesBefore = memberWrites(h).length;
    await h.resumeOperations();
    assert.equal(
      (await h.store.operations.get(operationId))?.status,
      'failed',
      'OPERATION_RETRY_MAX reached: no more automatic retries',
    );
    assert.equal(memberWrites(h).length, writesBefore);

    assert.equal(await reopenOperation(h.store.operations, operationId, new Date(now)), true);
    await h.resumeOperations();
    assert.equal((await h.store.operations.get(operationId))?.status, 'succeeded');
    assert.ok((await memberIds(h, groups.expenses)).includes(users.adele.aadObjectId));
    assert.equal(memberWrites(h).filter((w) => w.status === 204).length, 1);
    for (const card of h.messenger.cards.values()) assert.match(cardText(card.card), /Adele Vance was added/);
    assert.deepEqual(
      h.messenger.notices.map((n) => n.state),
      ['approved', 'approved'],
      'told of the failure, then of the membership',
    );
  });

  it("a failed invitation is retried automatically and the owner's card shows the outcome", async () => {
    const chat = h.chat(users.megan);
    const confirm = await toConfirmation(chat, 'Contoso Expenses', null, 'retry.later@adatum.com');
    h.sim.setFaults({ rules: [{ method: 'POST', path: '/invitations', rate503: 1, retryAfterSeconds: 0 }] });
    const card = cardId(confirm);
    const failed = await chat.submit(actionData(lastCard(confirm), 'Send invitation'), card);
    assert.match(textOf(failed), /Invitation not finished/);
    h.sim.setFaults(null);

    now += 16 * MINUTE;
    assert.equal(await h.resumeOperations(), 1);
    const update = h.cardUpdates.find((u) => u.activityId === card);
    assert.ok(update, 'the confirmation card is updated');
    assert.match(cardText(update.card), /retry\.later@adatum\.com was invited and added/);
    assert.equal(
      h.sim.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/invitations') && r.status === 201).length,
      1,
    );
  });

  it('refusals are finished operations: never retried', async () => {
    const chat = h.chat(users.megan);
    // The tenant's collaboration restrictions block this domain: POST /invitations answers 400.
    const confirm = await toConfirmation(chat, 'Contoso Expenses', null, 'someone@tailspintoys.com');
    const refused = await chat.submit(actionData(lastCard(confirm), 'Send invitation'), cardId(confirm));
    assert.match(textOf(refused), /Not invited/);
    const [record] = (await h.store.audit.list({ action: 'invite.refused' })).map((e) => e.operationId);
    assert.equal((await h.store.operations.get(record!))?.status, 'succeeded');
    now += 60 * MINUTE;
    assert.equal(await h.resumeOperations(), 0);
  });
});
