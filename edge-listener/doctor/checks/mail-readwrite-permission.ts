import type { DiagnosticsReport } from '../../../core/diagnostics';
import type { EdgeConfig } from '../../config';
import { grantOverlap, mailboxGrants, type MailboxGrant } from '../../../core/mail-grants';
import { MIB } from '../../../core/message-size';
import { type CheckResult, fail, pass, skip, warn } from '../check-result';
import { adminConsentUrl, explainFailure } from '../explain-failure';

const ID = 'graph-mail-readwrite';
const TITLE = 'The app holds Mail.ReadWrite for large messages';
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Messages too large for one Graph request go as draft + upload sessions + send, which needs Mail.ReadWrite
 * (docs/design/platform-facts.md §A2). Only relevant when the edge and the function both accept such sizes.
 */
export function mailReadWritePermissionCheck(config: EdgeConfig, report: DiagnosticsReport): CheckResult {
  const largest = Math.min(config.smtp.maxMessageBytes, report.maxMessageBytes);
  const limit = mib(report.singleRequestMaxBytes);
  if (largest <= report.singleRequestMaxBytes) {
    return pass(
      ID,
      TITLE,
      `Not needed: messages are limited to ${mib(largest)}, which fit one Graph request (about ${limit}).`,
      { needed: false },
    );
  }
  if (!report.token.ok) return skip(ID, TITLE, 'Cannot tell without a Graph token (see above).');
  const roles = report.token.roles;
  if (roles.includes('Mail.ReadWrite')) {
    const summary = `Mail.ReadWrite: granted tenant-wide (Entra consent). Messages over about ${limit} (up to ${mib(largest)}) can go through drafts and upload sessions.`;
    // The Mail.Send check already shows an overlap when the token carries Mail.Send too.
    const overlap = roles.includes('Mail.Send')
      ? undefined
      : grantOverlap(roles, report.permissionModel, report.app.clientId);
    if (overlap)
      return warn(ID, TITLE, `${summary}\n${overlap.summary}`, overlap.fix, {
        needed: true,
        source: 'consent',
        overlap: overlap.roles,
      });
    return pass(ID, TITLE, summary, { needed: true, source: 'consent' });
  }
  const grants = report.mailboxes
    .flatMap((m) => mailboxGrants(roles, m))
    .filter((g) => g.permission === 'Mail.ReadWrite');
  const granted = grants.filter((g) => g.source === 'exchange-rbac');
  const refused = grants.filter((g) => g.source === 'not-granted');
  const statements = (list: MailboxGrant[]) => list.map((g) => `${g.statement}.`).join(' ');
  // Unlike Mail.Send, no other check would show a mailbox without it: any refusal fails here.
  const first = refused[0];
  if (first?.error) {
    const x = explainFailure(first.error, {
      mailbox: first.mailbox,
      permission: 'Mail.ReadWrite',
      app: report.app,
    });
    const fix =
      report.permissionModel === 'exchangeRbac'
        ? `This deployment scopes mailboxes with Exchange RBAC for Applications: run infra/scripts/Set-BridgeMailboxScope.ps1 -Mailbox ${refused.map((g) => g.mailbox).join(', ')} without -SkipMailReadWrite.`
        : x.fix;
    return fail(
      ID,
      TITLE,
      `${statements([...granted, ...refused])} ${x.summary}`,
      `${fix} Or lower BRIDGE_MAX_MESSAGE_BYTES to ${report.singleRequestMaxBytes} so large messages are refused at the device instead.`,
      { needed: true, source: 'none', notGranted: refused.map((g) => g.mailbox) },
    );
  }
  if (granted.length > 0) {
    return pass(
      ID,
      TITLE,
      `${statements(granted)} The token carries no Mail.ReadWrite, yet Exchange let the app create (and delete) a draft there: messages over about ${limit} (up to ${mib(largest)}) can go through drafts and upload sessions.`,
      { needed: true, source: 'exchange-rbac', mailboxes: granted.map((g) => g.mailbox) },
    );
  }
  if (report.mailboxes.length > 0)
    return skip(
      ID,
      TITLE,
      'The token carries no Mail.ReadWrite and no sender mailbox accepted the app, so an Exchange RBAC grant could not be tested (see the mailbox checks below).',
    );
  const url = adminConsentUrl(report.app);
  return fail(
    ID,
    TITLE,
    `The token carries no Mail.ReadWrite and the site names no sender mailbox to test an Exchange RBAC grant with, so messages over about ${limit} (up to ${mib(largest)} are accepted) would fail.`,
    `Grant Mail.ReadWrite (Application) with admin consent${url ? ` (${url})` : ''} or as "Application Mail.ReadWrite" with infra/scripts/Set-BridgeMailboxScope.ps1, or lower BRIDGE_MAX_MESSAGE_BYTES to ${report.singleRequestMaxBytes}.`,
    { needed: true, source: 'unknown' },
  );
}
