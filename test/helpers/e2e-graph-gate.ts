import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * An https hop in front of the Graph sandbox that can be shut for a moment: while shut, mailbox requests
 * (`/v1.0/users/...`) wait at the gate, fully received but not yet passed on; `open()` lets them through to
 * the sandbox in arrival order. The function thus has a Graph call in flight — and the edge a POST in flight
 * — for exactly as long as a test needs to kill something, and Graph still answers each request once.
 * Token requests pass straight through (the function points only BRIDGE_GRAPH_ENDPOINT here).
 */
export interface GraphGate {
  /** Use as BRIDGE_GRAPH_ENDPOINT. */
  url: string;
  shut(): void;
  open(): void;
  /** Mailbox requests waiting at the gate right now. */
  waiting(): number;
  close(): Promise<void>;
}

export async function startGraphGate(targetUrl: string): Promise<GraphGate> {
  const target = new URL(targetUrl);
  let shut = false;
  let held: Array<() => void> = [];
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };
  const server = createServer(
    {
      cert: readFileSync(process.env.BRIDGE_TEST_TLS_CERT as string),
      key: readFileSync(process.env.BRIDGE_TEST_TLS_KEY as string),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const pass = () => forward(req, res, Buffer.concat(chunks));
        if (shut && /^\/v1\.0\/users\//.test(req.url ?? '')) held.push(pass);
        else pass();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    shut: () => {
      shut = true;
    },
    open: () => {
      shut = false;
      const waiting = held;
      held = [];
      for (const pass of waiting) pass();
    },
    waiting: () => held.length,
    close: () =>
      new Promise<void>((resolve) => {
        held = [];
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
