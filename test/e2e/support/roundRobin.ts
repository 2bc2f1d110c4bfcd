/**
 * A round-robin HTTP proxy in front of several bot instances, as Azure's load balancer is in front of an App
 * Service's instances: each request goes to the next instance; an instance that refuses the connection (it was
 * killed) is skipped. It records which instance served each request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobin {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The backend index each request was sent to, in order of arrival. */
  readonly served: number[];
  close(): Promise<void>;
}

export async function startRoundRobin(backends: readonly string[]): Promise<RoundRobin> {
  let next = 0;
  const served: number[] = [];
  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, tries: number): void => {
    const index = next++ % backends.length;
    const target = new URL(req.url ?? '/', backends[index]);
    served.push(index);
    const out = http.request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.statusCode = answer.statusCode ?? 502;
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) res.setHeader(name, value);
        answer.pipe(res);
      },
    );
    out.on('error', (error) => {
      if (tries + 1 < backends.length && (error as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        served.pop();
        forward(req, body, res, tries + 1);
      } else if (!res.headersSent) {
        // restify (loaded in this test process by the bot's server module) replaces ServerResponse.writeHead with one
        // that does not
        // return the response, so no chaining here
        res.statusCode = 502;
        res.end(String(error));
      } else res.destroy();
    });
    out.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, Buffer.concat(chunks), res, 0));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
