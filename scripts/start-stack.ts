import { parseArgs } from 'node:util';

import { readyBanner } from './stack/banner';
import { atLeast, formatLogLine, type Level } from './stack/log-lines';
import { type RunningStack, startStack, type StackUi } from './stack/stack';
import { loadStackSettings, stackEnvironment } from './stack/stack-config';

const HELP = `npm start — the whole smtp-graph-bridge on this machine

Runs Azurite (storage emulator), the local function host (HTTP routes and queue trigger) and the edge
listener (SMTP, spool, status page), wired together with local secrets generated on the first start.

Without Microsoft 365 credentials it runs in SANDBOX MODE: a built-in Graph look-alike keeps every message
it would have sent (Graph request, .eml, attachments) and the status page shows them. With credentials it
sends for real.

Usage: npm start [-- options]

Options:
  --quiet       show only warnings and errors of the processes (default: everything from info up)
  --verbose     show debug lines too
  --help        this text

Environment (all optional):
  BRIDGE_DATA_DIR            where everything is kept (default ./.data): spool, azurite/, graph-sandbox/,
                             secrets/ (0600 files), logs/
  BRIDGE_SMTP_PORT           SMTP port (default 2525; 0 = any free port); BRIDGE_SMTP_HOST (default 127.0.0.1;
                             a copier: 0.0.0.0 plus BRIDGE_ALLOWED_CLIENTS=<its address>)
  BRIDGE_HTTP_PORT           status page port (default 8025); BRIDGE_HTTP_HOST (default 127.0.0.1)
  BRIDGE_LOCAL_FUNCTION_PORT, BRIDGE_SANDBOX_PORT   internal ports (default: any free port)
  AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)
                             your app registration: LIVE MODE, mail goes out through Microsoft Graph
  BRIDGE_ALLOWED_SENDERS, BRIDGE_DEFAULT_SENDER
                             sender policy (sandbox default: BRIDGE_ALLOWED_SENDERS=*, any sender)
  Every other setting of the edge listener and the function (docs/config-*.md) passes through.

Ctrl-C stops everything; messages still in the spool are sent on the next start.`;

async function main(argv: string[]): Promise<number> {
  let values: { help?: boolean; quiet?: boolean; verbose?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nRun \`npm start -- --help\` for the options.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const loaded = loadStackSettings(stackEnvironment(), process.cwd());
  if ('issues' in loaded) {
    process.stderr.write(`Cannot start:\n${loaded.issues.map((i) => `  - ${i}`).join('\n')}\n`);
    return 2;
  }
  const { settings } = loaded;
  const minLevel: Level = values.quiet ? 'warn' : values.verbose ? 'debug' : 'info';
  const out = (text: string) => process.stdout.write(`${text}\n`);
  let starting = true;
  const ui: StackUi = {
    async step(label, work) {
      const started = Date.now();
      out(`  … ${label}`);
      try {
        const result = await work();
        out(`  ✓ ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        return result;
      } catch (e) {
        out(`  ✗ ${label}`);
        throw e;
      }
    },
    childLine(name, line) {
      const formatted = formatLogLine(name, line);
      // While starting, only problems: the progress lines tell the story.
      if (atLeast(formatted.level, starting ? 'warn' : minLevel)) out(formatted.text);
    },
  };

  out(
    `smtp-graph-bridge — starting the local stack in ${settings.mode === 'sandbox' ? 'SANDBOX' : 'LIVE'} mode (data in ${settings.dataDir})`,
  );
  let stack: RunningStack;
  let interrupted = false;
  const earlyInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', earlyInterrupt);
  process.once('SIGTERM', earlyInterrupt);
  try {
    stack = await startStack(settings, ui);
  } catch (e) {
    process.stderr.write(`\n✗ ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', earlyInterrupt);
    process.off('SIGTERM', earlyInterrupt);
  }
  starting = false;
  if (!interrupted) out(readyBanner(stack.info, process.cwd()));

  const reason = interrupted
    ? 'signal'
    : await new Promise<string>((resolve) => {
        let signals = 0;
        const onSignal = () => {
          signals++;
          if (signals === 1) resolve('signal');
          else {
            out('Second interrupt: killing every process now (the spool is durable either way).');
            stack.kill();
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        void stack.unexpectedExit.then((exit) =>
          resolve(
            `${exit.name} exited on its own (${exit.signal ?? `code ${exit.code}`}); see ${stack.info.logDir}/${exit.name}.log`,
          ),
        );
      });
  out(
    reason === 'signal'
      ? '\nStopping (edge listener, function host, sandbox, Azurite)…'
      : `\n✗ ${reason}. Stopping the rest…`,
  );
  await stack.stop();
  out('Stopped. Messages still in the spool are sent on the next start.');
  return reason === 'signal' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
