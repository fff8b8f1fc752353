import { intValue, parseArgs, UsageError } from '../cli/args';
import { type Command, CONFIG_OPTION_HELP, out } from '../cli/command';
import { type CliContext, cliContext, envValue, loadFullConfig, resolveDataDir } from '../cli/config';
import type { DoctorOptions } from './doctor-options';
import { localStackContext } from './local-stack';
import { renderReport } from './render-report';
import { runDoctor } from './run-doctor';

const HELP = `Usage: doctor [--send-to ADDRESS [--from SENDER]] [--json] [options]

Walks every hop a message takes and prints ✓ or ✗ with the fix for each:
  configuration · SMTP port(s) listening · TLS certificate of the listener (dates, expiry) ·
  function URL: DNS, TLS, answers · the function key and this site's signature ·
  the function's storage · a Microsoft Graph token and its permissions (Mail.Send; Mail.ReadWrite
  for large messages) · each sender mailbox of the site (exists, licensed, in scope, may be sent as) ·
  optionally a real test message through the listener to ADDRESS.
Nothing is sent unless --send-to is given. Exit code: 0 healthy, 1 a check failed, 2 usage error.
Settings come from the environment and --config FILE, like the listener's; with neither a function URL
nor a config file, doctor checks the \`npm start\` stack running on BRIDGE_DATA_DIR (./.data).

Options:
  --send-to ADDRESS  also send a test message to ADDRESS (SMTP → listener → function → Graph) and
                     wait until Microsoft Graph accepted it
  --from SENDER      sender of the test message, and one more mailbox to check;
                     default: the site's default sender
  --user NAME        SMTP AUTH user for the test message (when the listener requires AUTH)
  --password-env VAR environment variable holding that user's password (never on the command
                     line); default BRIDGE_TEST_SMTP_PASSWORD
  --timeout SEC      budget of each network step (default 10)
  --test-timeout SEC how long to follow the test message (default 60)
  --cert-min-days N  a listener certificate expiring within N days fails (default 14)
${CONFIG_OPTION_HELP}
  --json             machine-readable report: {healthy, counts, checks: [{id, title, status, summary, fix, details}]}
  --help             this help
`;

const OPTIONS = {
  flags: ['json'],
  values: ['send-to', 'from', 'user', 'password-env', 'timeout', 'test-timeout', 'cert-min-days', 'config'],
} as const;

const ADDRESS = /^[^@\s<>]+@[^@\s<>]+$/;

export interface DoctorCommandDeps {
  write(text: string): void;
  /** The environment and config file to read (default: the process's, via cli/config.ts). */
  context(configFile: string | undefined): CliContext;
}

/** Parses the arguments, runs the checks, prints the report; resolves with the exit code. */
export async function runDoctorCommand(argv: string[], deps: DoctorCommandDeps): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.flags.has('help')) {
    deps.write(HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
  const ctx = deps.context(args.values.get('config'));
  const options: DoctorOptions = {
    timeoutMs: (intValue(args, 'timeout', 1, 600) ?? 10) * 1000,
    testTimeoutMs: (intValue(args, 'test-timeout', 1, 3600) ?? 60) * 1000,
    certMinDays: intValue(args, 'cert-min-days', 0, 3650) ?? 14,
  };
  const sendTo = address(args.values.get('send-to'), 'send-to');
  const from = address(args.values.get('from'), 'from');
  if (sendTo) options.sendTo = sendTo;
  if (from) options.from = from;
  const user = args.values.get('user');
  if (user !== undefined) {
    // As with send-test: the password never appears on the command line.
    const passwordVar = args.values.get('password-env') ?? 'BRIDGE_TEST_SMTP_PASSWORD';
    const password = envValue(ctx, passwordVar);
    if (password === undefined)
      throw new UsageError(`--user needs the password in the environment variable ${passwordVar}`);
    options.auth = { user, password };
  }
  // Next to `npm start` and without settings of its own, doctor checks the running local stack.
  const stack = localStackContext(ctx, resolveDataDir(ctx, undefined));
  const report = await runDoctor(loadFullConfig(stack?.ctx ?? ctx), options);
  if (stack) report.configSource = stack.source;
  deps.write(args.flags.has('json') ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.healthy ? 0 : 1;
}

function address(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!ADDRESS.test(value)) throw new UsageError(`--${name} must be an e-mail address (user@domain)`);
  return value;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check every hop from the SMTP port to Microsoft Graph and say how to fix what fails',
  help: HELP,
  run: (argv) => runDoctorCommand(argv, { write: out, context: cliContext }),
};
