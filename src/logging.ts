/**
 * Structured logs: one line of JSON per event (production, `LOG_FORMAT=json`), or one short readable line per event
 * for a person at a terminal (`LOG_FORMAT=pretty`, what `npm start` uses). Never pass secrets or tokens as fields.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { traceIds } from './telemetry/telemetry';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the activity id). */
  child(fields: LogFields): Logger;
}

const context = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` (e.g. the activity id) added to every log line written inside it. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return context.run({ ...(context.getStore() ?? {}), ...fields }, fn);
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFormat = 'json' | 'pretty';

/** Events written for every Graph request: shown in the readable format only with `LOG_LEVEL=debug`. */
const CHATTY = new Set(['graph.request']);

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  clock?: () => Date;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    const withCode = value as Error & { code?: unknown; requestId?: unknown };
    return {
      name: value.name,
      message: value.message,
      ...(withCode.code !== undefined ? { code: withCode.code } : {}),
      ...(withCode.requestId !== undefined ? { requestId: withCode.requestId } : {}),
      stack: value.stack?.split('\n').slice(0, 6).join('\n'),
    };
  }
  return value;
}

function prettyValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `21:04:05 warn  invite.refused  reason=notOwner activityId=…`: time, level, event, then the fields. */
function prettyLine(record: LogFields): string {
  const { time, level, event, ...fields } = record;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${prettyValue(value)}`);
  return [clock, String(level).padEnd(5), String(event), ...rest].join(' ');
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const min = order[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const clock = options.clock ?? (() => new Date());
  const pretty = options.format === 'pretty';
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (order[level] < min) return;
    if (pretty && CHATTY.has(event) && min > order.debug) return;
    // With telemetry on, a line written inside a span names it, so logs and traces join up.
    const ids = traceIds();
    const record: LogFields = { time: clock().toISOString(), level, event, ...ids, ...context.getStore(), ...bound };
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined) record[key] = errorFields(value);
    }
    write(pretty ? prettyLine(record) : JSON.stringify(record));
  };
  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ write: () => undefined });
