import { describe, expect, it } from 'vitest';

import type { DiagnosticsReport, MailboxDiagnosis } from '../../../core/diagnostics';
import { BridgeError, serializeBridgeError } from '../../../core/errors';
import { sentItemsLookupCheck } from '../../../edge-listener/doctor/checks/sent-items-lookup';

/** doctor's `graph-sent-items-lookup`: can a lost Graph answer be resolved in Sent Items (docs/design/custody.md)? */
const MAILBOX = 'scanner@contoso.com';

function report(
  over: Partial<DiagnosticsReport> = {},
  sentItems?: MailboxDiagnosis['sentItems'],
): DiagnosticsReport {
  return {
    site: 'hq',
    time: new Date().toISOString(),
    app: {
      clientId: 'app',
      tenantId: 't',
      authorityHost: 'https://login.microsoftonline.com',
      credential: 'client-secret',
    },
    storage: { ok: true },
    token: { ok: true, roles: [], expiresOn: new Date().toISOString() },
    policy: { allowedSenders: [MAILBOX] },
    maxMessageBytes: 1000,
    singleRequestMaxBytes: 3_000_000,
    mailboxes: [
      {
        address: MAILBOX,
        role: 'allowed-sender',
        allowedByPolicy: true,
        send: { ok: true },
        ...(sentItems ? { sentItems } : {}),
      },
    ],
    unchecked: [],
    saveToSentItems: true,
    ...over,
  };
}
const denied = serializeBridgeError(new BridgeError('GRAPH_ACCESS_DENIED', { detail: 'Access is denied.' }));

describe('doctor: lost answers can be checked in Sent Items', () => {
  it('passes with a read role in the token (Mail.ReadWrite covers it)', () => {
    const r = report({ token: { ok: true, roles: ['Mail.ReadWrite', 'Mail.Send'], expiresOn: '' } });
    expect(sentItemsLookupCheck(r)).toMatchObject({ status: 'pass', details: { source: 'consent' } });
  });

  it('passes when the look-up probe got in under Exchange RBAC', () => {
    expect(sentItemsLookupCheck(report({}, { ok: true }))).toMatchObject({
      status: 'pass',
      details: { source: 'exchange-rbac' },
    });
  });

  it('warns, naming the mailbox and the script, when Exchange refuses the read', () => {
    const check = sentItemsLookupCheck(
      report({ permissionModel: 'exchangeRbac' }, { ok: false, error: denied }),
    );
    expect(check.status).toBe('warn');
    expect(check.summary).toContain(`Mail.ReadBasic: not granted for ${MAILBOX}`);
    expect(check.summary).toMatch(/held as GRAPH_OUTCOME_UNKNOWN/);
    expect(check.fix).toMatch(/Set-BridgeMailboxScope\.ps1 -Mailbox scanner@contoso\.com/);
  });

  it('warns when the function keeps no Sent Items copies', () => {
    const check = sentItemsLookupCheck(report({ saveToSentItems: false }));
    expect(check).toMatchObject({ status: 'warn', details: { saveToSentItems: false } });
    expect(check.fix).toMatch(/BRIDGE_SAVE_TO_SENT_ITEMS=true/);
  });
});
