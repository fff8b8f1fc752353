import { parseArgs, type ParseArgsConfig } from 'node:util';

import { adminCall, AdminCliError, connectionFromEnv, type AdminConnection } from './admin-client';

/**
 * `npm run admin -- <tenant|site> <command> …`: the provider's CLI over the function's admin API
 * (docs/multi-tenant.md). Returns the exit code; writes to `out`. Secrets come from the environment only.
 */
type Out = (text: string) => void;

const ENV_HELP = `Environment:
  BRIDGE_ADMIN_URL        function app URL, e.g. https://bridge-func.azurewebsites.net
  BRIDGE_ADMIN_KEY        the admin key (Key Vault secret bridge-admin-key), or BRIDGE_ADMIN_KEY_FILE
  BRIDGE_FUNCTION_KEY     a function key of the app (the host checks it first), or BRIDGE_FUNCTION_KEY_FILE`;

const MAIN_HELP = `Usage: npm run admin -- <tenant|site> <command> [options]   (--help on each)

  tenant add <tenant-id> --name NAME [--model exchangeRbac|tenantWideConsent]
  tenant list | show <tenant-id> | remove <tenant-id> | consent-url <tenant-id>
  site add <site-id> --tenant ID --sender ADDR [--sender …] [--default-sender ADDR] [--rate-per-minute N]
  site list [--tenant ID] | show <site-id> | disable <site-id> | enable <site-id>
  site rotate-secret <site-id> [--overlap-hours 72]

Add --json to any command for the raw answer.

${ENV_HELP}`;

interface Command {
  usage: string;
  help: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments it needs. */
  args: number;
  run(conn: AdminConnection, args: string[], opts: Record<string, unknown>, out: Out): Promise<unknown>;
}

const COMMANDS: Record<string, Record<string, Command>> = {
  tenant: {
    add: {
      usage: 'tenant add <tenant-id> --name NAME [--model exchangeRbac|tenantWideConsent]',
      help: "Registers a customer tenant (its directory id, a GUID) and prints the admin-consent URL and the customer admin's steps for its permission model. Default model: the deployment's BRIDGE_MAIL_PERMISSION_MODEL, else exchangeRbac.",
      options: { name: { type: 'string' }, model: { type: 'string' } },
      args: 1,
      async run(conn, [tenantId], o, out) {
        if (typeof o.name !== 'string') throw new AdminCliError('--name is required');
        const res = await adminCall(conn, 'POST', 'tenants', {
          tenantId,
          displayName: o.name,
          ...(typeof o.model === 'string' ? { permissionModel: o.model } : {}),
        });
        const t = res.tenant as Record<string, string>;
        out(
          `Tenant ${t.tenantId} (${t.displayName}) added: model ${t.permissionModel}, consent ${t.consent}.\n`,
        );
        out(res.consentUrl ? `\nAdmin-consent URL (valid for a day):\n  ${String(res.consentUrl)}\n` : '');
        out(`\nThe customer admin's steps:\n${(res.steps as string[]).map((s) => `  ${s}`).join('\n')}\n`);
        return res;
      },
    },
    list: {
      usage: 'tenant list',
      help: 'Lists the registered tenants with their consent state and last token result.',
      args: 0,
      async run(conn, _a, _o, out) {
        const res = await adminCall(conn, 'GET', 'tenants');
        const rows = res.tenants as Array<
          Record<string, string> & { consent: string; permissionModel: string }
        >;
        if (rows.length === 0) out('No tenants registered.\n');
        for (const t of rows)
          out(
            `${t.tenantId}  ${t.consent.padEnd(8)}  ${t.permissionModel.padEnd(17)}  ${t.displayName}${t.lastTokenErrorCode ? `  (last token error ${t.lastTokenErrorCode} at ${t.lastTokenFailureAt})` : ''}\n`,
          );
        return res;
      },
    },
    show: {
      usage: 'tenant show <tenant-id>',
      help: "Shows a tenant: consent state (when, why), last token success/failure with its AADSTS code, its sites, and the figures per site (sent, queued, held, failed, last error). Also the customer admin's steps.",
      args: 1,
      async run(conn, [tenantId], _o, out) {
        const res = await adminCall(conn, 'GET', `tenants/${encodeURIComponent(tenantId as string)}`);
        const t = res.tenant as Record<string, string>;
        out(`Tenant ${t.tenantId} (${t.displayName})\n`);
        out(`  model            ${t.permissionModel}\n`);
        out(
          `  consent          ${t.consent} since ${t.consentChangedAt}${t.consentReason ? ` — ${t.consentReason}` : ''}\n`,
        );
        out(`  last token ok    ${t.lastTokenSuccessAt ?? 'never'}\n`);
        out(
          `  last token error ${t.lastTokenErrorCode ? `${t.lastTokenErrorCode} at ${t.lastTokenFailureAt}` : 'none'}\n`,
        );
        if (t.servicePrincipalObjectId)
          out(`  service principal ${t.servicePrincipalObjectId} (object id in this tenant)\n`);
        const figures = res.figures as { total: Figures; bySite: Record<string, Figures> };
        out(`  messages         ${figureLine(figures.total)}\n`);
        for (const [site, f] of Object.entries(figures.bySite)) out(`    site ${site}: ${figureLine(f)}\n`);
        out(`\nThe customer admin's steps:\n${(res.steps as string[]).map((s) => `  ${s}`).join('\n')}\n`);
        return res;
      },
    },
    remove: {
      usage: 'tenant remove <tenant-id>',
      help: 'Removes a tenant from the registry (refused while it has sites). Does not touch the customer tenant: its admin removes the enterprise application there.',
      args: 1,
      async run(conn, [tenantId], _o, out) {
        const res = await adminCall(conn, 'DELETE', `tenants/${encodeURIComponent(tenantId as string)}`);
        out(`Tenant ${tenantId} removed.\n`);
        return res;
      },
    },
    'consent-url': {
      usage: 'tenant consent-url <tenant-id>',
      help: 'Prints a fresh admin-consent URL for a registered tenant (after a decline, an expired link, or a revocation).',
      args: 1,
      async run(conn, [tenantId], _o, out) {
        const res = await adminCall(
          conn,
          'POST',
          `tenants/${encodeURIComponent(tenantId as string)}/consent-url`,
        );
        out(
          res.consentUrl
            ? `${String(res.consentUrl)}\n`
            : 'No consent URL: set BRIDGE_CONSENT_REDIRECT_URI.\n',
        );
        return res;
      },
    },
  },
  site: {
    add: {
      usage:
        'site add <site-id> --tenant ID --sender ADDR [--sender …] [--default-sender ADDR] [--rate-per-minute N]',
      help: "Registers a site (one edge listener) in a registered tenant and prints the edge's settings with its new secret — ONCE: it is not shown again (rotate-secret makes a new one). --sender takes a mailbox, *@domain or *.",
      options: {
        tenant: { type: 'string' },
        sender: { type: 'string', multiple: true },
        'default-sender': { type: 'string' },
        'rate-per-minute': { type: 'string' },
      },
      args: 1,
      async run(conn, [siteId], o, out) {
        if (typeof o.tenant !== 'string') throw new AdminCliError('--tenant is required');
        const senders = (o.sender as string[] | undefined) ?? [];
        if (senders.length === 0) throw new AdminCliError('at least one --sender is required');
        const res = await adminCall(conn, 'POST', 'sites', {
          siteId,
          tenantId: o.tenant,
          allowedSenders: senders,
          ...(typeof o['default-sender'] === 'string' ? { defaultSender: o['default-sender'] } : {}),
          ...(typeof o['rate-per-minute'] === 'string'
            ? { ratePerMinute: positiveInt(o['rate-per-minute']) }
            : {}),
        });
        out(`Site ${siteId} added to tenant ${String(o.tenant)}.\n\n`);
        out(edgeSnippet(res.edgeConfig as Record<string, string>));
        return res;
      },
    },
    list: {
      usage: 'site list [--tenant ID]',
      help: 'Lists the registered sites (never their secrets).',
      options: { tenant: { type: 'string' } },
      args: 0,
      async run(conn, _a, o, out) {
        const q = typeof o.tenant === 'string' ? `?tenant=${encodeURIComponent(o.tenant)}` : '';
        const res = await adminCall(conn, 'GET', `sites${q}`);
        const rows = res.sites as Array<Record<string, unknown>>;
        if (rows.length === 0) out('No sites registered.\n');
        for (const s of rows)
          out(
            `${String(s.siteId).padEnd(24)} ${String(s.tenantId)}  ${s.enabled ? 'enabled ' : 'DISABLED'}  ${(s.allowedSenders as string[]).join(', ')}\n`,
          );
        return res;
      },
    },
    show: {
      usage: 'site show <site-id>',
      help: 'Shows a site: tenant, senders, secret versions (and when an old one stops being valid), rate limit, and its message figures.',
      args: 1,
      async run(conn, [siteId], _o, out) {
        const res = await adminCall(conn, 'GET', `sites/${encodeURIComponent(siteId as string)}`);
        const s = res.site as Record<string, unknown>;
        out(
          `Site ${String(s.siteId)} (tenant ${String(s.tenantId)}) ${s.enabled ? 'enabled' : 'DISABLED'}\n`,
        );
        out(
          `  senders   ${(s.allowedSenders as string[]).join(', ')}${s.defaultSender ? `; default ${String(s.defaultSender)}` : ''}\n`,
        );
        out(`  rate      ${s.ratePerMinute ? `${String(s.ratePerMinute)} a minute` : 'no per-site limit'}\n`);
        for (const v of s.secrets as Array<Record<string, string>>)
          out(
            `  secret v${v.version} from ${v.createdAt}${v.validUntil ? `, valid until ${v.validUntil}` : ' (current)'}\n`,
          );
        out(`  messages  ${figureLine(res.figures as Figures)}\n`);
        return res;
      },
    },
    disable: siteSwitch('disable'),
    enable: siteSwitch('enable'),
    'rotate-secret': {
      usage: 'site rotate-secret <site-id> [--overlap-hours 72]',
      help: "Makes a new secret and prints the edge's settings with it (once). The old secret stays valid for the overlap (default 72 hours, at most 720), so the edge can switch without losing a message.",
      options: { 'overlap-hours': { type: 'string' } },
      args: 1,
      async run(conn, [siteId], o, out) {
        const overlap = typeof o['overlap-hours'] === 'string' ? Number(o['overlap-hours']) : undefined;
        if (overlap !== undefined && !(overlap >= 0))
          throw new AdminCliError('--overlap-hours: a number of hours');
        const res = await adminCall(
          conn,
          'POST',
          `sites/${encodeURIComponent(siteId as string)}/rotate-secret`,
          overlap !== undefined ? { overlapHours: overlap } : {},
        );
        out(
          `New secret for ${siteId}; the previous one stays valid until ${String(res.previousValidUntil)}.\n\n`,
        );
        out(edgeSnippet(res.edgeConfig as Record<string, string>));
        return res;
      },
    },
  },
};

function siteSwitch(action: 'disable' | 'enable'): Command {
  return {
    usage: `site ${action} <site-id>`,
    help:
      action === 'disable'
        ? 'Disables a site: the function refuses its new messages with SITE_DISABLED (retryable: the edge keeps them). Messages already accepted are still delivered.'
        : 'Enables a disabled site again.',
    args: 1,
    async run(conn, [siteId], _o, out) {
      const res = await adminCall(conn, 'POST', `sites/${encodeURIComponent(siteId as string)}/${action}`);
      out(`Site ${siteId} ${action}d.\n`);
      return res;
    },
  };
}

interface Figures {
  sent: number;
  queued: number;
  held: number;
  failed: number;
  received: number;
  lastError?: { code: string; at: string };
}

function figureLine(f: Figures): string {
  const last = f.lastError ? `; last error ${f.lastError.code} at ${f.lastError.at}` : '';
  return `sent ${f.sent}, queued ${f.queued}, held ${f.held}, failed ${f.failed}, in progress ${f.received}${last}`;
}

function edgeSnippet(cfg: Record<string, string>): string {
  return [
    'Edge listener settings (shown once; keep the secret in the environment or BRIDGE_SITE_SECRET_FILE, never in a config file):',
    '',
    ...Object.entries(cfg).map(([k, v]) => `${k}=${v}`),
    'BRIDGE_FUNCTION_KEY=<a function key of the app>',
    '',
  ].join('\n');
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new AdminCliError(`not a positive whole number: ${v}`);
  return n;
}

export async function runAdminCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Out,
  err: Out = out,
): Promise<number> {
  const [group, name, ...rest] = argv;
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    out(`${MAIN_HELP}\n`);
    return group ? 0 : 2;
  }
  const commands = COMMANDS[group];
  if (!commands) {
    err(`unknown command group "${group}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  const command = name ? commands[name] : undefined;
  if (!command) {
    if (name === '--help' || name === '-h') {
      out(
        `${Object.values(commands)
          .map((c) => `  ${c.usage}`)
          .join('\n')}\n`,
      );
      return 0;
    }
    err(`unknown command "${group} ${name ?? ''}"; one of: ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    err(`${(e as Error).message}\nUsage: npm run admin -- ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    out(`Usage: npm run admin -- ${command.usage}\n\n${command.help}\n\n${ENV_HELP}\n`);
    return 0;
  }
  if (parsed.positionals.length !== command.args) {
    err(`Usage: npm run admin -- ${command.usage}\n`);
    return 2;
  }
  try {
    const conn = connectionFromEnv(env);
    const json = parsed.values.json === true;
    const res = await command.run(conn, parsed.positionals, parsed.values, json ? () => undefined : out);
    if (json) out(`${JSON.stringify(res, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof AdminCliError) {
      err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
