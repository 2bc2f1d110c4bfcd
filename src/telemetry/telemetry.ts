/**
 * The bot's telemetry: spans and metrics through the OpenTelemetry API, with ids and counts only (never addresses,
 * names, reasons, comments or message text). Until `installProviders` runs (src/telemetry/start.ts, only when an
 * exporter is configured), every function here is a no-op that calls straight through: no span objects, no clock
 * reads, no SDK loaded.
 *
 * The API for other parts of the bot (the proactive-message outbox included):
 * - `span(name, attributes, fn)` runs `fn` in a child span of the current one (or a root span for background work);
 * - `event(name, attributes)` / `setAttributes(attributes)` annotate the current span;
 * - `observeGauge(name, description, read)` registers an observable gauge read at each export
 *   (e.g. `guestinvite.outbox.waiting` and `guestinvite.outbox.oldest_age`);
 * - `metrics.*` records the counters and histograms of docs/operations.md.
 */
import {
  context,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableResult,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

export type { Attributes } from '@opentelemetry/api';

const SCOPE = 'guest-invite';

interface Instruments {
  invitations: Counter;
  approvals: Counter;
  removals: Counter;
  reviews: Counter;
  graphRequests: Counter;
  graphThrottled: Counter;
  graphRetryAfter: Histogram;
  replicationWaits: Counter;
  replicationWaitLength: Histogram;
  turnDuration: Histogram;
  teamsSends: Counter;
  decisionWait: Histogram;
}

interface Installed {
  tracer: Tracer;
  meter: Meter;
  instruments: Instruments;
}

let installed: Installed | null = null;

/** A gauge reading: one value per attribute set. */
export interface GaugeReading {
  value: number;
  attributes?: Attributes;
}

interface GaugeRegistration {
  name: string;
  description: string;
  unit: string;
  read: () => Promise<readonly GaugeReading[]> | readonly GaugeReading[];
}

const gauges: GaugeRegistration[] = [];

function createInstruments(meter: Meter): Instruments {
  const outcome = (name: string, description: string): Counter => meter.createCounter(name, { description });
  return {
    invitations: outcome(
      'guestinvite.invitations',
      'Invitations by outcome (succeeded, refused, failed, waiting, forged)',
    ),
    approvals: outcome('guestinvite.approvals', 'Access-request decisions and their membership writes, by outcome'),
    removals: outcome('guestinvite.removals', 'Guest removals by outcome'),
    reviews: outcome('guestinvite.reviews', 'Guest review events by outcome (opened, decided, default, ...)'),
    graphRequests: meter.createCounter('guestinvite.graph.requests', {
      description: 'HTTP exchanges with Microsoft Graph (each attempt), by status',
    }),
    graphThrottled: meter.createCounter('guestinvite.graph.throttled', {
      description: 'Graph answers 429 (whole requests and batch items)',
    }),
    graphRetryAfter: meter.createHistogram('guestinvite.graph.retry_after', {
      description: 'Retry-After that Graph asked for',
      unit: 's',
    }),
    replicationWaits: meter.createCounter('guestinvite.replication.waits', {
      description: 'Invitations waiting for a new guest to replicate',
    }),
    replicationWaitLength: meter.createHistogram('guestinvite.replication.wait', {
      description: 'How long a guest took to become addable after its invitation',
      unit: 's',
    }),
    turnDuration: meter.createHistogram('guestinvite.turn.duration', {
      description: 'Time to answer an incoming activity',
      unit: 'ms',
    }),
    teamsSends: meter.createCounter('guestinvite.teams.sends', {
      description: 'Proactive messages and updates sent to Teams, by outcome',
    }),
    decisionWait: meter.createHistogram('guestinvite.request.decision_wait', {
      description: 'From an access request to its decision (approved, denied, expired, withdrawn)',
      unit: 's',
    }),
  };
}

const registered = new Map<GaugeRegistration, () => void>();

function registerGauge(meter: Meter, gauge: GaugeRegistration): void {
  const observable = meter.createObservableGauge(gauge.name, { description: gauge.description, unit: gauge.unit });
  const callback = async (result: ObservableResult): Promise<void> => {
    for (const reading of await gauge.read()) result.observe(reading.value, reading.attributes);
  };
  observable.addCallback(callback);
  registered.set(gauge, () => observable.removeCallback(callback));
}

/** Turns telemetry on with these providers (start.ts, or a test with in-memory exporters). */
export function installProviders(tracerProvider: TracerProvider, meterProvider: MeterProvider): void {
  const meter = meterProvider.getMeter(SCOPE);
  installed = { tracer: tracerProvider.getTracer(SCOPE), meter, instruments: createInstruments(meter) };
  for (const gauge of gauges) registerGauge(meter, gauge);
}

/** Turns telemetry off again (tests; shutdown). */
export function uninstallProviders(): void {
  installed = null;
  registered.clear();
}

export function telemetryEnabled(): boolean {
  return installed !== null;
}

/**
 * Registers an observable gauge, read at each metric export (now, or once telemetry is installed). Keep `read`
 * cheap: it runs once per export interval (60 s by default) on every instance.
 */
export function observeGauge(
  name: string,
  description: string,
  unit: string,
  read: GaugeRegistration['read'],
): () => void {
  const gauge = { name, description, unit, read };
  gauges.push(gauge);
  if (installed) registerGauge(installed.meter, gauge);
  /** Stops reading it (e.g. when what it reads is closed). */
  return () => {
    const at = gauges.indexOf(gauge);
    if (at >= 0) gauges.splice(at, 1);
    registered.get(gauge)?.();
    registered.delete(gauge);
  };
}

export interface SpanOptions {
  /** A new trace rather than a child of the current span (background work started by a timer). */
  root?: boolean;
  kind?: 'server' | 'client' | 'internal' | 'producer';
}

const kinds = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
  producer: SpanKind.PRODUCER,
};

/** An error's kind for a span status: its name and code, never its message (messages may carry addresses). */
function errorLabel(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${err.name}:${code}` : err.name;
  }
  return typeof err;
}

/** Runs `fn` inside a span named `name`; a thrown error marks the span failed (by name and code) and is rethrown. */
export async function span<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T> | T,
  options: SpanOptions = {},
): Promise<T> {
  if (!installed) return fn();
  const parent = options.root ? trace.deleteSpan(context.active()) : context.active();
  return installed.tracer.startActiveSpan(
    name,
    { attributes, kind: kinds[options.kind ?? 'internal'] },
    parent,
    async (s) => {
      try {
        return await fn();
      } catch (err) {
        s.setStatus({ code: SpanStatusCode.ERROR, message: errorLabel(err) });
        s.setAttribute('error.type', errorLabel(err));
        throw err;
      } finally {
        s.end();
      }
    },
  );
}

/** Adds an event (e.g. a retry, a throttled answer) to the current span. */
export function event(name: string, attributes?: Attributes): void {
  if (installed) trace.getActiveSpan()?.addEvent(name, attributes);
}

/** Adds attributes (e.g. the command a turn turned out to be) to the current span. */
export function setAttributes(attributes: Attributes): void {
  if (installed) trace.getActiveSpan()?.setAttributes(attributes);
}

/** The current trace and span ids, for log lines; undefined when telemetry is off or outside a span. */
export function traceIds(): { traceId: string; spanId: string } | undefined {
  if (!installed) return undefined;
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx ? { traceId: ctx.traceId, spanId: ctx.spanId } : undefined;
}

const safeCode = (value: string | undefined): string | undefined =>
  value && /^[A-Za-z0-9_.-]{1,40}$/.test(value) ? value : undefined;

/**
 * Counts an audited outcome (the audit log is where every invitation, decision, removal and review lands).
 * `action` is the audit action (e.g. `invite.succeeded`); `reason` is kept only when it is a code, never free text.
 */
export function recordAudited(action: string, reason?: string): void {
  if (!installed) return;
  const { instruments } = installed;
  const [area, ...rest] = action.split('.');
  const attributes: Attributes = { outcome: rest.join('.') || area };
  const code = safeCode(reason);
  if (code && code !== attributes.outcome) attributes.reason = code;
  if (area === 'invite') {
    instruments.invitations.add(1, attributes);
    if (action === 'invite.waiting') instruments.replicationWaits.add(1);
  } else if (area === 'request' || action === 'membership.added') {
    // The membership write after an approval is audited as `membership.added` with what happened as its outcome
    // (added, alreadyMember, refused, failed).
    const membership = { outcome: `membership.${code ?? 'unknown'}` };
    if (action !== 'request.created' && action !== 'request.reminded')
      instruments.approvals.add(1, action === 'membership.added' ? membership : attributes);
  } else if (area === 'guest' && (rest[0] === 'removed' || rest[0] === 'remove')) {
    instruments.removals.add(1, attributes);
  } else if (area === 'review') {
    instruments.reviews.add(1, attributes);
  }
}

/** The metrics the Graph client, the turn handler and the messenger record. */
export const metrics = {
  /** One HTTP exchange with Graph (or one batch item), with its status and the Retry-After asked for. */
  graphAnswer(method: string, route: string, status: number, retryAfterSeconds?: number, inBatch = false): void {
    if (!installed) return;
    const { instruments } = installed;
    instruments.graphRequests.add(1, {
      'http.request.method': method,
      'url.template': route,
      'http.response.status_code': status,
      'graph.batch_item': inBatch,
    });
    if (status === 429) instruments.graphThrottled.add(1, { 'url.template': route });
    if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds))
      instruments.graphRetryAfter.record(retryAfterSeconds, { 'http.response.status_code': status });
  },
  /** A guest became addable `seconds` after its invitation. */
  replicationWaited(seconds: number): void {
    installed?.instruments.replicationWaitLength.record(seconds);
  },
  /** An access request was decided `seconds` after it was made. */
  requestDecided(state: string, seconds: number): void {
    installed?.instruments.decisionWait.record(seconds, { outcome: state });
  },
  turn(ms: number, attributes: Attributes): void {
    installed?.instruments.turnDuration.record(ms, attributes);
  },
  teamsSend(kind: string, outcome: string): void {
    installed?.instruments.teamsSends.add(1, { kind, outcome });
  },
};
