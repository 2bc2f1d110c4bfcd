/**
 * The store port with a span per call (`store.<area>.<method>`, e.g. `store.operations.update`), wrapped once here
 * for every engine and every method, present and future. Audit entries are also counted as outcome metrics
 * (invitations, approvals, removals, reviews): the audit log is where every outcome lands.
 */
import type { AuditEntry, Store } from '../store/store';
import { recordAudited, span } from './telemetry';

type Method = (...args: unknown[]) => unknown;

function wrapMethods<T extends object>(target: T, area: string): T {
  return new Proxy(target, {
    get(obj, property, receiver) {
      const value = Reflect.get(obj, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as Method;
      return (...args: unknown[]) =>
        span(`store.${area}${area ? '.' : ''}${property}`, { 'db.operation.name': `${area}${area ? '.' : ''}${property}` }, async () => {
          const result = await method.apply(obj, args);
          if (area === 'audit' && property === 'append') {
            const entry = args[0] as AuditEntry;
            recordAudited(entry.action, entry.outcome);
          }
          return result;
        });
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
