/**
 * A user-facing message as the domain states it: a catalog key and its parameters. The bot renders it in the
 * recipient's language (src/i18n); the domain never builds sentences itself. A parameter may be another message.
 */
export type MsgParam = string | number | Msg;

export interface Msg {
  key: string;
  params?: Record<string, MsgParam>;
}

export function msg(key: string, params?: Record<string, MsgParam>): Msg {
  return params ? { key, params } : { key };
}

/** A message as kept in the audit log (not shown to users): its key and parameters. */
export function auditText(message: Msg): string {
  const params = Object.entries(message.params ?? {}).map(
    ([k, v]) => `${k}=${typeof v === 'object' ? auditText(v) : String(v)}`,
  );
  return params.length > 0 ? `${message.key} (${params.join(', ')})` : message.key;
}

/** Whether a stored value (e.g. JSON kept with an alert) is a message. */
export function isMsg(value: unknown): value is Msg {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { key, params } = value as { key?: unknown; params?: unknown };
  return (
    typeof key === 'string' &&
    (params === undefined || (typeof params === 'object' && params !== null && !Array.isArray(params)))
  );
}
