import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

import type { EdgeConfig } from '../../config';
import { parseArgs, UsageError } from '../args';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, loadFullConfig } from '../config';
import { sizeText } from '../format';

const HELP = `Usage: config check [--config FILE] [--json]

Validates the listener's settings exactly as \`start\` would (environment over config file, secrets from
the environment or *_FILE files) and lists EVERY problem at once; then checks what the settings point at
(data directory writable, ports distinct). Secrets are never printed: they show as "set".
Exit code 0 when the configuration is usable, 1 when there are problems.

Options:
${CONFIG_OPTION_HELP}
  --json             {"ok":…, "problems":[…]} instead of text
  --help             this help
`;

export const configCommand: Command = {
  name: 'config',
  summary: 'config check: list every problem in the settings',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { flags: ['json'], values: ['config'] });
    const [sub, extra] = args.positionals;
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    if (sub !== 'check' || extra !== undefined) throw new UsageError('the config command is `config check`');
    const loaded = loadFullConfig(cliContext(args.values.get('config')));
    const problems = 'issues' in loaded ? [...loaded.issues] : environmentProblems(loaded.config);
    if (args.flags.has('json')) {
      out(JSON.stringify({ ok: problems.length === 0, problems }, null, 2) + '\n');
    } else if (problems.length > 0) {
      err(
        `Configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
    } else if ('config' in loaded) {
      out(`Configuration OK.\n${summary(loaded.config)}`);
    }
    return problems.length === 0 ? 0 : 1;
  },
};

/** Checks of the machine the settings describe; only run once the settings themselves are valid. */
function environmentProblems(c: EdgeConfig): string[] {
  const problems: string[] = [];
  const dir = existsSync(c.dataDir) ? c.dataDir : nearestExisting(c.dataDir);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    problems.push(
      `BRIDGE_DATA_DIR: ${c.dataDir} is not writable by this user (${dir === c.dataDir ? 'directory' : `parent ${dir}`})`,
    );
  }
  const ports = [
    ['BRIDGE_SMTP_PORT', c.smtp.port],
    ['BRIDGE_SMTPS_PORT', c.smtp.smtpsPort],
    ['BRIDGE_HTTP_PORT', c.http.port],
  ] as const;
  for (const [name, port] of ports) {
    if (port === undefined || port === 0) continue;
    const clash = ports.find(([other, p]) => other !== name && p === port && other < name);
    if (clash) problems.push(`${name}: ${port} is also ${clash[0]}`);
  }
  return problems;
}

function nearestExisting(path: string): string {
  let cur = dirname(path);
  while (!existsSync(cur) && dirname(cur) !== cur) cur = dirname(cur);
  return cur;
}

function summary(c: EdgeConfig): string {
  const tls = c.tls.certFile
    ? `certificate ${c.tls.certFile}`
    : `self-signed (generated in ${c.dataDir}/tls)`;
  const rows: Array<[string, string]> = [
    ['site / instance', `${c.siteId} / ${c.instanceId}`],
    [
      'function',
      `${c.forward.url}  (site secret: set, function key: ${c.forward.functionKey ? 'set' : 'not set'})`,
    ],
    [
      'smtp',
      `${c.smtp.host}:${c.smtp.port}${c.smtp.starttls ? ' with STARTTLS' : ' plain only'}${c.smtp.smtpsPort !== undefined ? `, implicit TLS on ${c.smtp.smtpsPort}` : ''}`,
    ],
    ['tls', `${tls}${c.tls.legacy ? ', LEGACY TLS 1.0/1.1 allowed' : ', TLS 1.2+'}`],
    [
      'auth',
      c.auth.users.length === 0
        ? 'not offered'
        : `${c.auth.users.length} user(s), ${c.auth.required ? 'required' : 'optional'}${c.auth.allowPlaintext ? ', allowed without TLS' : ''}`,
    ],
    ['allowed clients', c.smtp.allowedClients.join(', ')],
    ['max message', sizeText(c.smtp.maxMessageBytes)],
    ['data dir', c.dataDir],
    ['http', `${c.http.host}:${c.http.port} (/healthz, /metrics)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}
