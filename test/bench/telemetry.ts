/**
 * The cost of telemetry: the same `help` turns on a bot with telemetry off (no exporter configured) and on one
 * exporting traces and metrics over OTLP/HTTP to a receiver in this process (it counts what arrives and answers 200),
 * measured back to back. Target: on ≤ 1.25× off in CPU per turn.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpuMs, startBotProcess, type Measured } from './processes';
import { Conversation, runLoad, type StubConnector } from './load';

export interface TelemetryBench {
  turns: number;
  offCpuMsPerTurn: number;
  onCpuMsPerTurn: number;
  ratio: number;
  exported: { traceRequests: number; metricRequests: number; bytes: number };
  target: { ratio: number; met: boolean };
}

/** A minimal OTLP/HTTP receiver: accepts /v1/traces and /v1/metrics and counts them. */
async function otlpReceiver(): Promise<{ url: string; counts: TelemetryBench['exported']; close(): Promise<void> }> {
  const counts = { traceRequests: 0, metricRequests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      counts.bytes += chunk.length;
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') counts.traceRequests++;
      if (req.url === '/v1/metrics') counts.metricRequests++;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function helpCpu(bot: Measured, conversations: Conversation[], warmup: number, turns: number): Promise<number> {
  const load = (n: number) =>
    runLoad(conversations, n, async (conversation) => {
      const result = await conversation.send(`${bot.baseUrl}/api/messages`, 'help');
      if (!result.sent.length) throw new Error(`${bot.name} sent nothing for 'help'`);
      return [result.ms];
    });
  await load(warmup);
  const before = cpuMs(bot.pid);
  await load(turns);
  return (cpuMs(bot.pid) - before) / turns;
}

export async function telemetryBench(options: {
  connector: StubConnector;
  graphBaseUrl: string;
  storePath: (name: string) => string;
  owners: Array<{ id: string; name: string }>;
  turns: number;
  warmup: number;
}): Promise<TelemetryBench> {
  const receiver = await otlpReceiver();
  const conversations = (tag: string) => options.owners.map((o) => new Conversation(options.connector, o, tag));
  const off = await startBotProcess('bot (telemetry off)', {
    graphBaseUrl: options.graphBaseUrl,
    storePath: options.storePath('off'),
  });
  const on = await startBotProcess('bot (telemetry on, OTLP)', {
    graphBaseUrl: options.graphBaseUrl,
    storePath: options.storePath('on'),
    // Exported every 5 s (traces in batches, metrics at the interval), so the run's cost includes exporting.
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_BSP_SCHEDULE_DELAY: '1000',
    },
  });
  try {
    // Alternating halves, so a change in the machine's load during the run falls on both alike.
    const half = Math.ceil(options.turns / 2);
    const offA = await helpCpu(off, conversations('toff'), options.warmup, half);
    const onA = await helpCpu(on, conversations('ton'), options.warmup, half);
    const onB = await helpCpu(on, conversations('ton'), 0, half);
    const offB = await helpCpu(off, conversations('toff'), 0, half);
    // Let the last batch and a metric export arrive.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const offCpu = (offA + offB) / 2;
    const onCpu = (onA + onB) / 2;
    const ratio = onCpu / offCpu;
    process.stderr.write(
      `  help, telemetry off: ${offCpu.toFixed(2)} ms CPU/turn; on (OTLP): ${onCpu.toFixed(2)} ms CPU/turn (×${ratio.toFixed(2)})\n`,
    );
    return {
      turns: half * 2,
      offCpuMsPerTurn: offCpu,
      onCpuMsPerTurn: onCpu,
      ratio,
      exported: { ...receiver.counts },
      target: { ratio: 1.25, met: ratio <= 1.25 },
    };
  } finally {
    await on.stop();
    await off.stop();
    await receiver.close();
  }
}
