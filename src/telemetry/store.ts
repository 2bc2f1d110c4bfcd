/**
 * The store port with a span per call (`store.<area>.<method>`, e.g. `store.operations.update`), wrapped once here
 * for every engine and every method, present and future. Audit entries are also counted as outcome metrics
 * (invitations, approvals, removals, reviews): the audit log is where every outcome lands.
 */
import type { AccessRequestPatch, AccessRequestRecord, AuditEntry, Store } from '../store/store';
import { metrics, recordAudited, span } from './telemetry';

/** Invitations waiting for replication on this instance: operation id → time of the first wait. */
const waiting = new Map<string, number>();

/** Replication waits: from an invitation's first `invite.waiting` to its `invite.succeeded` (same instance). */
function observeReplication(entry: AuditEntry): void {
  if (!entry.operationId) return;
  if (entry.action === 'invite.waiting' && !waiting.has(entry.operationId)) {
    if (waiting.size >= 10_000) waiting.delete(waiting.keys().next().value as string);
    waiting.set(entry.operationId, Date.parse(entry.time));
  } else if (entry.action === 'invite.succeeded' || entry.action === 'invite.failed') {
    const since = waiting.get(entry.operationId);
    waiting.delete(entry.operationId);
    if (since !== undefined && entry.action === 'invite.succeeded')
      metrics.replicationWaited(Math.max(0, (Date.parse(entry.time) - since) / 1000));
  }
}

const DECIDED = new Set(['approved', 'denied', 'expired', 'withdrawn']);

/** The wait from request to decision, measured where the decision is written. */
function observeDecision(patch: AccessRequestPatch | undefined, record: AccessRequestRecord | undefined): void {
  if (!patch?.state || !DECIDED.has(patch.state) || !patch.decidedAt || !record) return;
  const seconds = (Date.parse(patch.decidedAt) - Date.parse(record.createdAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) metrics.requestDecided(patch.state, seconds);
}

type Method = (...args: unknown[]) => unknown;

function wrapMethods<T extends object>(target: T, area: string): T {
  return new Proxy(target, {
    get(obj, property, receiver) {
      const value = Reflect.get(obj, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as Method;
      return (...args: unknown[]) =>
        span(
          `store.${area}${area ? '.' : ''}${property}`,
          { 'db.operation.name': `${area}${area ? '.' : ''}${property}` },
          async () => {
            const result = await method.apply(obj, args);
            if (area === 'audit' && property === 'append') {
              const entry = args[0] as AuditEntry;
              recordAudited(entry.action, entry.outcome);
              observeReplication(entry);
            } else if (area === 'requests' && property === 'update') {
              observeDecision(args[2] as AccessRequestPatch, result as AccessRequestRecord);
            }
            return result;
          },
        );
    },
  });
}

/** The same store, traced. Call once, where the store is opened (only when telemetry is on). */
export function instrumentStore(store: Store): Store {
  const areas = new Map<string | symbol, unknown>();
  const wrapped = wrapMethods(store, '');
  return new Proxy(wrapped, {
    get(obj, property, receiver) {
      const value = Reflect.get(store, property, receiver) as unknown;
      if (value && typeof value === 'object' && typeof property === 'string') {
        if (!areas.has(property)) areas.set(property, wrapMethods(value, property));
        return areas.get(property);
      }
      return Reflect.get(obj, property, receiver);
    },
  });
}
