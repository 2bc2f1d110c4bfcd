/** The bulk review's hourly allowance (INVITES_PER_USER_PER_HOUR): what is left, when it frees up, who is set apart. */
import { strict as assert } from 'node:assert';
import { openSqliteStore } from '../../../src/store/sqlite';
import { HourlyLimiter } from '../../../src/domain/shared/rateLimit';
import { reserveAllowance, withAllowance } from '../../../src/domain/bulk/review';
import { parseAddressList } from '../../../src/domain/bulk/addresses';
import { localizer } from '../../../src/i18n';

describe('bulk review: hourly allowance (sliding window)', () => {
  it('reads what is left of the last hour (a sliding window) and in how many minutes the oldest use leaves it; counts a reserved list at once', async () => {
    const store = openSqliteStore(':memory:');
    let now = new Date('2026-12-03T10:47:30Z');
    const limiter = new HourlyLimiter(store.state, 20, () => now);
    const actor = { tenantId: 't', userId: 'u', displayName: 'Owner' };
    assert.deepEqual(await limiter.allowance('invite', 't', 'u'), { limit: 20, left: 20, freeInMinutes: 60 });
    assert.equal(await reserveAllowance(limiter, actor, 15), null);
    now = new Date('2026-12-03T10:50:00Z');
    assert.deepEqual(await limiter.allowance('invite', 't', 'u'), { limit: 20, left: 5, freeInMinutes: 58 });
    const refused = await reserveAllowance(limiter, actor, 6);
    assert.equal(
      localizer({ locale: 'en-US' }).msg(refused!),
      'Your allowance of new invitations for this hour changed since the list was checked (5 left). Nothing was sent: type **invite guests** to check the list again.',
    );
    assert.deepEqual(
      await limiter.allowance('invite', 't', 'u'),
      { limit: 20, left: 5, freeInMinutes: 58 },
      'a refused reservation counts nothing',
    );
    // A new clock hour gives nothing back: 15 used 13 minutes ago still count (no 35 invitations in 13 minutes).
    now = new Date('2026-12-03T11:00:00Z');
    assert.equal((await limiter.allowance('invite', 't', 'u')).left, 5);
    assert.equal((await reserveAllowance(limiter, actor, 6)) === null, false);
    now = new Date('2026-12-03T11:47:31Z');
    assert.equal((await limiter.allowance('invite', 't', 'u')).left, 20);
    await store.close();
  });

  it('keeps the new addresses that fit, in list order, and refuses the rest with the limit and the minutes left; existing guests do not count', () => {
    const list = parseAddressList('a@adatum.com\nb@adatum.com\nold@fabrikam.com\nc@adatum.com\nnot an address', {
      max: 100,
      ownDomains: ['contoso.com'],
    });
    const found = {
      valid: list.valid,
      invalid: list.invalid,
      toInvite: ['a@adatum.com', 'b@adatum.com', 'c@adatum.com'],
      existing: ['old@fabrikam.com'],
      members: [],
      lookedUp: true,
    };
    const review = withAllowance(found, { limit: 20, left: 2, freeInMinutes: 1 }, 100);
    assert.deepEqual(review.toInvite, ['a@adatum.com', 'b@adatum.com']);
    assert.deepEqual(review.existing, ['old@fabrikam.com']);
    assert.deepEqual(
      review.overAllowance.map((e) => e.address),
      ['c@adatum.com'],
    );
    const nl = localizer({ locale: 'nl-NL' });
    assert.deepEqual(
      review.refused.map((r) => `${r.position} ${nl.msg(r.reason)}`),
      [
        '5 Dat is geen e-mailadres. Gebruik de vorm naam@voorbeeld.com.',
        '4 boven uw limiet van 20 nieuwe uitnodigingen per uur; over 1 minuut is er weer ruimte',
      ],
    );
    assert.deepEqual(withAllowance(found, null, 100).toInvite.length, 3, 'no limiter: nothing set apart');
  });
});
