import { hostname } from 'node:os';

import { intValue, parseArgs, UsageError } from '../args';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, envValue, loadFullConfig } from '../config';

const HELP = `Usage: send-test --to ADDRESS [options]

Sends one test message through the listener with a real SMTP client (nodemailer), the way a copier would,
and prints the listener's reply: "250 … sent as <id>" (the function sent it), "250 … queued as <id>"
(kept in the spool; see \`queue show <id>\`), or the refusal with its error code. Exit code 0 on 2xx.

Options:
  --to ADDRESS[,ADDRESS]  recipient(s) (required)
  --from ADDRESS     envelope and header sender; default scan-test@<host name>
  --host HOST        listener address; default from BRIDGE_SMTP_HOST (0.0.0.0 → 127.0.0.1)
  --port PORT        default BRIDGE_SMTP_PORT (or BRIDGE_SMTPS_PORT with --tls implicit)
  --tls MODE         starttls (default: use it when offered), required (fail without it),
                     implicit (SMTPS) or none
  --verify-tls       check the listener's certificate (off by default: self-signed is common)
  --user NAME        SMTP AUTH user
  --password-env VAR environment variable holding the AUTH password (never on the command line);
                     default BRIDGE_TEST_SMTP_PASSWORD
  --subject TEXT     default "smtp-graph-bridge test from <host name>"
  --attach-bytes N   add an attachment of N bytes (checks large-message handling)
${CONFIG_OPTION_HELP}
  --help             this help
`;

const TLS_MODES = ['starttls', 'required', 'implicit', 'none'] as const;
type TlsMode = (typeof TLS_MODES)[number];

export const sendTestCommand: Command = {
  name: 'send-test',
  summary: 'send a test message through the listener and show its reply',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, {
      flags: ['verify-tls'],
      values: [
        'to',
        'from',
        'host',
        'port',
        'tls',
        'user',
        'password-env',
        'subject',
        'attach-bytes',
        'config',
      ],
    });
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const to = args.values.get('to');
    if (!to) throw new UsageError('--to is required');
    const tls = (args.values.get('tls') ?? 'starttls') as TlsMode;
    if (!TLS_MODES.includes(tls)) throw new UsageError(`--tls must be one of ${TLS_MODES.join(', ')}`);
    const ctx = cliContext(args.values.get('config'));
    const target = resolveTarget(args.values.get('host'), intValue(args, 'port', 1, 65535), tls, ctx);
    if ('problem' in target) {
      err(`${target.problem}\n`);
      return 1;
    }
    const user = args.values.get('user');
    const passwordVar = args.values.get('password-env') ?? 'BRIDGE_TEST_SMTP_PASSWORD';
    const password = envValue(ctx, passwordVar);
    if (user && password === undefined)
      throw new UsageError(`--user needs the password in the environment variable ${passwordVar}`);
    const attachBytes = intValue(args, 'attach-bytes', 1, 200 * 1024 * 1024);

    // Loaded here, not at the top: the service process (`start`) never sends mail (docs/design/edge-memory.md).
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: tls === 'implicit',
      ignoreTLS: tls === 'none',
      requireTLS: tls === 'required',
      tls: { rejectUnauthorized: args.flags.has('verify-tls') },
      ...(user ? { auth: { user, pass: password ?? '' } } : {}),
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 120_000,
    });
    const sentAt = new Date().toISOString();
    try {
      const info = await transport.sendMail({
        from: args.values.get('from') ?? `scan-test@${hostname().toLowerCase()}`,
        to,
        subject: args.values.get('subject') ?? `smtp-graph-bridge test from ${hostname()}`,
        text: `Test message sent by smtp-graph-bridge-edge send-test at ${sentAt}.\r\nIf you can read this, the copier-to-Microsoft-365 path works.\r\n`,
        attachments: attachBytes
          ? [
              {
                filename: 'test-attachment.bin',
                content: Buffer.alloc(attachBytes, 0x5a),
                contentType: 'application/octet-stream',
              },
            ]
          : [],
      });
      const id = /(?:sent|queued) as (\S+)/.exec(info.response)?.[1];
      out(`${info.response}\n${id ? `spool id: ${id}\n` : ''}`);
      return 0;
    } catch (e) {
      const smtp = e as { responseCode?: number; response?: string; code?: string; message?: string };
      err(`send failed: ${smtp.response ?? `${smtp.code ?? ''} ${smtp.message ?? String(e)}`.trim()}\n`);
      return 1;
    } finally {
      transport.close();
    }
  },
};

function resolveTarget(
  host: string | undefined,
  port: number | undefined,
  tls: TlsMode,
  ctx: ReturnType<typeof cliContext>,
): { host: string; port: number } | { problem: string } {
  if (host && port) return { host, port };
  const loaded = loadFullConfig(ctx);
  if ('issues' in loaded)
    return { problem: 'Configuration invalid; give --host and --port, or run `config check`.' };
  const smtp = loaded.config.smtp;
  const bind = smtp.host === '0.0.0.0' ? '127.0.0.1' : smtp.host === '::' ? '::1' : smtp.host;
  if (tls === 'implicit' && port === undefined && smtp.smtpsPort === undefined)
    return { problem: '--tls implicit needs --port or BRIDGE_SMTPS_PORT' };
  return { host: host ?? bind, port: port ?? (tls === 'implicit' ? smtp.smtpsPort! : smtp.port) };
}
