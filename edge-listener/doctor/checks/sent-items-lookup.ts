import type { DiagnosticsReport } from '../../../core/diagnostics';
import { mailboxGrants, READ_ROLES } from '../../../core/mail-grants';
import { type CheckResult, pass, skip, warn } from '../check-result';

const ID = 'graph-sent-items-lookup';
const TITLE = 'Lost Graph answers can be checked in Sent Items';

/**
 * When Graph's answer to a send is lost, the function looks for the message in the sender's Sent Items
 * instead of guessing (docs/design/custody.md). That needs Sent Items copies (BRIDGE_SAVE_TO_SENT_ITEMS) and
 * read access to the mailbox (Mail.ReadBasic or better). Without them nothing is lost — such a message is
 * held as GRAPH_OUTCOME_UNKNOWN with its body for an admin — so this warns, it does not fail.
 */
export function sentItemsLookupCheck(report: DiagnosticsReport): CheckResult {
  if (report.saveToSentItems === false)
    return warn(
      ID,
      TITLE,
      'BRIDGE_SAVE_TO_SENT_ITEMS is off in the function: no Sent Items copy exists, so a message whose Graph answer is lost is held as GRAPH_OUTCOME_UNKNOWN for an admin instead of being resolved.',
      'Set BRIDGE_SAVE_TO_SENT_ITEMS=true in the function app settings (the default).',
      { saveToSentItems: false },
    );
  if (!report.token.ok) return skip(ID, TITLE, 'Cannot tell without a Graph token (see above).');
  const roles = report.token.roles;
  const consented = READ_ROLES.filter((r) => roles.includes(r));
  if (consented.length > 0)
    return pass(ID, TITLE, `Read access granted tenant-wide (${consented.join(', ')} in the token).`, {
      source: 'consent',
    });
  const grants = report.mailboxes
    .flatMap((m) => mailboxGrants(roles, m))
    .filter((g) => g.permission === 'Mail.ReadBasic');
  const refused = grants.filter((g) => g.source !== 'exchange-rbac');
  if (grants.length > 0 && refused.length === 0)
    return pass(ID, TITLE, grants.map((g) => `${g.statement}.`).join(' '), { source: 'exchange-rbac' });
  if (grants.length === 0)
    return skip(ID, TITLE, 'No sender mailbox accepted the app, so read access could not be tested.');
  return warn(
    ID,
    TITLE,
    `${refused.map((g) => `${g.statement}.`).join(' ')} A message from such a mailbox whose Graph answer is lost is held as GRAPH_OUTCOME_UNKNOWN for an admin instead of being resolved.`,
    report.permissionModel === 'exchangeRbac'
      ? `Run infra/scripts/Set-BridgeMailboxScope.ps1 -Mailbox ${refused.map((g) => g.mailbox).join(', ')} again: it assigns "Application Mail.ReadBasic" too (docs/mailbox-scoping.md).`
      : 'Grant Mail.ReadBasic (Application) with admin consent, or "Application Mail.ReadBasic" on the Exchange RBAC scope (docs/mailbox-scoping.md).',
    { notGranted: refused.map((g) => g.mailbox) },
  );
}
