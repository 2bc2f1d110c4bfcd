/**
 * Erasing a person on an admin's request (docs/privacy.md): everything the bot stored about them is deleted or
 * pseudonymised in every table, JSON columns and dialog state included, and one audit entry records that an
 * erasure happened, by whom and how many rows per table, naming no one.
 *
 * The person is named by an address or an object id; the other identifiers (object id, mail, user principal
 * name, display name) come from the directory when it still knows them, and from the bot's own records of them.
 */
import { DirectoryError, type Directory, type DirectoryUser } from '../../graph/directory';
import type { Logger } from '../../logging';
import type { ErasureSubject, Store, TableCounts } from '../../store/store';
import { auditActor } from '../shared/auditActor';
import { parseEmail } from '../shared/email';
import type { Actor } from '../shared/model';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How many of the tenant's guest records are read to find the person's other identifiers. */
const RECORD_SCAN = 10_000;

/** What an admin typed: an address or an object id, checked; or why it is neither. */
export type ErasureTarget = { ok: true; kind: 'address' | 'id'; value: string } | { ok: false };

export function parseErasureTarget(input: string): ErasureTarget {
  const value = input.trim();
  if (GUID.test(value)) return { ok: true, kind: 'id', value: value.toLowerCase() };
  const email = parseEmail(value);
  return email.ok ? { ok: true, kind: 'address', value: email.address.toLowerCase() } : { ok: false };
}

export interface PersonErasureOptions {
  store: Store;
  directory: Directory;
  logger: Logger;
  clock?: () => Date;
}

export class PersonErasure {
  private readonly clock: () => Date;

  constructor(private readonly options: PersonErasureOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Every identifier of the person the bot may have stored, in the actor's tenant (their 1:1 chat's id included). */
  async subject(tenantId: string, target: Extract<ErasureTarget, { ok: true }>): Promise<ErasureSubject> {
    const ids = new Set<string>();
    const addresses = new Set<string>();
    const names = new Set<string>();
    if (target.kind === 'id') ids.add(target.value);
    else addresses.add(target.value);
    const user = await this.lookUp(target);
    if (user) {
      ids.add(user.id.toLowerCase());
      if (user.mail) addresses.add(user.mail.toLowerCase());
      if (user.userPrincipalName) addresses.add(user.userPrincipalName.toLowerCase());
      if (user.displayName) names.add(user.displayName);
    }
    for (const record of await this.options.store.guests.listForTenant(tenantId, RECORD_SCAN)) {
      if (ids.has(record.guestId.toLowerCase()) || addresses.has(record.guestEmail.toLowerCase())) {
        ids.add(record.guestId.toLowerCase());
        addresses.add(record.guestEmail.toLowerCase());
        names.add(record.guestName);
      }
    }
    for (const id of [...ids]) {
      const requests = await this.options.store.requests.listByRequester(tenantId, id, 1);
      for (const request of requests) names.add(request.requesterName);
      // Their 1:1 chat with the bot: its dialog state and markers are keyed by the conversation id.
      const reference = await this.options.store.conversations.get(tenantId, id);
      const conversation = reference?.conversation;
      const isObject = conversation && typeof conversation === 'object' && !Array.isArray(conversation);
      if (isObject && typeof conversation.id === 'string') ids.add(conversation.id);
    }
    return { tenantId, ids: [...ids], addresses: [...addresses], names: [...names].filter((n) => n.trim().length > 0) };
  }

  /** Erases the person and audits it without naming them; returns the rows changed per table. */
  async erase(actor: Actor, target: Extract<ErasureTarget, { ok: true }>): Promise<TableCounts> {
    const subject = await this.subject(actor.tenantId, target);
    const counts = await this.options.store.privacy.erase(subject);
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    await this.options.store.audit.append({
      time: this.clock().toISOString(),
      ...auditActor(actor),
      action: 'person.erased',
      outcome: rows > 0 ? 'erased' : 'nothingStored',
      detail: JSON.stringify(counts),
    });
    this.options.logger.info('person.erased', { actorId: actor.userId, rows });
    return counts;
  }

  /** The directory's user for an id or an address; null when it does not know them (or cannot be asked). */
  private async lookUp(target: Extract<ErasureTarget, { ok: true }>): Promise<DirectoryUser | null> {
    try {
      const { directory } = this.options;
      if (target.kind === 'id') return await directory.getUser(target.value);
      return await directory.findUserByEmail(target.value);
    } catch (err) {
      // The error's text may quote the address: only its code is logged.
      const code = err instanceof DirectoryError ? err.code : 'unexpected';
      this.options.logger.warn('person.erase.lookupFailed', { code });
      return null;
    }
  }
}
