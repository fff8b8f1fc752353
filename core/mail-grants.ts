import type { MailboxDiagnosis } from './diagnostics';
import type { SerializedBridgeError } from './errors';

/**
 * Where the app's mail permissions come from, per sender mailbox — shared by the function's diagnostics and
 * deep health and by `doctor`, so all three say the same sentence.
 *
 * Two independent grants add up (docs/design/platform-facts.md §A5): Entra admin consent puts Mail.Send / Mail.ReadWrite in
 * the token and reaches every mailbox of the tenant; Exchange RBAC for Applications grants them for a
 * management scope and leaves the token without them. So a token without Mail.Send is not a fault by
 * itself: only a mailbox probe (core/diagnostics.ts) tells whether Exchange lets the app in.
 */

export type MailPermission = 'Mail.Send' | 'Mail.ReadWrite' | 'Mail.ReadBasic';

/** Token roles that let the app read a message's properties (the Sent Items look-up, docs/design/platform-facts.md §F). */
export const READ_ROLES: readonly string[] = [
  'Mail.ReadBasic',
  'Mail.ReadBasic.All',
  'Mail.Read',
  'Mail.ReadWrite',
];

/** The deployment's declared model (infra's mailPermissionModel, app setting BRIDGE_MAIL_PERMISSION_MODEL). */
export type MailPermissionModel = 'exchangeRbac' | 'tenantWideConsent';
export const MAIL_PERMISSION_MODELS: readonly MailPermissionModel[] = ['exchangeRbac', 'tenantWideConsent'];

/**
 * tenant-wide: a role in the token (Entra consent). exchange-rbac: no role, yet Exchange let the app in for
 * this mailbox. not-granted: Exchange refused the app access to this mailbox (ErrorAccessDenied). unknown: the
 * probe failed for another reason (mailbox missing, throttled, Graph down) — the mailbox check says which.
 */
export type GrantSource = 'tenant-wide' | 'exchange-rbac' | 'not-granted' | 'unknown';

export interface MailboxGrant {
  permission: MailPermission;
  mailbox: string;
  source: GrantSource;
  /** One sentence, e.g. "Mail.Send: granted by Exchange RBAC for scanner@contoso.com". */
  statement: string;
  /** The refusal behind not-granted or unknown. */
  error?: SerializedBridgeError;
}

export function grantStatement(permission: MailPermission, source: GrantSource, mailbox: string): string {
  switch (source) {
    case 'tenant-wide':
      return `${permission}: granted tenant-wide (Entra consent)`;
    case 'exchange-rbac':
      return `${permission}: granted by Exchange RBAC for ${mailbox}`;
    case 'not-granted':
      return `${permission}: not granted for ${mailbox}`;
    default:
      return `${permission}: could not be checked for ${mailbox}`;
  }
}

/** "Access to OData is disabled": the app holds the permission, but a scope or access policy leaves this mailbox out. */
export function isOutOfScope(error: SerializedBridgeError): boolean {
  return /OData is disabled/i.test(`${error.message} ${error.detail ?? ''}`);
}

function grant(
  permission: MailPermission,
  mailbox: string,
  source: GrantSource,
  error?: SerializedBridgeError,
): MailboxGrant {
  return {
    permission,
    mailbox,
    source,
    statement: grantStatement(permission, source, mailbox),
    ...(error ? { error } : {}),
  };
}

/**
 * Mail.Send from the send probe; Mail.ReadWrite from the token role or the draft probe (absent when neither
 * applies: the draft path is not needed at the configured size, or the mailbox refused the app already).
 */
export function mailboxGrants(roles: readonly string[], m: MailboxDiagnosis): MailboxGrant[] {
  const out: MailboxGrant[] = [];
  const sendRole = roles.includes('Mail.Send');
  if (m.send.ok) out.push(grant('Mail.Send', m.address, sendRole ? 'tenant-wide' : 'exchange-rbac'));
  else if (m.send.error.code === 'GRAPH_ACCESS_DENIED')
    out.push(grant('Mail.Send', m.address, 'not-granted', m.send.error));
  else out.push(grant('Mail.Send', m.address, 'unknown', m.send.error));

  if (roles.includes('Mail.ReadWrite')) {
    // An access policy that leaves the mailbox out of the consented roles does so for both permissions.
    const excluded = !m.send.ok && m.send.error.code === 'GRAPH_ACCESS_DENIED' && isOutOfScope(m.send.error);
    out.push(grant('Mail.ReadWrite', m.address, excluded ? 'not-granted' : 'tenant-wide'));
  } else if (m.draft?.ok) out.push(grant('Mail.ReadWrite', m.address, 'exchange-rbac'));
  else if (m.draft && !m.draft.ok)
    out.push(
      grant(
        'Mail.ReadWrite',
        m.address,
        m.draft.error.code === 'GRAPH_ACCESS_DENIED' ? 'not-granted' : 'unknown',
        m.draft.error,
      ),
    );

  // Read access for the Sent Items look-up that resolves lost answers (docs/design/custody.md).
  if (READ_ROLES.some((r) => roles.includes(r))) {
    const excluded = !m.send.ok && m.send.error.code === 'GRAPH_ACCESS_DENIED' && isOutOfScope(m.send.error);
    out.push(grant('Mail.ReadBasic', m.address, excluded ? 'not-granted' : 'tenant-wide'));
  } else if (m.sentItems?.ok) out.push(grant('Mail.ReadBasic', m.address, 'exchange-rbac'));
  else if (m.sentItems && !m.sentItems.ok)
    out.push(
      grant(
        'Mail.ReadBasic',
        m.address,
        m.sentItems.error.code === 'GRAPH_ACCESS_DENIED' ? 'not-granted' : 'unknown',
        m.sentItems.error,
      ),
    );
  return out;
}

export interface GrantOverlap {
  /** The consented mail roles in the token. */
  roles: MailPermission[];
  summary: string;
  fix: string;
}

/**
 * A tenant-wide role in the token while the deployment says it scopes mailboxes with Exchange RBAC: the
 * grants add up, so the scope limits nothing (docs/design/platform-facts.md §A5). Only the declared model can reveal this —
 * with the consent in place every mailbox answers the same, in scope or not.
 */
export function grantOverlap(
  roles: readonly string[],
  model: MailPermissionModel | undefined,
  appId = '<app id>',
): GrantOverlap | undefined {
  const consented = (['Mail.Send', 'Mail.ReadWrite', 'Mail.ReadBasic'] as const).filter((r) =>
    roles.includes(r),
  );
  if (model !== 'exchangeRbac' || consented.length === 0) return undefined;
  const list = consented.join(' and ');
  return {
    roles: consented,
    summary: `The token carries ${list} (Entra admin consent, tenant-wide), although this deployment scopes mailboxes with Exchange RBAC for Applications (mailPermissionModel exchangeRbac). The two grants add up: the app may use every mailbox of the tenant and the Exchange scope limits nothing.`,
    fix: `Revoke the consent and keep the Exchange scope: Entra admin center → Enterprise applications → the app → Permissions → revoke ${list}, or az ad app permission delete --id ${appId} --api 00000003-0000-0000-c000-000000000000 (docs/deploy.md, "Switching from tenantWideConsent to exchangeRbac"). If every mailbox may send, redeploy with mailPermissionModel=tenantWideConsent instead.`,
  };
}
