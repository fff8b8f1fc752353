import type { DiagnosticsReport } from '../../../core/diagnostics';
import { type CheckResult, fail, pass } from '../check-result';
import { explainFailure } from '../explain-failure';

/** The function obtains a Microsoft Graph token for the site's tenant (credential and tenant are right). */
export function graphTokenCheck(report: DiagnosticsReport): CheckResult {
  const tenant = report.app.tenantId ?? '(no tenant configured)';
  const title = `The function gets a Microsoft Graph token for tenant ${tenant}`;
  const t = report.token;
  if (t.ok) {
    const roles = t.roles.length > 0 ? t.roles.join(', ') : 'none';
    return pass(
      'graph-token',
      title,
      `Token for app ${t.appId ?? report.app.clientId ?? '?'} (${report.app.credential}), valid until ${t.expiresOn}; application permissions in it: ${roles}.`,
      {
        tenantId: t.tenantId ?? report.app.tenantId,
        appId: t.appId ?? report.app.clientId,
        credential: report.app.credential,
        roles: t.roles,
      },
    );
  }
  const x = explainFailure(t.error, { app: report.app, siteId: report.site });
  return fail('graph-token', title, x.summary, x.fix, {
    code: t.error.code,
    credential: report.app.credential,
  });
}
