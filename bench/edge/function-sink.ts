import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { WIRE_HEADERS, WIRE_PATH } from '../../core/wire';

/**
 * A stand-in for the Azure Function that answers every POST "sent" as soon as the body has streamed in, so
 * the benchmark measures the edge's intake (spool + one forward round trip), not the cloud. It does not
 * verify signatures — the edge computes them anyway, so their cost is included. Prints its port on stdout.
 */
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const id = String(req.headers[WIRE_HEADERS.messageId] ?? '');
  req.on('data', () => undefined);
  req.on('end', () => {
    if (req.url !== WIRE_PATH) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.stringify({ id, state: 'sent', sender: 'bench@example.com' });
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      .end(body);
  });
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })),
);
process.on('SIGTERM', () => process.exit(0));
