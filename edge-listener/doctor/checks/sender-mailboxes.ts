import type { DiagnosticsReport, MailboxDiagnosis } from '../../../core/diagnostics';
import { mailboxGrants } from '../../../core/mail-grants';
import { type CheckResult, fail, pass, skip } from '../check-result';
import { explainFailure } from '../explain-failure';

const ID = 'sender-mailbox';

const ROLE: Record<MailboxDiagnosis['role'], string> = {
  'default-sender': 'the default sender',
  'allowed-sender': 'an allowed sender',
  requested: 'asked for with --from',
};

/** One result per sender mailbox of the site: it exists, is licensed, is in scope and may be sent as. */
export function senderMailboxChecks(report: DiagnosticsReport): CheckResult[] {
  if (!report.token.ok)
    return [
      skip(
        ID,
        'Sender mailboxes may be sent as',
        'Cannot check mailboxes without a Graph token (see above).',
      ),
    ];
  const refused = refusedChecks(report);
  const wildcards = report.policy.allowedSenders.filter((s) => s.startsWith('*'));
  if (report.mailboxes.length === 0) {
    if (refused.length > 0) return refused;
    const why =
      wildcards.length > 0
        ? `only wildcard entries (${wildcards.join(', ')})`
        : 'no sender at all, so every message is refused with SENDER_NOT_ALLOWED';
    return [
      skip(
        ID,
        'Sender mailboxes may be sent as',
        `Site "${report.site}" names no single sender mailbox to check: ${why}. Run doctor --from ADDRESS to check one.`,
      ),
    ];
  }
  const results = [...report.mailboxes.map((m) => one(m, report)), ...refused];
  if (report.unchecked.length > 0) {
    results.push(
      skip(
        ID,
        'Further sender mailboxes',
        `Not checked (at most ${report.mailboxes.length} per run): ${report.unchecked.join(', ')}. Check them with doctor --from ADDRESS.`,
      ),
    );
  }
  return results;
}

/** Addresses asked for with --from that the site may not send as: the function does not probe them. */
function refusedChecks(report: DiagnosticsReport): CheckResult[] {
  return (report.refused ?? []).map((address) =>
    skip(
      ID,
      `The app may send as ${address} (${ROLE.requested})`,
      `Not checked: site "${report.site}" may not send as ${address} (not its default sender, not in its allowed senders), and the function probes only the site's own mailboxes. Messages From it are sent by ${report.policy.defaultSender ?? 'nobody (they are refused: no default sender)'} instead.`,
    ),
  );
}

function one(m: MailboxDiagnosis, report: DiagnosticsReport): CheckResult {
  const title = `The app may send as ${m.address} (${ROLE[m.role]})`;
  const details = { address: m.address, role: m.role, allowedByPolicy: m.allowedByPolicy };
  const roles = report.token.ok ? report.token.roles : [];
  const sendGrant = mailboxGrants(roles, m).find((g) => g.permission === 'Mail.Send');
  if (!m.send.ok) {
    const x = explainFailure(m.send.error, {
      mailbox: m.address,
      permission: 'Mail.Send',
      app: report.app,
      siteId: report.site,
    });
    const statement = sendGrant?.source === 'not-granted' ? `${sendGrant.statement}. ` : '';
    return fail(ID, title, `${statement}${x.summary}`, x.fix, {
      ...details,
      code: m.send.error.code,
      graph: m.send.error.graph,
    });
  }
  const policy = m.allowedByPolicy
    ? ''
    : ` Note: it is not in the site's allowed senders, so messages From it are sent by ${report.policy.defaultSender ?? 'nobody (they are refused: no default sender)'} instead.`;
  const note = m.send.note ? ` (${m.send.note})` : '';
  return pass(
    ID,
    title,
    `${m.address} exists, has an Exchange Online mailbox and the app may send as it${note}.${sendGrant ? ` ${sendGrant.statement}.` : ''}${policy}`,
    { ...details, ...(sendGrant ? { grant: sendGrant.source } : {}) },
  );
}
