import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { checkCardPayload } from '../../src/bot/cardPayload';
import { parseEmail } from '../../src/domain/shared/email';
import { apps, createHarness, groups, users, type Harness } from '../support/botHarness';
import { isDirectoryWrite } from '../support/graphLog';

const verbs = [
  'invite.app',
  'invite.group',
  'invite.details',
  'invite.confirm',
  'invite.cancel',
  'request.app',
  'request.group',
  'request.details',
  'request.confirm',
  'request.cancel',
  'request.withdraw',
  'request.approve',
  'request.deny',
  'request.refresh',
  'alert.ack',
];
const realIds = [...Object.values(apps), ...Object.values(groups), ...Object.values(users).map((u) => u.aadObjectId)];

/** Payloads shaped like card submits, with real ids of things the sender may not touch, and junk. */
const payload = fc.record(
  {
    verb: fc.oneof(fc.constantFrom(...verbs), fc.string(), fc.constant('__proto__')),
    flowId: fc.oneof(fc.uuid(), fc.string()),
    appId: fc.oneof(fc.constantFrom(...realIds), fc.string(), fc.integer()),
    groupId: fc.oneof(fc.constantFrom(...realIds), fc.string(), fc.object()),
    requestId: fc.oneof(fc.uuid(), fc.string(), fc.constant({ $ne: null })),
    email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 400 })),
    message: fc.oneof(fc.string({ maxLength: 3000 }), fc.constant(null)),
    justification: fc.string(),
    comment: fc.oneof(fc.string(), fc.array(fc.string())),
    key: fc.oneof(fc.constant(`groupDynamic:${groups.dynamic}`), fc.string()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('hostile and broken input (property-based)', () => {
  it('the payload validator never throws and only lets through known verbs with string fields of bounded size', () => {
    fc.assert(
      fc.property(fc.oneof(payload, fc.anything()), (value) => {
        const check = checkCardPayload(value);
        if (check.ok) {
          assert.ok(verbs.includes(String(check.value.verb)));
          for (const v of Object.values(check.value)) assert.equal(typeof v, 'string');
          assert.ok(JSON.stringify(check.value).length <= 32 * 1024);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses payloads over 32 KB', () => {
    assert.deepEqual(
      checkCardPayload({ verb: 'invite.details', flowId: 'f', email: 'a@b.co', message: 'x'.repeat(40_000) }),
      { ok: false, reason: 'too large' },
    );
  });

  it('the email parser never throws; what it accepts is one address of bounded length with an ASCII lower-case domain', () => {
    fc.assert(
      fc.property(fc.oneof(fc.emailAddress(), fc.string(), fc.string({ unit: 'grapheme' })), (raw) => {
        const parsed = parseEmail(raw);
        if (parsed.ok) {
          assert.ok(parsed.address.length <= 254);
          assert.equal(parsed.address.split('@').length, 2);
          assert.match(parsed.domain, /^[a-z0-9.-]+$/);
          assert.ok(!/["\s()<>[\]\\,;:]/.test(parsed.localPart));
        }
      }),
      { numRuns: 5000 },
    );
  });

  describe('card submits and invokes through the bot', () => {
    let h: Harness;
    before(async () => {
      h = await createHarness();
    });
    after(async () => h.close());

    it('none of 1,500 generated submits and invokes crashes a turn or writes to the directory', async () => {
      const lee = h.chat(users.lee);
      await lee.send('invite guest');
      let turns = 0;
      await fc.assert(
        fc.asyncProperty(payload, fc.boolean(), fc.boolean(), async (value, asInvoke, restart) => {
          if (restart) await lee.send(turns % 2 === 0 ? 'invite guest' : 'request access');
          turns++;
          if (asInvoke)
            await lee.invoke(
              typeof value.verb === 'string' ? value.verb : 'request.approve',
              value as Record<string, unknown>,
            );
          else await lee.submit(value as Record<string, unknown>);
        }),
        { numRuns: 1500 },
      );
      const errors = h.logs.filter((line) => line.includes('"turn.error"'));
      assert.deepEqual(errors, []);
      const writes = h.sim.requests().filter(isDirectoryWrite);
      assert.deepEqual(writes, []);
      assert.ok(turns >= 1500);
    });
  });
});
