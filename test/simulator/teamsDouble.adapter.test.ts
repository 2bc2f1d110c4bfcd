/**
 * The Teams double behind botbuilder's CloudAdapter, run anonymously as the tests run the bot: the SDK's calls,
 * its errors and its own retries (../shared/teams/proactive-delivery.md §1 botbuilder-js RestError, §4 SDK layer).
 */
import { strict as assert } from 'node:assert';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConversationParameters,
  type ConversationReference,
} from 'botbuilder';
import { ADELE, MEGAN, TENANT, startFixture, stopFixture, type Fixture } from './teamsHelpers';

const parameters = (f: Fixture, member: string): ConversationParameters =>
  ({
    isGroup: false,
    bot: { id: `28:${f.double.botAppId}`, name: '' },
    members: [{ id: member, name: '' }],
    tenantId: TENANT,
    channelData: { tenant: { id: TENANT } },
  }) as ConversationParameters;

describe('Teams double behind botbuilder CloudAdapter (anonymous)', () => {
  let f: Fixture | undefined;
  const fx = (): Fixture => f as Fixture;
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await stopFixture(f);
    f = undefined;
  });

  async function open(member: string): Promise<Partial<ConversationReference>> {
    let reference: Partial<ConversationReference> | undefined;
    await adapter.createConversationAsync(
      '',
      'msteams',
      fx().double.serviceUrl,
      '',
      parameters(fx(), member),
      async (context) => {
        reference = context.activity
          ? { serviceUrl: fx().double.serviceUrl, channelId: 'msteams', conversation: context.activity.conversation }
          : undefined;
      },
    );
    if (!reference) throw new Error('no conversation');
    return reference;
  }

  it('creates the 1:1 chat and sends into it; the person sees the message (§1, §7.1)', async () => {
    await fx().double.install(MEGAN);
    const reference = await open(MEGAN);
    assert.equal(reference.conversation?.id, fx().double.conversationIdFor(MEGAN));
    await adapter.continueConversationAsync('', reference, async (context) => {
      await context.sendActivity({ type: 'message', text: 'Hello Megan' });
    });
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['Hello Megan'],
    );
  });

  it('surfaces the not-installed 403 as an error with statusCode 403 and the body code (§1, Microsoft-Teams-Samples#1470)', async () => {
    await assert.rejects(open(ADELE), (err: { statusCode?: number; code?: string; message?: string }) => {
      assert.equal(err.statusCode, 403);
      assert.match(`${err.code} ${err.message}`, /ForbiddenOperationException|isn't installed/);
      return true;
    });
    assert.equal(fx().double.stats().attempts, 1, 'a 403 is not retried by the SDK');
  });

  it("counts the SDK's own retries of 503 and 502 as attempts (§4 SDK layer, §7.7)", async () => {
    await fx().double.install(MEGAN);
    const reference = await open(MEGAN);
    fx().double.failNext(503, 1, undefined, 0);
    fx().double.failNext(502, 1, undefined, 0);
    const before = fx().double.stats().attempts;
    await adapter.continueConversationAsync('', reference, async (context) => {
      await context.sendActivity({ type: 'message', text: 'after two transients' });
    });
    assert.equal(fx().double.stats().attempts - before, 3);
    assert.deepEqual(
      fx()
        .double.messagesFor(MEGAN)
        .map((m) => m.text),
      ['after two transients'],
    );
  });
});
