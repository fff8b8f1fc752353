import { parseArgs } from 'node:util';

import pino from 'pino';

import { formatIssues } from '../../core/config/define';
import { BridgeError } from '../../core/errors';
import { REDACT_PATHS, type Logger } from '../../core/log';
import { loadFunctionConfig } from '../../functions/config';
import { localHostEnvironment, loadLocalHostSettings, localHostSettingsSchema } from './host-config';
import { startLocalFunctionHost } from './host';

const HELP = `Local function host of smtp-graph-bridge: serves the function's HTTP routes and runs its queue
trigger against the configured storage, like the Azure Functions host (which cannot be installed here).

Usage: npm run start:function -- [options]
       tsx dev/function-host/host-main.ts [options]

Options:
  --host <address>   listen address (default BRIDGE_LOCAL_FUNCTION_HOST or 127.0.0.1)
  --port <n>         listen port (default BRIDGE_LOCAL_FUNCTION_PORT or 7071)
  --no-queue         serve HTTP only; do not run the queue trigger
  --help             show this text

Routes (under /api):
  POST /api/v1/messages         edge → function, signed (core/wire.ts)         function key
  GET  /api/v1/messages/{id}    state of a message, signed by its site          function key
  GET  /api/v1/diagnostics      doctor's checks, the site's mailboxes, signed   function key
  GET  /api/health              liveness                                         anonymous
  GET  /api/health/deep         the site's token, roles, mailboxes; signed      function key

Configuration: the function app settings (docs/config-function.md), e.g. AzureWebJobsStorage (an Azurite
connection string locally), BRIDGE_SITE_SECRETS, AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET,
BRIDGE_GRAPH_ENDPOINT and AZURE_AUTHORITY_HOST. Local host only:
  BRIDGE_LOCAL_FUNCTION_KEY     required in x-functions-key on function-key routes (unset: not checked)
  BRIDGE_LOCAL_FUNCTION_HOST, BRIDGE_LOCAL_FUNCTION_PORT
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'no-queue': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const logger = pino({
    redact: { paths: REDACT_PATHS, remove: true },
    base: { component: 'function-host' },
  }) as unknown as Logger;
  const env = localHostEnvironment();
  let config;
  let local;
  try {
    config = loadFunctionConfig(env);
    const parsed = localHostSettingsSchema.safeParse(env);
    if (!parsed.success) throw new Error(formatIssues(parsed.error).join('; '));
    local = loadLocalHostSettings(env);
  } catch (err) {
    const detail = err instanceof BridgeError ? (err.detail ?? err.message) : (err as Error).message;
    logger.error({ event: 'CONFIG_INVALID', problems: detail.split('; ') }, 'configuration is invalid');
    return 2;
  }
  const host = await startLocalFunctionHost(config, {
    host: values.host ?? local.host,
    port: values.port !== undefined ? Number(values.port) : local.port,
    ...(local.functionKey ? { functionKey: local.functionKey } : {}),
    queueTrigger: !values['no-queue'],
    logger,
    logHandler: (_level, ...args) => process.stdout.write(`${args.map(String).join(' ')}\n`),
  });
  process.stdout.write(
    `function host listening on ${host.url}/api (function key ${local.functionKey ? 'required' : 'not checked'})\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await host.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
