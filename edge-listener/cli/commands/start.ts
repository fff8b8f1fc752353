import { toBridgeError } from '../../../core/errors';
import { startEdgeListener } from '../../edge';
import { runUntilSignal } from '../../run-until-signal';
import { createEdgeLogger } from '../../logger';
import { parseArgs, UsageError } from '../args';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, loadFullConfig } from '../config';

const HELP = `Usage: start [--config FILE]

Runs the edge listener in the foreground: SMTP on BRIDGE_SMTP_PORT (and BRIDGE_SMTPS_PORT), /healthz,
/metrics and the admin API on BRIDGE_HTTP_PORT. JSON log lines go to stdout. SIGTERM or SIGINT (Ctrl+C,
also what a Windows service wrapper sends) stop it gracefully: no new connections, sessions and POSTs in
flight finish within BRIDGE_SHUTDOWN_TIMEOUT_MS; a second signal exits at once. Nothing is lost either way:
the spool on disk keeps every message that got a 250.
Exit codes: 0 stopped, 1 crashed or failed to start, 2 configuration invalid (run \`config check\`).

Options:
${CONFIG_OPTION_HELP}
  --help             this help
`;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the listener (SMTP, spool, forwarder, /healthz, /metrics)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { values: ['config'] });
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const loaded = loadFullConfig(cliContext(args.values.get('config')));
    if ('issues' in loaded) {
      err(
        `Configuration invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'}):\n${loaded.issues.map((s) => `  - ${s}`).join('\n')}\n`,
      );
      return 2;
    }
    const { config } = loaded;
    const logger = createEdgeLogger(config.log.level, { site: config.siteId, instance: config.instanceId });
    let listener;
    try {
      listener = await startEdgeListener(config, { logger });
    } catch (e) {
      const error = toBridgeError(e);
      logger.error({ event: 'HOST_STOPPED', err: error }, 'edge listener failed to start');
      err(`edge listener failed to start: ${error.code} ${error.message}\n`);
      return 1;
    }
    return runUntilSignal(listener, logger);
  },
};
