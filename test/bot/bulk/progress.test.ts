import { strict as assert } from 'node:assert';
import sinon from 'sinon';
import { CardProgress } from '../../../src/bot/bulk/progress';

describe('CardProgress (progress card updated in place)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  it('shows at most one update every 2 s, always the latest, and the final state last', async () => {
    const shown: Array<[number, string, boolean]> = [];
    const progress = new CardProgress<string>(
      async (value, final) => void shown.push([Date.now() - 1_000_000, value, final]),
    );
    progress.progress('a');
    progress.progress('b');
    progress.progress('c');
    await clock.tickAsync(500);
    progress.progress('d');
    await clock.tickAsync(1600);
    progress.progress('e');
    const final = progress.final('done');
    await clock.tickAsync(2500);
    await final;
    progress.progress('late');
    await clock.tickAsync(5000);
    assert.deepEqual(shown, [
      [0, 'a', false],
      [2000, 'd', false],
      [4000, 'done', true],
    ]);
  });
});
