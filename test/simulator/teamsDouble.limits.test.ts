/**
 * The Teams double: rate limits, transients and sizes.
 * Sources: ../shared/teams/proactive-delivery.md §4, §5 and §7.7, §7.8, §7.9 (each test names its rule).
 */
import { strict as assert } from 'node:assert';
import { RateLimiter, THREAD_SEND_LIMITS } from '../../src/simulator/teams/rateLimits';
import { ConnectorClient, MicrosoftAppCredentials } from 'botframework-connector';
import { ADELE, MEGAN, call, card, message, openChat, startFixture, stopFixture, type Fixture } from './teamsHelpers';

const activities = (conversationId: string): string =>
  `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

describe('Teams double: rate limits, transients and sizes', () => {
  let f: Fixture | undefined;
  const fx = (): Fixture => f as Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await stopFixture(f);
    f = undefined;
  });

  async function sendMany(chat: string, n: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += 1)
      statuses.push((await call(fx().double, 'POST', activities(chat), message(`m${i}`))).status);
    return statuses;
  }

  it('allows 7 sends a second per conversation, then 429 Throttled with Retry-After (§4 [RATE], §7.7)', async () => {
    const chat = await openChat(fx());
    fx().clock.advance(2000); // the createConversation counts too
    const statuses = await sendMany(chat, 7);
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 201, 201]);
    const over = await call(fx().double, 'POST', activities(chat), message('eighth'));
    assert.equal(over.status, 429);
    assert.deepEqual(over.body, { error: { code: 'Throttled', message: 'Too many requests' } });
    assert.equal(over.headers.get('retry-after'), '1');
    fx().clock.advance(1000);
    assert.equal(
      (await call(fx().double, 'POST', activities(chat), message('later'))).status,
      201,
      'Retry-After honoured',
    );
  });

  it('allows 8 sends per 2 s per conversation (§4 [RATE], §7.7)', async () => {
    const chat = await openChat(fx());
    fx().clock.advance(2000); // the createConversation counts too: let it leave the windows
    assert.deepEqual(await sendMany(chat, 4), [201, 201, 201, 201]);
    fx().clock.advance(1000);
    const statuses = await sendMany(chat, 5);
    assert.deepEqual(statuses, [201, 201, 201, 201, 429], 'the 1 s window holds 4, the 2 s window 8');
  });

  it("counts the createConversation in its conversation's window (§4 [RATE]: send/create conversation, §7.7)", async () => {
    const chat = await openChat(fx());
    assert.deepEqual(await sendMany(chat, 7), [201, 201, 201, 201, 201, 201, 429]);
  });

  it('allows 60 sends per 30 s per conversation (§4 [RATE], §7.7)', async () => {
    const chat = await openChat(fx());
    fx().clock.advance(30_000);
    let accepted = 0;
    for (let s = 0; s < 30; s += 1) {
      for (const status of await sendMany(chat, 2)) if (status === 201) accepted += 1;
      fx().clock.advance(1000);
    }
    assert.equal(accepted, 60);
    fx().clock.advance(-500);
    const over = await call(fx().double, 'POST', activities(chat), message('x'));
    assert.equal(over.status, 429, 'the 1 s and 2 s windows have room; the 30 s one is full');
    assert.equal(over.headers.get('retry-after'), '1');
  });

  it('allows 1800 sends per hour per conversation (§4 [RATE], §7.7)', () => {
    // Without HTTP: 1800 requests spread over 15 minutes fit every shorter window.
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const check = [{ key: 'send:a:1', limits: THREAD_SEND_LIMITS }];
    let accepted = 0;
    for (let s = 0; s < 1800; s += 1) {
      if (limiter.take(check) === 0) accepted += 1;
      now += 1000;
    }
    assert.equal(accepted, 1800);
    const waitMs = limiter.take(check);
    assert.equal(waitMs, 1_800_000, 'the oldest send leaves the hour window in 30 minutes');
    now += waitMs;
    assert.equal(limiter.take(check), 0);
  });

  it('counts updates against the same limits (§4, msteams-docs#1719; §7.7)', async () => {
    const chat = await openChat(fx());
    fx().clock.advance(2000);
    const sent = await call(fx().double, 'POST', activities(chat), card('v1'));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1)
      statuses.push((await call(fx().double, 'PUT', `${activities(chat)}/${sent.body.id}`, card(`v${i + 2}`))).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429]);
  });

  it('allows 50 requests a second per app and tenant across conversations (§4 [RATE], §7.7)', async () => {
    const people = Array.from(
      { length: 10 },
      (_, i) => `3f5c1e2a-7b6d-4c8e-9a1f-2b3c4d5e7${String(i).padStart(3, '0')}`,
    );
    const chats: string[] = [];
    for (const p of people) chats.push(await openChat(fx(), p));
    fx().clock.advance(1000);
    let accepted = 0;
    let throttled = 0;
    for (let round = 0; round < 6; round += 1) {
      for (const chat of chats) {
        const status = (await call(fx().double, 'POST', activities(chat), message('hi'))).status;
        if (status === 201) accepted += 1;
        if (status === 429) throttled += 1;
      }
    }
    assert.equal(accepted, 50);
    assert.equal(throttled, 10);
  });

  it("counts every HTTP attempt, the SDK's own retries included (§4 SDK layer, §7.7)", async () => {
    const chat = await openChat(fx());
    fx().double.failNext(503, 2, undefined, 0);
    const client = new ConnectorClient(new MicrosoftAppCredentials('', ''), { baseUri: fx().double.serviceUrl });
    const before = fx().double.stats();
    const sent = await client.conversations.sendToConversation(chat, { type: 'message', text: 'through the SDK' });
    assert.ok(sent.id);
    const stats = fx().double.stats();
    assert.equal(stats.attempts - before.attempts, 3, 'two 503s and the success');
    assert.equal(stats.byStatus['503'], 2);
    assert.equal(stats.perConversation[chat].attempts - before.perConversation[chat].attempts, 3);
    assert.equal(stats.perConversation[chat].accepted - before.perConversation[chat].accepted, 1);
  });

  it('answers injected 412, 502, 503, 504 and 500 with Bot Framework error bodies (§4 [STATUS], §7.8)', async () => {
    const chat = await openChat(fx());
    const expected: Array<[number, string]> = [
      [412, 'PreconditionFailed'],
      [502, 'ServiceError'],
      [503, 'ServiceUnavailable'],
      [504, 'GatewayTimeout'],
      [500, 'InternalServerError'],
    ];
    fx().double.limits({ rate: false });
    for (const [status, code] of expected) {
      fx().double.failNext(status, 1);
      const reply = await call(fx().double, 'POST', activities(chat), message('hi'));
      assert.equal(reply.status, status);
      assert.equal(reply.body.error?.code, code);
    }
    assert.equal((await call(fx().double, 'POST', activities(chat), message('hi'))).status, 201);
    assert.equal(fx().double.messagesFor(MEGAN).length, 1, 'failed attempts delivered nothing');
  });

  it('answers 413 MessageSizeTooBig above ~100 KB of UTF-16 payload, configurable (§5 [FMT], §7.9)', async () => {
    const chat = await openChat(fx());
    const text = (chars: number): Record<string, unknown> => message('x'.repeat(chars));
    const fits = await call(fx().double, 'POST', activities(chat), text(50 * 1024 - 100));
    assert.equal(fits.status, 201);
    const big = await call(fx().double, 'POST', activities(chat), text(50 * 1024 + 10));
    assert.equal(big.status, 413);
    assert.equal(big.body.error?.code, 'MessageSizeTooBig');
    fx().double.limits({ maxBytes: 28 * 1024 });
    assert.equal((await call(fx().double, 'POST', activities(chat), text(15 * 1024))).status, 413);
    assert.equal(fx().double.stats().tooLarge, 2);
  });

  it('keeps separate windows per conversation (§4 [RATE]: one message to each of many users does not hit the thread limit)', async () => {
    const megan = await openChat(fx());
    const adele = await openChat(fx(), ADELE);
    fx().clock.advance(1000);
    await sendMany(megan, 7);
    assert.equal((await call(fx().double, 'POST', activities(adele), message('hi'))).status, 201);
    assert.equal(fx().double.stats().perConversation[megan].accepted, 8, 'the create and 7 sends');
    assert.equal(fx().double.stats().perConversation[adele].accepted, 2);
    fx().double.resetStats();
    assert.equal(fx().double.stats().attempts, 0);
    assert.equal(
      (await call(fx().double, 'POST', activities(megan), message('x'))).status,
      429,
      'the windows keep running',
    );
  });

  it('can count throttled attempts too, so retrying before Retry-After prolongs the throttling (§4 [RATE], §7.7 option)', async () => {
    const chat = await openChat(fx());
    fx().double.limits({ countThrottled: true });
    fx().clock.advance(2000);
    await sendMany(chat, 7);
    fx().clock.advance(500);
    assert.deepEqual(await sendMany(chat, 3), [429, 429, 429]);
    fx().clock.advance(500);
    const early = await call(fx().double, 'POST', activities(chat), message('x'));
    assert.equal(early.status, 429, 'the refused attempts at +500 ms still fill the 1 s window');
    fx().clock.advance(1000);
    assert.equal((await call(fx().double, 'POST', activities(chat), message('x'))).status, 201);
  });
});
