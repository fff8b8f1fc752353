import type { DiagnosticsReport } from '../../../core/diagnostics';
import { type CheckResult, fail, pass, skip } from '../check-result';
import { adminConsentUrl, explainFailure } from '../explain-failure';

const ID = 'graph-mail-send';
const TITLE = 'The app holds Mail.Send';

/**
 * Mail.Send comes either from admin consent (then it is a role in the token, tenant-wide) or from Exchange
 * RBAC for Applications (then the token carries nothing and only a mailbox probe can tell) —
 * platform-facts §A5. A probe refused with plain "Access is denied" means neither is in place.
 */
export function mailSendPermissionCheck(report: DiagnosticsReport): CheckResult {
  if (!report.token.ok) return skip(ID, TITLE, 'Cannot tell without a Graph token (see above).');
  if (report.token.roles.includes('Mail.Send')) {
    return pass(
      ID,
      TITLE,
      'The token carries Mail.Send (Application): admin consent was granted, so the app may send as ANY mailbox of the tenant unless an application access policy limits it (docs/mailbox-scoping.md).',
      { source: 'consent' },
    );
  }
  const probes = report.mailboxes;
  const denied = probes.find(
    (m) =>
      !m.send.ok &&
      m.send.error.code === 'GRAPH_ACCESS_DENIED' &&
      !/OData is disabled/i.test(`${m.send.error.message} ${m.send.error.detail ?? ''}`),
  );
  if (denied && !denied.send.ok) {
    const x = explainFailure(denied.send.error, {
      mailbox: denied.address,
      permission: 'Mail.Send',
      app: report.app,
    });
    return fail(ID, TITLE, `The token carries no Mail.Send. ${x.summary}`, x.fix, { source: 'none' });
  }
  const allowed = probes.filter((m) => m.send.ok).map((m) => m.address);
  if (allowed.length > 0) {
    return pass(
      ID,
      TITLE,
      `The token carries no Mail.Send, yet Exchange lets the app send as ${allowed.join(', ')}: Mail.Send comes from Exchange RBAC for Applications, limited to its scope.`,
      { source: 'exchange-rbac', mailboxes: allowed },
    );
  }
  if (probes.length === 0) {
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
