/** Gauges read at each metric export: unfinished directory operations and waiting proactive messages, with ages. */
import type { Store } from '../store/store';
import { observeGauge } from '../telemetry/telemetry';

const LIMIT = 1000;

/** Seconds since the oldest of `createdAt` times (0 when there is none). */
function ageOfOldest(createdAt: readonly string[]): number {
  if (createdAt.length === 0) return 0;
  return Math.max(0, (Date.now() - Math.min(...createdAt.map((c) => Date.parse(c)))) / 1000);
}

function observeOperationGauges(store: Store): Array<() => void> {
  const unfinished = observeGauge(
    'guestinvite.operations.unfinished',
    `Directory operations pending or running (counted up to ${LIMIT})`,
    '{operation}',
    async () => [{ value: (await store.operations.listUnfinished(LIMIT)).length }],
  );
  const oldest = observeGauge(
    'guestinvite.operations.oldest_age',
    'Age of the oldest unfinished directory operation',
    's',
    async () => [{ value: ageOfOldest((await store.operations.listUnfinished(1)).map((o) => o.createdAt)) }],
  );
  return [unfinished, oldest];
}

/** Proactive messages waiting in the outbox (docs/outbox.md), and the age of the oldest. */
function observeOutboxGauges(store: Store): Array<() => void> {
  const waitingMessages = async () => store.outbox.listDue(new Date(8.64e15), LIMIT);
  const waiting = observeGauge(
    'guestinvite.outbox.waiting',
    `Proactive messages waiting to be sent (counted up to ${LIMIT})`,
    '{message}',
    async () => [{ value: (await waitingMessages()).length }],
  );
  const oldestMessage = observeGauge(
    'guestinvite.outbox.oldest_age',
    'Age of the oldest proactive message waiting',
    's',
    async () => [{ value: ageOfOldest((await waitingMessages()).map((m) => m.createdAt)) }],
  );
  return [waiting, oldestMessage];
}

/** Starts observing; returns what stops it. */
export function observeOperations(store: Store): () => void {
  const stops = [...observeOperationGauges(store), ...observeOutboxGauges(store)];
  return () => {
    for (const stop of stops) stop();
  };
}
