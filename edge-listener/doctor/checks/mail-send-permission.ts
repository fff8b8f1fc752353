import type { DiagnosticsReport } from '../../../core/diagnostics';
import { grantOverlap, mailboxGrants, type MailboxGrant } from '../../../core/mail-grants';
import { type CheckResult, fail, pass, skip, warn } from '../check-result';
import { adminConsentUrl, explainFailure } from '../explain-failure';

const ID = 'graph-mail-send';
const TITLE = 'The app holds Mail.Send';

/**
 * Mail.Send comes either from admin consent (then it is a role in the token, tenant-wide) or from Exchange
 * RBAC for Applications (then the token carries nothing and only a mailbox probe can tell) —
 * docs/design/platform-facts.md §A5. So a token without Mail.Send is not a failure by itself: the probes decide. A mailbox
 * the app may not use fails its own sender-mailbox check; this check fails only when no probed mailbox is
 * granted at all.
 */
export function mailSendPermissionCheck(report: DiagnosticsReport): CheckResult {
  if (!report.token.ok) return skip(ID, TITLE, 'Cannot tell without a Graph token (see above).');
  const roles = report.token.roles;
  if (roles.includes('Mail.Send')) {
    const summary =
      'Mail.Send: granted tenant-wide (Entra consent). The token carries Mail.Send (Application), so the app may send as ANY mailbox of the tenant unless an application access policy limits it (docs/mailbox-scoping.md).';
    const overlap = grantOverlap(roles, report.permissionModel, report.app.clientId);
    if (overlap)
      return warn(ID, TITLE, `${summary}\n${overlap.summary}`, overlap.fix, {
        source: 'consent',
        overlap: overlap.roles,
      });
    return pass(ID, TITLE, summary, { source: 'consent' });
  }
  const grants = report.mailboxes
    .flatMap((m) => mailboxGrants(roles, m))
    .filter((g) => g.permission === 'Mail.Send');
  const granted = grants.filter((g) => g.source === 'exchange-rbac');
  const refused = grants.filter((g) => g.source === 'not-granted');
  const statements = (list: MailboxGrant[]) => list.map((g) => `${g.statement}.`).join(' ');
  if (granted.length > 0) {
    const rest = refused.length > 0 ? ` ${statements(refused)} (see its mailbox check for the fix)` : '';
    return pass(
      ID,
      TITLE,
      `${statements(granted)}${rest} The token carries no Mail.Send role, as expected with Exchange RBAC for Applications: Exchange grants it for the mailboxes of its scope only.`,
      {
        source: 'exchange-rbac',
        mailboxes: granted.map((g) => g.mailbox),
        ...(refused.length > 0 ? { notGranted: refused.map((g) => g.mailbox) } : {}),
      },
    );
  }
  const first = refused[0];
  if (first?.error) {
    const x = explainFailure(first.error, {
      mailbox: first.mailbox,
      permission: 'Mail.Send',
      app: report.app,
    });
    const fix =
      report.permissionModel === 'exchangeRbac'
        ? `This deployment scopes mailboxes with Exchange RBAC for Applications: run infra/scripts/Set-BridgeMailboxScope.ps1 -Mailbox ${refused.map((g) => g.mailbox).join(', ')} (do not grant admin consent: it would make the app tenant-wide). Exchange takes 30 minutes to 2 hours to apply it; see docs/mailbox-scoping.md.`
        : x.fix;
    return fail(ID, TITLE, `${statements(refused)} The token carries no Mail.Send. ${x.summary}`, fix, {
      source: 'none',
      notGranted: refused.map((g) => g.mailbox),
    });
  }
  if (report.mailboxes.length === 0) {
    const url = adminConsentUrl(report.app);
    return fail(
      ID,
      TITLE,
      'The token carries no Mail.Send and the site names no sender mailbox through which an Exchange RBAC grant could be tested.',
      `Grant admin consent once${url ? ` (${url})` : ''} or assign "Application Mail.Send" with infra/scripts/Set-BridgeMailboxScope.ps1; set BRIDGE_DEFAULT_SENDER (or run doctor --from ADDRESS) so doctor can test a mailbox.`,
      { source: 'unknown' },
    );
  }
  return skip(
    ID,
    TITLE,
    'The token carries no Mail.Send and no sender mailbox could be used to test an Exchange RBAC grant (see the mailbox checks below).',
  );
}
