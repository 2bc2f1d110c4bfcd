/**
 * Card submits and invokes are client-controlled: each verb has a schema that is checked before anything else.
 * Unknown verbs, missing or extra fields, wrong types and oversized payloads are refused, and nothing changes.
 */

export const MAX_CARD_PAYLOAD_BYTES = 32 * 1024;

type FieldRule = { type: 'string'; max: number; pattern?: RegExp; optional?: boolean };

const id = (optional = false): FieldRule => ({ type: 'string', max: 64, pattern: /^[0-9A-Za-z-]{1,64}$/, optional });
/**
 * The `guest` list of the guest cards: a guest id (review) or `groupId/guestId` (my guests); empty when none is chosen.
 */
const guest: FieldRule = {
  type: 'string',
  max: 130,
  pattern: /^([0-9A-Za-z-]{1,64}(\/[0-9A-Za-z-]{1,64})?)?$/,
  optional: true,
};
const listInputs = {
  page: { type: 'string', max: 4, pattern: /^\d{1,4}$/, optional: true } as FieldRule,
  pending: { type: 'string', max: 5, pattern: /^(true|false)$/, optional: true } as FieldRule,
  appId: id(true),
  guest,
};
const flow = { verb: { type: 'string', max: 40 } as FieldRule, flowId: id() };

/** Fields each verb may carry (Action.Submit data merged with the card's inputs). */
const schemas: Record<string, Record<string, FieldRule>> = {
  'invite.app': { ...flow, appId: id() },
  'invite.group': { ...flow, groupId: id() },
  'invite.details': {
    ...flow,
    email: { type: 'string', max: 320 },
    message: { type: 'string', max: 2000, optional: true },
  },
  'invite.confirm': flow,
  'invite.bulk': flow,
  'invite.bulkCheck': {
    ...flow,
    addresses: { type: 'string', max: 30000 },
    message: { type: 'string', max: 2000, optional: true },
  },
  'invite.bulkSend': flow,
  'invite.cancel': {
    ...flow,
    appId: id(true),
    groupId: id(true),
    email: { type: 'string', max: 320, optional: true },
    message: { type: 'string', max: 2000, optional: true },
  },
  'request.app': { ...flow, appId: id() },
  'request.group': { ...flow, groupId: id() },
  'request.details': { ...flow, justification: { type: 'string', max: 2000 } },
  'request.confirm': flow,
  'request.cancel': {
    ...flow,
    appId: id(true),
    groupId: id(true),
    justification: { type: 'string', max: 2000, optional: true },
  },
  'request.withdraw': { verb: { type: 'string', max: 40 }, requestId: id() },
  'request.approve': {
    verb: { type: 'string', max: 40 },
    requestId: id(),
    comment: { type: 'string', max: 2000, optional: true },
  },
  'request.deny': {
    verb: { type: 'string', max: 40 },
    requestId: id(),
    comment: { type: 'string', max: 2000, optional: true },
  },
  'request.refresh': {
    verb: { type: 'string', max: 40 },
    requestId: id(),
    comment: { type: 'string', max: 2000, optional: true },
  },
  'guests.list': { verb: { type: 'string', max: 40 }, ...listInputs },
  // The guest is chosen in the card's `guest` list; cards sent before that list named it in groupId and guestId.
  'guests.resend': {
    verb: { type: 'string', max: 40 },
    groupId: id(true),
    guestId: id(true),
    reviewId: id(true),
    ...listInputs,
  },
  'guests.remove': { verb: { type: 'string', max: 40 }, groupId: id(true), guestId: id(true), ...listInputs },
  'guests.removeConfirm': { verb: { type: 'string', max: 40 }, groupId: id(), guestId: id(), nonce: id() },
  'guests.removeCancel': { verb: { type: 'string', max: 40 } },
  'guests.export': { verb: { type: 'string', max: 40 } },
  'report.export': { verb: { type: 'string', max: 40 } },
  'review.keep': { verb: { type: 'string', max: 40 }, reviewId: id(), groupId: id(), guestId: id(true), guest },
  'review.remove': { verb: { type: 'string', max: 40 }, reviewId: id(), groupId: id(), guestId: id(true), guest },
  'review.keepAll': { verb: { type: 'string', max: 40 }, reviewId: id(), groupId: id() },
  'privacy.erase': { verb: { type: 'string', max: 40 }, target: { type: 'string', max: 320 } },
  'privacy.eraseCancel': { verb: { type: 'string', max: 40 } },
  'alert.ack': {
    verb: { type: 'string', max: 40 },
    key: { type: 'string', max: 120, pattern: /^[A-Za-z]+:[\w.-]{1,100}$/ },
  },
};

export type PayloadCheck = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

function byteLength(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Checks a card payload: `{ verb, ...fields }`. Invokes pass the verb separately and their data as fields. */
export function checkCardPayload(payload: unknown, verbOverride?: unknown): PayloadCheck {
  if (byteLength(payload) > MAX_CARD_PAYLOAD_BYTES) return { ok: false, reason: 'too large' };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return { ok: false, reason: 'not an object' };
  const value = { ...(payload as Record<string, unknown>) };
  if (verbOverride !== undefined) value.verb = verbOverride;
  const verb = value.verb;
  if (typeof verb !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, verb))
    return { ok: false, reason: 'unknown verb' };
  const schema = schemas[verb];
  for (const key of Object.keys(value)) {
    if (!Object.prototype.hasOwnProperty.call(schema, key))
      return { ok: false, reason: `unexpected field ${key.slice(0, 40)}` };
  }
  for (const [key, rule] of Object.entries(schema)) {
    const field = value[key];
    if (field === undefined || field === null) {
      if (rule.optional) continue;
      return { ok: false, reason: `missing ${key}` };
    }
    if (typeof field !== 'string') return { ok: false, reason: `${key} has the wrong type` };
    if (field.length > rule.max) return { ok: false, reason: `${key} is too long` };
    if (rule.pattern && !rule.pattern.test(field)) return { ok: false, reason: `${key} is malformed` };
  }
  return { ok: true, value };
}
