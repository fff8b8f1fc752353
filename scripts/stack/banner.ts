import { relative } from 'node:path';

import type { StackInfo } from './stack';

/**
 * The lines printed once the stack is up: the mode first (an admin must never wonder whether mail goes
 * out), then where to point a device, where to look, and a command to try. Paths are shown relative to
 * the working directory when they are inside it. The admin token is shown as its path, never its value.
 */
export function readyBanner(info: StackInfo, cwd: string): string {
  const path = (p: string) => {
    const r = relative(cwd, p);
    return r && !r.startsWith('..') ? r : p;
  };
  const smtpHost = info.smtp.host === '0.0.0.0' || info.smtp.host === '::' ? '127.0.0.1' : info.smtp.host;
  const everywhere =
    info.smtp.host === '0.0.0.0' || info.smtp.host === '::'
      ? ' (all interfaces: point a copier at this machine)'
      : '';
  const lines: string[] = [''];
  if (info.mode === 'sandbox') {
    lines.push(
      '  SANDBOX MODE — nothing leaves this machine. The Graph sandbox keeps every message it would have sent.',
    );
    lines.push(
      '  (Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to send through Microsoft 365.)',
    );
  } else {
    lines.push('  LIVE MODE — messages are sent through Microsoft Graph with your app registration.');
  }
  lines.push('');
  const rows: Array<[string, string]> = [
    ['SMTP', `${smtpHost}:${info.smtp.port}${everywhere}`],
    ['Status page', info.statusUrl],
  ];
  if (info.keptMessagesDir)
    rows.push(['Kept messages', `${path(info.keptMessagesDir)}/ (request.json, message.eml, attachments/)`]);
  if (info.sandboxSenderPolicy)
    rows.push([
      'Sender policy',
      `BRIDGE_ALLOWED_SENDERS=${info.sandboxSenderPolicy} (sandbox default: any sender may send as itself)`,
    ]);
  rows.push([
    'Admin token',
    `${path(info.adminTokenFile)} (for the status page's actions from other machines)`,
  ]);
  rows.push(['Data and logs', `${path(info.dataDir)}/ (logs in ${path(info.logDir)}/)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  lines.push('');
  lines.push('  Try it:');
  lines.push(
    `    swaks --server ${smtpHost}:${info.smtp.port} --from scanner@example.com --to you@example.com \\`,
  );
  lines.push(`          --header 'Subject: Scan from the bridge' --attach README.md`);
  lines.push('');
  lines.push('  Press Ctrl-C to stop.');
  lines.push('');
  return lines.join('\n');
}
