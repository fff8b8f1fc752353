import type { AddressInfo } from 'node:net';

import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

import { LanSmtpServer } from '../../edge-listener/smtp/lan-smtp-server';

/**
 * The ceilings: smtp-server that reads every message and throws it away. `stock` is the library as shipped
 * (with its fixed 100 ms greeting delay); `lan` is the listener's LanSmtpServer subclass without that delay,
 * i.e. the most the edge listener could reach with no spool and no forwarding. Prints its port on stdout.
 */
const kind = process.argv[2] === 'stock' ? 'stock' : 'lan';
const options: SMTPServerOptions = {
  disableReverseLookup: true,
  logger: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: 200 * 1024 * 1024,
  onData(stream, _session, cb) {
    stream.on('data', () => undefined);
    stream.on('end', () => cb(null, 'discarded'));
  },
};
const server = kind === 'stock' ? new SMTPServer(options) : new LanSmtpServer(options);
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ port: (server.server.address() as AddressInfo).port })),
);
process.on('SIGTERM', () => process.exit(0));
