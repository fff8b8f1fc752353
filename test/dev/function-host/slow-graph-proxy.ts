import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * An https hop in front of the Graph sandbox that holds each mailbox request for `delayMs` and counts how
 * many requests per mailbox are in flight at once — so pacing is asserted on what Graph would observe,
 * not on timings.
 */
export interface SlowGraphProxy {
  url: string;
  maxInFlight(mailbox: string): number;
  close(): Promise<void>;
}

export async function startSlowGraphProxy(targetUrl: string, delayMs: number): Promise<SlowGraphProxy> {
  const target = new URL(targetUrl);
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const server = createServer(
    {
      cert: readFileSync(process.env.BRIDGE_TEST_TLS_CERT as string),
      key: readFileSync(process.env.BRIDGE_TEST_TLS_KEY as string),
    },
    (req, res) => {
      const mailbox = /^\/v1\.0\/users\/([^/?]+)/.exec(req.url ?? '')?.[1];
      const key = mailbox ? decodeURIComponent(mailbox).toLowerCase() : undefined;
      if (key) {
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        peak.set(key, Math.max(peak.get(key) ?? 0, n));
      }
      const done = () => {
        if (key) inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      };
      setTimeout(
        () => {
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
              up.on('end', done);
            },
          );
          upstream.on('error', () => {
            done();
            res.destroy();
          });
          req.pipe(upstream);
        },
        key ? delayMs : 0,
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    maxInFlight: (mailbox) => peak.get(mailbox.toLowerCase()) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
