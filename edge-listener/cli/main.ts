import { toBridgeError } from '../../core/errors';
import { edgeSettingsSchema } from '../config';
import { UsageError } from './args';
import { doctorCommand } from '../doctor/doctor-command';
import { type Command, err, out } from './command';
import { configCommand } from './commands/config-check';
import { hashPasswordCommand } from './commands/hash-password';
import { healthCommand } from './commands/health';
import { queueCommand } from './commands/queue';
import { sendTestCommand } from './commands/send-test';
import { startCommand } from './commands/start';

/**
 * smtp-graph-bridge-edge: the edge listener's one entry point — `npm run edge -- <command>` from a
 * checkout, `node edge-listener.cjs <command>` from the single-file build, the service's ExecStart.
 * Exit codes: 0 ok, 1 a problem (see the message), 2 wrong usage.
 */
const COMMANDS: Command[] = [
  startCommand,
  queueCommand,
  sendTestCommand,
  configCommand,
  healthCommand,
  doctorCommand,
  hashPasswordCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `smtp-graph-bridge edge listener

Usage: smtp-graph-bridge-edge <command> [options]
       smtp-graph-bridge-edge <command> --help
       smtp-graph-bridge-edge settings     list every setting with its meaning

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Settings come from the environment (BRIDGE_*) and an optional JSON file (--config FILE or
$BRIDGE_CONFIG_FILE); the environment wins. Reference: docs/config-edge.md.
`;
}

function settingsText(): string {
  return Object.entries(edgeSettingsSchema.shape)
    .map(([name, field]) => `${name}\n    ${field.description ?? ''}\n`)
    .join('');
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'settings') {
    out(settingsText());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    err(`unknown command ${name}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${command.name}: ${e.message}\n(see: smtp-graph-bridge-edge ${command.name} --help)\n`);
      return 2;
    }
    const error = toBridgeError(e);
    err(
      `${command.name} failed: ${error.code} ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`,
    );
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // `start` resolves only when stopped; its handles are closed, but a stray timer must not keep us up.
      if (process.argv[2] === 'start') setImmediate(() => process.exit(code));
    },
    (e: unknown) => {
      err(`${String((e as Error).stack ?? e)}\n`);
      process.exit(1);
    },
  );
}
