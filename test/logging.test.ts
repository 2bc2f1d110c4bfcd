import { strict as assert } from 'node:assert';
import { createLogger } from '../src/logging';

describe('logs', () => {
  const clock = () => new Date('2026-12-07T21:04:05.000Z');

  it('production: one JSON object per line with time, level, event and fields', () => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line), clock }).info('invite.succeeded', { operationId: 'op-1' });
    assert.deepEqual(JSON.parse(lines[0]), {
      time: '2026-12-07T21:04:05.000Z',
      level: 'info',
      event: 'invite.succeeded',
      operationId: 'op-1',
    });
  });

  it('a terminal: one readable line per event (time, level, event, fields), long values cut', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'pretty', write: (line) => lines.push(line), clock });
    logger.child({ activityId: 'a-1' }).warn('invite.refused', { reason: 'notOwner', detail: 'x'.repeat(200) });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^21:04:05 warn {2}invite\.refused activityId=a-1 reason=notOwner detail=x{77}\.\.\.$/);
  });

  it('a terminal: each Graph request only at debug level, so a turn is a line or two', () => {
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    createLogger({ format: 'pretty', write, clock }).info('graph.request', { status: 200 });
    assert.equal(lines.length, 0);
    createLogger({ format: 'pretty', level: 'debug', write, clock }).info('graph.request', { status: 200 });
    createLogger({ write, clock }).info('graph.request', { status: 200 });
    assert.equal(lines.length, 2);
  });
});
