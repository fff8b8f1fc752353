import { parseArgs } from 'node:util';

import { parseBytes } from '../../core/config/define';
import { parseExchangeRbacFlag } from './exchange-rbac';
import type { SandboxOptions } from './options';

/**
 * The sandbox CLI's flags → startGraphSandbox options (kept apart from main.ts so they can be tested without
 * starting a process). TLS and the logger are main.ts's business.
 */

export const HELP = `graph-sandbox — a Microsoft Graph + Entra ID look-alike that keeps every message instead of sending it

Usage: npx tsx dev/graph-sandbox/main.ts [options]

Options:
  --port <n>               https port (default 8443; 0 = any free port)
  --host <addr>            address to listen on (default 127.0.0.1)
  --data-dir <dir>         where kept messages go, one folder each (default .data/graph-sandbox)
  --cert <pem> --key <pem> TLS certificate and key (default: a self-signed one in <data-dir>/tls)
  --mailbox <address>      a mailbox that exists (repeatable; default: every address exists)
  --max-message-bytes <n>  mailbox message size limit, e.g. 35MB or 150MB (default 35 MiB)
  --roles <list|none>      application permissions in issued tokens (Entra admin consent, tenant-wide),
                           comma-separated (default Mail.Send,Mail.ReadWrite,User.Read.All)
  --exchange-rbac <grant>  an Exchange RBAC for Applications assignment (repeatable):
                           CLIENT_ID=MAILBOX[,MAILBOX…][:ROLE[,ROLE]] with ROLE Mail.Send, Mail.ReadWrite or
                           Mail.ReadBasic; MAILBOX may be *@domain or *, CLIENT_ID may be * (any app);
                           without :ROLE all three roles are assigned
  --sent-items-lag <ms>    delay before a sent message shows in Sent Items look-ups (default 0)
  --mailbox-per-minute <n> Exchange's message rate: more than n messages from one mailbox in 60 s get
                           429 with Retry-After (Exchange: 30; default not enforced)
  --help                   this text

The default deployment (exchangeRbac) has no Mail.* role in the token, only Exchange grants:
  --roles User.Read.All --exchange-rbac '*=scanner@contoso.com'

Point the bridge at it (both are the same https server):
  BRIDGE_GRAPH_ENDPOINT=<url>  AZURE_AUTHORITY_HOST=<url>  NODE_EXTRA_CA_CERTS=<cert.pem>
Kept messages: <data-dir>/<time>-<id>/{summary.json,request.json,message.eml,attachments/}
and https://<host>:<port>/_sandbox/messages`;

export type SandboxCliOptions = Omit<SandboxOptions, 'cert' | 'key' | 'logger' | 'dataDir'>;

export type SandboxCli =
  { help: true } | { help: false; dataDir: string; cert?: string; key?: string; options: SandboxCliOptions };

export function parseSandboxCli(argv: string[]): SandboxCli {
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
      roles: { type: 'string' },
      'exchange-rbac': { type: 'string', multiple: true },
      'sent-items-lag': { type: 'string' },
      'mailbox-per-minute': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: true };
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new Error('--cert and --key go together');
  const options: SandboxCliOptions = { port: Number(values.port), host: values.host };
  if (values.mailbox) options.mailboxes = values.mailbox;
  if (values['max-message-bytes']) options.maxMessageBytes = parseBytes(values['max-message-bytes']);
  if (values.roles !== undefined) {
    const roles = values.roles.trim().toLowerCase() === 'none' ? '' : values.roles;
    options.roles = roles
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
  }
  if (values['sent-items-lag'] !== undefined) {
    const lag = Number(values['sent-items-lag']);
    if (!Number.isInteger(lag) || lag < 0) throw new Error('--sent-items-lag: milliseconds, 0 or more');
    options.sentItemsLagMs = lag;
  }
  if (values['mailbox-per-minute'] !== undefined) {
    const n = Number(values['mailbox-per-minute']);
    if (!Number.isInteger(n) || n < 1) throw new Error('--mailbox-per-minute: a whole number, 1 or more');
    options.mailboxPerMinute = n;
  }
  if (values['exchange-rbac']) options.exchangeRbac = values['exchange-rbac'].map(parseExchangeRbacFlag);
  return {
    help: false,
    dataDir: values['data-dir'],
    ...(values.cert !== undefined ? { cert: values.cert } : {}),
    ...(values.key !== undefined ? { key: values.key } : {}),
    options,
  };
}
