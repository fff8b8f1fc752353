import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import pino from 'pino';

import type { Logger } from '../../core/log';
import { REDACT_PATHS } from '../../core/log';
import { ensureSelfSignedCert } from '../../core/self-signed-cert';
import { HELP, parseSandboxCli } from './cli-options';
import { startGraphSandbox } from './sandbox';

async function main(argv: string[]): Promise<void> {
  const cli = parseSandboxCli(argv);
  if (cli.help) {
    console.log(HELP);
    return;
  }
  const dataDir = resolve(cli.dataDir);
  const tls =
    cli.cert && cli.key
      ? {
          cert: readFileSync(cli.cert, 'utf8'),
          key: readFileSync(cli.key, 'utf8'),
          certPath: resolve(cli.cert),
        }
      : await ensureSelfSignedCert(join(dataDir, 'tls'), { commonName: 'smtp-graph-bridge graph sandbox' });
  const logger = pino({ redact: REDACT_PATHS }) as unknown as Logger;
  const sandbox = await startGraphSandbox({ ...cli.options, cert: tls.cert, key: tls.key, dataDir, logger });
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
