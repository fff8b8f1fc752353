import { toBridgeError } from '../core/errors';
import { edgeSettingsSchema, loadEdgeConfigFromProcess } from './config';
import { startEdgeListener } from './edge';
import { runUntilSignal } from './run-until-signal';
import { createEdgeLogger } from './logger';

/**
 * The edge listener as a process: `tsx edge-listener/main.ts [--config FILE]` (or the built
 * `node dist/edge-listener/main.js`). Configuration comes from the environment and the optional JSON file
 * (the environment wins). SIGTERM/SIGINT stop it gracefully; a second signal exits at once — the spool is
 * durable either way. Exit codes: 0 stopped, 1 crashed, 2 configuration invalid.
 */
const USAGE = `smtp-graph-bridge edge listener

Usage: edge-listener [--config FILE] [--help]

  --config FILE   JSON file with settings (same names as the environment variables);
                  default: $BRIDGE_CONFIG_FILE. The environment wins over the file.
  --help          show this help and every setting

Settings:
`;

function helpText(): string {
  const rows = Object.entries(edgeSettingsSchema.shape).map(
    ([name, field]) => `  ${name}\n      ${field.description ?? ''}`,
  );
  return USAGE + rows.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return 0;
  }
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (i >= 0 && !file) {
    process.stderr.write('--config needs a file name\n');
    return 2;
  }
  const loaded = loadEdgeConfigFromProcess(file);
  if ('issues' in loaded) {
    process.stderr.write(
      `Configuration invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'}):\n${loaded.issues.map((s) => `  - ${s}`).join('\n')}\n`,
    );
    return 2;
  }
  const { config } = loaded;
  const logger = createEdgeLogger(config.log.level, { site: config.siteId, instance: config.instanceId });
  const listener = await startEdgeListener(config, { logger });

  return runUntilSignal(listener, logger);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const err = toBridgeError(e);
      process.stderr.write(
        `edge listener failed to start: ${err.code} ${err.message}${err.detail ? '' : ` (${(e as Error).message ?? e})`}\n`,
      );
      process.exit(1);
    },
  );
}
