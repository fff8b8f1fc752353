import type { ExchangeAppRole, SandboxExchangeRbacGrant } from './options';

/**
 * Exchange Online RBAC for Applications as the sandbox models it: role assignments per app (and tenant), each
 * limited to a management scope of mailboxes. Exchange evaluates them per mailbox and independently of the
 * token's roles; the two grants add up (docs/design/platform-facts.md §A5), which Directory.mailAccess combines.
 */

export const EXCHANGE_APP_ROLES: readonly ExchangeAppRole[] = [
  'Application Mail.Send',
  'Application Mail.ReadWrite',
  'Application Mail.ReadBasic',
];

interface Assignment {
  clientId: string;
  tenantId?: string;
  scope: string[];
  roles: Set<ExchangeAppRole>;
}

/** An address in a scope entry: the exact address, '*@domain', or '*' (case-insensitive). */
export function scopeCovers(entry: string, address: string): boolean {
  const e = entry.trim().toLowerCase();
  const a = address.trim().toLowerCase();
  if (e === '*') return true;
  if (e.startsWith('*@')) return a.endsWith(e.slice(1));
  return e === a;
}

export class ExchangeRbac {
  readonly #assignments: Assignment[];

  constructor(grants: SandboxExchangeRbacGrant[] = []) {
    this.#assignments = grants.map((g) => ({
      clientId: g.clientId,
      ...(g.tenantId !== undefined ? { tenantId: g.tenantId } : {}),
      scope: g.mailboxes,
      roles: new Set(g.roles ?? EXCHANGE_APP_ROLES),
    }));
  }

  /** Whether the app holds `role` through any assignment in this tenant, for whatever scope. */
  holds(appId: string, tenantId: string, role: ExchangeAppRole): boolean {
    return this.#of(appId, tenantId, role).length > 0;
  }

  /** Whether an assignment of `role` to the app covers this mailbox. */
  covers(appId: string, tenantId: string, mailbox: string, role: ExchangeAppRole): boolean {
    return this.#of(appId, tenantId, role).some((a) => a.scope.some((e) => scopeCovers(e, mailbox)));
  }

  #of(appId: string, tenantId: string, role: ExchangeAppRole): Assignment[] {
    return this.#assignments.filter(
      (a) =>
        (a.clientId === '*' || a.clientId === appId) &&
        (a.tenantId === undefined || a.tenantId === tenantId) &&
        a.roles.has(role),
    );
  }
}

/**
 * The sandbox CLI's `--exchange-rbac CLIENT_ID=MAILBOX[,MAILBOX…][:Mail.Send|Mail.ReadWrite|Mail.ReadBasic]`:
 * without the suffix all three roles are assigned, as Set-BridgeMailboxScope.ps1 does;
 * `:Mail.Send,Mail.ReadBasic` is its -SkipMailReadWrite.
 */
export function parseExchangeRbacFlag(value: string): SandboxExchangeRbacGrant {
  const m = /^([^=\s]+)=([^:]+)(?::(.+))?$/.exec(value.trim());
  if (!m) throw new Error(`--exchange-rbac ${value}: expected CLIENT_ID=MAILBOX[,MAILBOX…][:ROLE[,ROLE]]`);
  const mailboxes = (m[2] as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const mb of mailboxes) {
    if (mb !== '*' && !/^[^@\s]+@[^@\s]+$/.test(mb))
      throw new Error(`--exchange-rbac ${value}: "${mb}" is not a mailbox, *@domain or *`);
  }
  const grant: SandboxExchangeRbacGrant = { clientId: m[1] as string, mailboxes };
  if (m[3] !== undefined) {
    grant.roles = m[3].split(',').map((r) => {
      const role = `Application ${r.trim().replace(/^Application\s+/i, '')}`;
      if (!(EXCHANGE_APP_ROLES as readonly string[]).includes(role))
        throw new Error(
          `--exchange-rbac ${value}: unknown role "${r}" (Mail.Send, Mail.ReadWrite or Mail.ReadBasic)`,
        );
      return role as ExchangeAppRole;
    });
  }
  return grant;
}
