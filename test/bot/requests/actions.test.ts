/**
 * Two owners approve one request: the loser's decision ends as "already decided" while the winner's membership write
 * is still under way, after the invoke deadline. The late update of the loser's card must show the request as it is
 * when the update goes out, not as it was when the loser's turn read it ("Adding…" would stay on that card, since the
 * winner's update of every card may already have gone out before it).
 */
import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import type { Attachment, TurnContext } from 'botbuilder';
import { RequestActions } from '../../../src/bot/requests/actions';
import { BackgroundWork, type SlowWork } from '../../../src/bot/background';
import type { RequestAccessService } from '../../../src/domain/requests/requestAccess';
import type { AccessRequestRecord, JsonObject } from '../../../src/store/store';
import { silentLogger } from '../../../src/logging';
import { cardText } from '../../support/botHarness';

const TENANT = 't1';
const pending: AccessRequestRecord = {
  id: 'r1',
  tenantId: TENANT,
  requesterId: 'adele',
  requesterName: 'Adele Vance',
  appId: 'sp1',
  appName: 'Contoso Expenses',
  groupId: 'g1',
  groupName: 'Expenses External Reviewers',
  justification: 'Audit',
  state: 'pending',
  ownerIds: ['megan', 'alex'],
  ownerCards: [],
  decidedBy: null,
  decidedByName: null,
  decidedAt: null,
  comment: null,
  outcome: null,
  remindedAt: null,
  version: 1,
  createdAt: '2026-11-24T09:00:00.000Z',
  updatedAt: '2026-11-24T09:00:00.000Z',
};
const adding: AccessRequestRecord = {
  ...pending,
  state: 'approved',
  decidedBy: 'megan',
  decidedByName: 'Megan Bowen',
  decidedAt: '2026-11-24T10:00:00.000Z',
  version: 2,
};
const added: AccessRequestRecord = { ...adding, outcome: { membership: 'added' }, version: 3 };

function alexClicks(): TurnContext {
  return {
    activity: {
      type: 'invoke',
      replyToId: 'card-alex',
      from: { id: '29:alex', aadObjectId: 'alex', name: 'Alex Wilber' },
      conversation: { id: 'a:alex', conversationType: 'personal', tenantId: TENANT },
      serviceUrl: 'https://smba.example/',
      channelId: 'msteams',
      recipient: { id: '28:bot', name: 'Guest Invite' },
    },
  } as unknown as TurnContext;
}

describe('RequestActions: the late update of a card', () => {
  it('re-reads the request before the late update, so the losing owner\'s card does not keep "Adding…"', async () => {
    let current = adding;
    let finishDecision!: () => void;
    const decided = new Promise<void>((resolve) => (finishDecision = resolve));
    const service = {
      // Alex lost: the request is approved by Megan, her membership write still running ("Adding…").
      decide: sinon.stub().callsFake(async () => {
        await decided;
        return { kind: 'alreadyDecided', request: adding };
      }),
      viewForOwner: sinon.stub().callsFake(async () => current),
    } as unknown as RequestAccessService;
    const updates: Array<{ location: JsonObject; card: Attachment }> = [];
    const background = new BackgroundWork(silentLogger, 0);
    const slow: SlowWork = {
      background,
      updateCard: async (location, card) => {
        updates.push({ location, card });
        return true;
      },
      turnDeadlineMs: 10,
      invokeDeadlineMs: 10,
    };
    const actions = new RequestActions(service, silentLogger, slow);
    const response = await actions.invoke(alexClicks(), 'request.approve', { requestId: 'r1' });
    assert.match(JSON.stringify(response.value), /Working on it/);
    // Meanwhile Megan's write ends and every card (Alex's too) is updated to the outcome; then Alex's turn ends.
    current = added;
    finishDecision();
    assert.equal(await background.drain(5_000), true);
    assert.equal(updates.length, 1);
    assert.equal(updates[0].location.activityId, 'card-alex');
    const text = cardText(updates[0].card.content);
    assert.doesNotMatch(text, /Adding/);
    assert.match(text, /Adele Vance was added to Expenses External Reviewers/);
  });

  it('keeps the card of a refusal (nothing to re-read for someone who may not decide)', async () => {
    const service = {
      decide: sinon.stub().callsFake(async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return {
          kind: 'refused',
          reason: 'notOwner',
          message: { key: 'requests:refused.notOwner', params: { group: 'Expenses External Reviewers' } },
        };
      }),
      viewForOwner: sinon.stub().resolves(undefined),
    } as unknown as RequestAccessService;
    const updates: Attachment[] = [];
    const background = new BackgroundWork(silentLogger, 0);
    const actions = new RequestActions(service, silentLogger, {
      background,
      updateCard: async (_l, card) => Boolean(updates.push(card)),
      turnDeadlineMs: 5,
      invokeDeadlineMs: 5,
    });
    await actions.invoke(alexClicks(), 'request.approve', { requestId: 'r1' });
    assert.equal(await background.drain(5_000), true);
    assert.match(cardText(updates[0].content), /not an owner of Expenses External Reviewers/);
  });
});
