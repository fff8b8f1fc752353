import { describe, expect, it } from 'vitest';

import type { MailboxDiagnosis, ProbeResult } from '../../core/diagnostics';
import { BridgeError, serializeBridgeError } from '../../core/errors';
import { grantOverlap, mailboxGrants } from '../../core/mail-grants';

const denied = (message: string): ProbeResult => ({
  ok: false,
  error: serializeBridgeError(
    new BridgeError('GRAPH_ACCESS_DENIED', {
      detail: `x (ErrorAccessDenied: ${message})`,
      graph: { status: 403, code: 'ErrorAccessDenied' },
    }),
  ),
});
const probe = (send: ProbeResult, draft?: ProbeResult): MailboxDiagnosis => ({
  address: 'scanner@contoso.com',
  role: 'default-sender',
  allowedByPolicy: true,
  send,
  ...(draft ? { draft } : {}),
});
const sources = (roles: string[], m: MailboxDiagnosis) =>
  mailboxGrants(roles, m).map((g) => `${g.permission} ${g.source}`);

describe('where the mail permissions of a mailbox come from', () => {
  it('tenant-wide from a token role, Exchange RBAC from a probe that passed without one', () => {
    expect(sources(['Mail.Send', 'Mail.ReadWrite'], probe({ ok: true }))).toEqual([
      'Mail.Send tenant-wide',
      'Mail.ReadWrite tenant-wide',
      // Mail.ReadWrite also reads Sent Items, where lost answers are looked up.
      'Mail.ReadBasic tenant-wide',
    ]);
    expect(sources([], probe({ ok: true }, { ok: true }))).toEqual([
      'Mail.Send exchange-rbac',
      'Mail.ReadWrite exchange-rbac',
    ]);
    // No draft probe (messages fit one request): nothing said about Mail.ReadWrite.
    expect(sources([], probe({ ok: true }))).toEqual(['Mail.Send exchange-rbac']);
  });

  it('not granted when Exchange refuses access, unknown when the probe failed for another reason', () => {
    expect(sources([], probe(denied('Access is denied. Check credentials and try again.')))).toEqual([
      'Mail.Send not-granted',
    ]);
    expect(sources([], probe({ ok: true }, denied('Access is denied.')))).toEqual([
      'Mail.Send exchange-rbac',
      'Mail.ReadWrite not-granted',
    ]);
    const missing = serializeBridgeError(new BridgeError('GRAPH_MAILBOX_NOT_FOUND'));
    expect(sources([], probe({ ok: false, error: missing }))).toEqual(['Mail.Send unknown']);
    // An access policy that leaves the mailbox out of the consented roles covers both permissions.
    expect(sources(['Mail.Send', 'Mail.ReadWrite'], probe(denied('Access to OData is disabled.')))).toEqual([
      'Mail.Send not-granted',
      'Mail.ReadWrite not-granted',
      'Mail.ReadBasic not-granted',
    ]);
  });

  it('read access for the Sent Items look-up: from a read role, or from the look-up probe under Exchange RBAC', () => {
    expect(sources(['Mail.Send', 'Mail.ReadBasic'], probe({ ok: true }))).toContain(
      'Mail.ReadBasic tenant-wide',
    );
    const withLookup = (sentItems: MailboxDiagnosis['sentItems']) => ({ ...probe({ ok: true }), sentItems });
    expect(sources([], withLookup({ ok: true }))).toContain('Mail.ReadBasic exchange-rbac');
    expect(sources([], withLookup(denied('Access is denied.')))).toContain('Mail.ReadBasic not-granted');
  });

  it('flags a consented mail role only when the deployment declares Exchange RBAC', () => {
    expect(grantOverlap(['Mail.Send'], 'exchangeRbac', 'app-1')).toMatchObject({
      roles: ['Mail.Send'],
      fix: expect.stringContaining('--id app-1 '),
    });
    expect(grantOverlap(['Mail.ReadWrite'], 'exchangeRbac')?.roles).toEqual(['Mail.ReadWrite']);
    expect(grantOverlap(['Mail.Send'], 'tenantWideConsent')).toBeUndefined();
    expect(grantOverlap(['Mail.Send'], undefined)).toBeUndefined();
    expect(grantOverlap(['User.Read.All'], 'exchangeRbac')).toBeUndefined();
  });
});
