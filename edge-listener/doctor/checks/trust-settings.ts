import { BlockList, isIP } from 'node:net';

import type { DiagnosticsReport } from '../../../core/diagnostics';
import type { EdgeConfig } from '../../config';
import { isLoopbackBind, PRIVATE_RANGES } from '../../smtp/client-allow-list';
import { readProxySeen } from '../../status-page/proxy-seen';
import { type CheckResult, pass, warn } from '../check-result';

/**
 * Configurations that work but trust too much (docs/security-model.md): they do not make the bridge unhealthy,
 * so they are warnings with the fix.
 */
export function trustChecks(config: EdgeConfig, diagnostics?: DiagnosticsReport): CheckResult[] {
  const out = [intakeCheck(config), adminProxyCheck(config)];
  if (diagnostics) out.push(sitePolicyCheck(config, diagnostics));
  return out;
}

/** Listening on the network while a whole private range may connect: guest Wi-Fi, VPN pools, any PC. */
function intakeCheck(config: EdgeConfig): CheckResult {
  const id = 'smtp-client-trust';
  const title = 'Who may hand in mail (BRIDGE_ALLOWED_CLIENTS)';
  const wide = config.smtp.allowedClients.filter(coversPrivateRange);
  if (!isLoopbackBind(config.smtp.host) && wide.length > 0)
    return warn(
      id,
      title,
      `The listener is reachable from the network (BRIDGE_SMTP_HOST=${config.smtp.host}) and lets in whole private ranges: ${wide.join(', ')}. Every guest Wi-Fi, VPN pool or compromised PC in them may submit mail.`,
      'List only the devices: their addresses or their own subnet (BRIDGE_ALLOWED_CLIENTS=192.168.10.0/24), and bind each to its senders (BRIDGE_SENDER_BINDINGS) or require AUTH.',
      { host: config.smtp.host, wideRanges: wide },
    );
  return pass(id, title, `Clients allowed: ${config.smtp.allowedClients.join(', ')}.`);
}

/** Address trust on while a proxy has been seen in front of the status page. */
function adminProxyCheck(config: EdgeConfig): CheckResult {
  const id = 'admin-address-trust';
  const title = 'Status page trust behind a proxy (BRIDGE_ADMIN_LOOPBACK_TRUST)';
  const seen = config.statusPage.loopbackTrust ? readProxySeen(config.dataDir) : undefined;
  if (seen)
    return warn(
      id,
      title,
      `The status page was reached through a proxy (${seen.header} header, ${seen.at}) while a browser on this machine is trusted without the token. If that proxy ever sends no forwarding header, its visitors are trusted as this machine.`,
      'Set BRIDGE_ADMIN_LOOPBACK_TRUST=false and give admins the token (BRIDGE_ADMIN_TOKEN_FILE); docs/edge-install.md, "Behind a reverse proxy".',
      { header: seen.header, at: seen.at },
    );
  return pass(
    id,
    title,
    config.statusPage.loopbackTrust
      ? 'No proxy seen in front of the status page; a direct browser on this machine needs no token.'
      : 'Address trust is off: the status page needs the admin token.',
  );
}

/** A site policy of `*`, or any wildcard without device bindings: any device may claim any mailbox. */
function sitePolicyCheck(config: EdgeConfig, diagnostics: DiagnosticsReport): CheckResult {
  const id = 'site-sender-policy';
  const title = "The site's sender policy (function: BRIDGE_ALLOWED_SENDERS)";
  const senders = diagnostics.policy.allowedSenders;
  if (senders.includes('*'))
    return warn(
      id,
      title,
      "The site's sender policy is * (any sender): every device of this site may send as any mailbox the app registration can reach.",
      "List the mailboxes the site uses in the function (BRIDGE_ALLOWED_SENDERS or the site's allowedSenders) and bind devices to theirs (BRIDGE_SENDER_BINDINGS).",
      { allowedSenders: senders },
    );
  const wildcards = senders.filter((s) => s.startsWith('*@'));
  if (wildcards.length > 0 && config.smtp.senderBindings.length === 0)
    return warn(
      id,
      title,
      `The site may send as anyone at ${wildcards.map((w) => w.slice(2)).join(', ')}, and no device is bound to its senders: any allowed device may claim any of those mailboxes (the CEO's included).`,
      'Bind each device (AUTH user or address) to the From addresses it uses: BRIDGE_SENDER_BINDINGS=user:mfp-3f=scanner@contoso.com,client:192.168.10.0/24=*@scans.contoso.com.',
      { allowedSenders: senders },
    );
  return pass(id, title, `Allowed senders: ${senders.join(', ') || '(none)'}.`);
}

/** Whether a CIDR entry lets in all of one private range (or more). */
function coversPrivateRange(entry: string): boolean {
  const [addr = '', prefix] = entry.split('/');
  const family = isIP(addr);
  if (family === 0) return false;
  const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
  const list = new BlockList();
  list.addSubnet(addr, bits, family === 4 ? 'ipv4' : 'ipv6');
  return PRIVATE_RANGES.some((range) => {
    const [base = '', size = ''] = range.split('/');
    const rangeFamily = isIP(base);
    return rangeFamily === family && bits <= Number(size) && list.check(base, family === 4 ? 'ipv4' : 'ipv6');
  });
}
