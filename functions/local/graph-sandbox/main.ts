import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import pino from 'pino';

import { parseBytes } from '../../../core/config/define';
import type { Logger } from '../../../core/log';
import { REDACT_PATHS } from '../../../core/log';
import { ensureSelfSignedCert } from '../../../core/self-signed-cert';
import { startGraphSandbox } from './sandbox';

const HELP = `graph-sandbox — a Microsoft Graph + Entra ID look-alike that keeps every message instead of sending it

Usage: npx tsx functions/local/graph-sandbox/main.ts [options]

Options:
  --port <n>               https port (default 8443; 0 = any free port)
  --host <addr>            address to listen on (default 127.0.0.1)
  --data-dir <dir>         where kept messages go, one folder each (default .data/graph-sandbox)
  --cert <pem> --key <pem> TLS certificate and key (default: a self-signed one in <data-dir>/tls)
  --mailbox <address>      a mailbox that exists (repeatable; default: every address exists)
  --max-message-bytes <n>  mailbox message size limit, e.g. 35MB or 150MB (default 35 MiB)
  --help                   this text

Point the bridge at it (both are the same https server):
  BRIDGE_GRAPH_ENDPOINT=<url>  AZURE_AUTHORITY_HOST=<url>  NODE_EXTRA_CA_CERTS=<cert.pem>
Kept messages: <data-dir>/<time>-<id>/{summary.json,request.json,message.eml,attachments/}
and https://<host>:<port>/_sandbox/messages`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: '.data/graph-sandbox' },
      cert: { type: 'string' },
      key: { type: 'string' },
      mailbox: { type: 'string', multiple: true },
      'max-message-bytes': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new Error('--cert and --key go together');
  const dataDir = resolve(values['data-dir']);
  const tls =
    values.cert && values.key
      ? {
          cert: readFileSync(values.cert, 'utf8'),
          key: readFileSync(values.key, 'utf8'),
          certPath: resolve(values.cert),
        }
      : await ensureSelfSignedCert(join(dataDir, 'tls'), { commonName: 'smtp-graph-bridge graph sandbox' });
  const logger = pino({ redact: REDACT_PATHS }) as unknown as Logger;
  const sandbox = await startGraphSandbox({
    cert: tls.cert,
    key: tls.key,
    port: Number(values.port),
    host: values.host,
    dataDir,
    ...(values.mailbox ? { mailboxes: values.mailbox } : {}),
    ...(values['max-message-bytes'] ? { maxMessageBytes: parseBytes(values['max-message-bytes']) } : {}),
    logger,
  });
  console.log(`graph sandbox listening on ${sandbox.url}
  BRIDGE_GRAPH_ENDPOINT=${sandbox.url}
  AZURE_AUTHORITY_HOST=${sandbox.authorityHost}
  NODE_EXTRA_CA_CERTS=${tls.certPath}
  kept messages: ${dataDir}`);
  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  console.error('Run with --help for usage.');
  process.exit(2);
});
