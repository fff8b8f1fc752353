import type { DiagnosticsReport } from '../../../core/diagnostics';
import type { EdgeConfig } from '../../config';
import { type CheckResult, fail, pass, skip } from '../check-result';
import { adminConsentUrl, explainFailure } from '../explain-failure';

const ID = 'graph-mail-readwrite';
const TITLE = 'The app holds Mail.ReadWrite for large messages';
const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Messages too large for one Graph request go as draft + upload sessions + send, which needs Mail.ReadWrite
 * (platform-facts §A2). Only relevant when the edge and the function both accept such sizes.
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
  if (report.token.roles.includes('Mail.ReadWrite')) {
    return pass(
      ID,
      TITLE,
      `The token carries Mail.ReadWrite: messages over about ${limit} (up to ${mib(largest)}) can go through drafts and upload sessions.`,
      { needed: true, source: 'consent' },
    );
  }
  const probed = report.mailboxes.filter((m) => m.draft !== undefined);
  const refused = probed.find((m) => m.draft && !m.draft.ok);
  if (refused?.draft && !refused.draft.ok) {
    const x = explainFailure(refused.draft.error, {
      mailbox: refused.address,
      permission: 'Mail.ReadWrite',
      app: report.app,
    });
    return fail(
      ID,
      TITLE,
      x.summary,
      `${x.fix} Or lower BRIDGE_MAX_MESSAGE_BYTES to ${report.singleRequestMaxBytes} so large messages are refused at the device instead.`,
      { needed: true, source: 'none' },
    );
  }
  if (probed.length > 0) {
    return pass(
      ID,
      TITLE,
      `The token carries no Mail.ReadWrite, yet Exchange let the app create (and delete) a draft in ${probed.map((m) => m.address).join(', ')}: it comes from Exchange RBAC for Applications.`,
      { needed: true, source: 'exchange-rbac' },
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
