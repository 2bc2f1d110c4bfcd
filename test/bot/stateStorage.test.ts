import { strict as assert } from 'node:assert';
import {
  ConversationState,
  MemoryStorage,
  type Storage,
  type StoreItems,
  TestAdapter,
  type TurnContext,
  UserState,
} from 'botbuilder';
import { DialogSet, type DialogState, DialogTurnStatus, TextPrompt, WaterfallDialog } from 'botbuilder-dialogs';
import { BotStateStorage } from '../../src/bot/stateStorage';
import { describeEachEngine } from '../support/stores';

type Item = Record<string, unknown> & { eTag?: string };

/**
 * Runs one eTag scenario against a Storage and returns what an observer sees. eTag values are replaced by
 * aliases in order of first appearance (e1, e2, ...), so that two storages with different eTag formats
 * can be compared while "same eTag" / "new eTag" stays visible.
 */
async function eTagScenario(storage: Storage): Promise<unknown[]> {
  const log: unknown[] = [];
  const aliases = new Map<string, string>();
  const alias = (eTag: string): string => {
    if (!aliases.has(eTag)) aliases.set(eTag, `e${aliases.size + 1}`);
    return aliases.get(eTag) as string;
  };
  const normalize = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(normalize);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, k === 'eTag' && typeof v === 'string' ? alias(v) : normalize(v)]),
      );
    }
    return value;
  };
  const read = async (label: string, keys: string[]): Promise<StoreItems> => {
    const items = await storage.read(keys);
    log.push([label, normalize(items)]);
    return items;
  };
  const write = async (label: string, changes: StoreItems): Promise<void> => {
    try {
      await storage.write(changes);
      log.push([label, 'ok']);
    } catch (err) {
      log.push([label, (err as Error).constructor.name, (err as Error).message]);
    }
  };

  await write('write without eTag', { a: { n: 1 } });
  const first = await read('read existing and missing', ['a', 'missing']);
  const firstETag = (first.a as Item).eTag as string;
  await write('write with current eTag', { a: { n: 2, eTag: firstETag } });
  await write('write with stale eTag', { a: { n: 3, eTag: firstETag } });
  await read('stale write left the item alone', ['a']);
  await write('write with * over existing', { a: { n: 4, eTag: '*' } });
  await write('write with empty eTag over existing', { a: { n: 5, eTag: '' } });
  await read('after unconditional writes', ['a']);
  await write('write with * on a new item', { b: { x: 1, eTag: '*' } });
  await read('new item got a real eTag', ['b']);
  await write('write with a specific eTag on a new item', { c: { y: 1, eTag: 'no-such-etag' } });
  await read('created despite the eTag', ['c']);

  const b = (await storage.read(['b'])).b as Item;
  await write('batch with two conflicts', {
    d: { d: 1 },
    a: { n: 6, eTag: firstETag },
    e: { e: 1 },
    b: { x: 2, eTag: firstETag },
  });
  await read('batch: the others were written', ['a', 'b', 'd', 'e']);

  const passedWithETag: Item = { x: 3, eTag: b.eTag };
  const passedWithout: Item = { z: 1 };
  await write('write keeps the passed objects as they were', { b: passedWithETag, f: passedWithout });
  log.push(['passed objects after write', passedWithETag.eTag === b.eTag, 'eTag' in passedWithout]);

  await storage.delete(['a', 'never-existed']);
  log.push(['delete', 'ok']);
  await read('deleted item is gone', ['a']);
  await write('stale eTag on a deleted item', { a: { n: 7, eTag: firstETag } });
  await read('recreated', ['a']);

  await write('JSON round trip', {
    j: { when: new Date(0), missing: undefined, list: [1, undefined], nested: { deep: true } },
  });
  const j = await read('read back as JSON', ['j']);
  (j.j as Item).nested = 'changed by the reader';
  await read('reads are copies', ['j']);

  for (const [label, call] of [
    ['read without keys', () => storage.read(undefined as unknown as string[])],
    ['write without changes', () => storage.write(undefined as unknown as StoreItems)],
  ] as const) {
    try {
      await call();
      log.push([label, 'ok']);
    } catch (err) {
      log.push([label, (err as Error).constructor.name, (err as Error).message]);
    }
  }
  return log;
}

function find(log: unknown[], label: string): unknown[] {
  const entry = log.find((e) => Array.isArray(e) && e[0] === label);
  assert.ok(Array.isArray(entry), `no log entry '${label}'`);
  return entry;
}

describeEachEngine('BotStateStorage', 'guest-invite-state-', (stores) => {
  const { open, openTwo } = stores;

  it('behaves like botbuilder MemoryStorage for the same eTag scenario', async () => {
    const expected = await eTagScenario(new MemoryStorage());
    const actual = await eTagScenario(new BotStateStorage((await open()).state));
    assert.deepEqual(actual, expected);

    // and the scenario does exercise what it claims
    assert.deepEqual(find(actual, 'write with stale eTag'), [
      'write with stale eTag',
      'Error',
      'Storage: error writing "a" due to eTag conflict.',
    ]);
    assert.deepEqual(find(actual, 'batch with two conflicts'), [
      'batch with two conflicts',
      'Error',
      'Storage: error writing "a" due to eTag conflict.',
    ]);
    assert.deepEqual(find(actual, 'write with a specific eTag on a new item')[1], 'ok');
    const { eTag: jsonETag, ...json } = (find(actual, 'read back as JSON')[1] as { j: Item }).j;
    assert.equal(typeof jsonETag, 'string');
    assert.deepEqual(json, { when: '1970-01-01T00:00:00.000Z', list: [1, null], nested: { deep: true } });
    const newItem = find(actual, 'new item got a real eTag')[1] as { b: Item };
    assert.notEqual(newItem.b.eTag, '*');
  });

  it('keeps the eTag out of the stored value and uses the store version as eTag', async () => {
    const store = await open();
    const storage = new BotStateStorage(store.state);
    await storage.write({ k: { v: 1, eTag: '*' } });
    const raw = (await store.state.read(['k'])).get('k');
    assert.deepEqual(raw?.value, { v: 1 });
    const items = await storage.read(['k']);
    assert.deepEqual(items.k, { v: 1, eTag: raw?.version });
  });

  it('a conditional write loses against a write from another store on the same file', async () => {
    const [one, two] = (await openTwo()).map((store) => new BotStateStorage(store.state));
    await one.write({ k: { n: 0 } });
    const seenByOne = (await one.read(['k'])).k as Item;
    const seenByTwo = (await two.read(['k'])).k as Item;
    await two.write({ k: { ...seenByTwo, n: 2 } });
    await assert.rejects(one.write({ k: { ...seenByOne, n: 1 } }), /eTag conflict/);
    assert.equal(((await one.read(['k'])).k as Item).n, 2);
  });

  describe('with ConversationState, UserState and a DialogSet', () => {
    interface Profile {
      name?: string;
      turns?: number;
    }

    /** Records the keys written, to look at the stored values afterwards. */
    class RecordingStorage implements Storage {
      readonly keys = new Set<string>();
      constructor(private readonly inner: Storage) {}
      read(keys: string[]): Promise<StoreItems> {
        return this.inner.read(keys);
      }
      write(changes: StoreItems): Promise<void> {
        Object.keys(changes).forEach((k) => this.keys.add(k));
        return this.inner.write(changes);
      }
      delete(keys: string[]): Promise<void> {
        return this.inner.delete(keys);
      }
    }

    function bot(storage: Storage): (context: TurnContext) => Promise<void> {
      const conversationState = new ConversationState(storage);
      const userState = new UserState(storage);
      const profile = userState.createProperty<Profile>('profile');
      const dialogs = new DialogSet(conversationState.createProperty<DialogState>('dialogState'));
      dialogs.add(new TextPrompt('name'));
      dialogs.add(
        new WaterfallDialog('askName', [
          async (step) => step.prompt('name', 'What is your name?'),
          async (step) => {
            const p = await profile.get(step.context, {});
            p.name = String(step.result);
            await step.context.sendActivity(`Nice to meet you, ${p.name}.`);
            return step.endDialog();
          },
        ]),
      );
      return async (context) => {
        const p = await profile.get(context, {});
        p.turns = (p.turns ?? 0) + 1;
        const dc = await dialogs.createContext(context);
        const result = await dc.continueDialog();
        if (result.status === DialogTurnStatus.empty) {
          if (p.name) {
            await context.sendActivity(`Welcome back, ${p.name} (turn ${p.turns}).`);
          } else {
            await dc.beginDialog('askName');
          }
        }
        await conversationState.saveChanges(context);
        await userState.saveChanges(context);
      };
    }

    it('carries dialog and user state from turn to turn, and across reopening the file', async () => {
      const first = await open('bot.db');
      const recording = new RecordingStorage(new BotStateStorage(first.state));
      await new TestAdapter(bot(recording))
        .send('hi')
        .assertReply('What is your name?')
        .send('Ada')
        .assertReply('Nice to meet you, Ada.')
        .send('hello')
        .assertReply('Welcome back, Ada (turn 3).');

      const written = [...recording.keys].sort();
      assert.equal(written.length, 2, `conversation and user keys: ${written.join(', ')}`);
      const stored = await first.state.read(written);
      const userItem = [...stored.values()].find((i) => i.key.includes('/users/'));
      assert.deepEqual(userItem?.value, { profile: { name: 'Ada', turns: 3 } });
      for (const item of stored.values()) {
        assert.equal('eTag' in item.value, false, 'no eTag inside the stored value');
      }
      await first.close();

      const second = await open('bot.db');
      await new TestAdapter(bot(new BotStateStorage(second.state)))
        .send('hello again')
        .assertReply('Welcome back, Ada (turn 4).');
    });

    it('resumes a dialog waiting for an answer after reopening the file', async () => {
      const first = await open('bot.db');
      await new TestAdapter(bot(new BotStateStorage(first.state))).send('hi').assertReply('What is your name?');
      await first.close();

      const second = await open('bot.db');
      await new TestAdapter(bot(new BotStateStorage(second.state)))
        .send('Grace')
        .assertReply('Nice to meet you, Grace.')
        .send('hi')
        .assertReply('Welcome back, Grace (turn 3).');
    });
  });
});
