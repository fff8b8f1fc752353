import { createHash } from 'node:crypto';

import type { AccessTokenClaims } from './access-token';
import { ExchangeRbac } from './exchange-rbac';
import type { ExchangeAppRole, SandboxMailbox, SandboxOptions } from './options';

/**
 * Who exists and who may do what: mailboxes per tenant, Exchange licence, the app's application permissions
 * (token roles, optionally limited by an application access policy), its Exchange RBAC for Applications
 * assignments, Send As rights. Answers are Graph's own status/code/message for each refusal
 * (docs/design/platform-facts.md §A4–A5).
 */

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export type Permission = 'Mail.Send' | 'Mail.ReadWrite' | 'Mail.ReadBasic' | 'User.Read';
export type MailPermission = Exclude<Permission, 'User.Read'>;

/** The Exchange RBAC roles that grant each mail permission for a scope (any one suffices). */
const EXCHANGE_ROLES: Record<MailPermission, ExchangeAppRole[]> = {
  'Mail.Send': ['Application Mail.Send'],
  'Mail.ReadWrite': ['Application Mail.ReadWrite'],
  'Mail.ReadBasic': ['Application Mail.ReadBasic', 'Application Mail.ReadWrite'],
};

const ACCESS_DENIED: Refusal = {
  status: 403,
  code: 'ErrorAccessDenied',
  message: 'Access is denied. Check credentials and try again.',
};
const OUT_OF_SCOPE: Refusal = {
  status: 403,
  code: 'ErrorAccessDenied',
  message: 'Access to OData is disabled.',
};

/** Application permissions that grant each need (any one suffices). */
const GRANTS: Record<Permission, string[]> = {
  'Mail.Send': ['Mail.Send'],
  'Mail.ReadWrite': ['Mail.ReadWrite'],
  // Reading message properties (not bodies): any of the read permissions (docs/design/platform-facts.md §F).
  'Mail.ReadBasic': ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'],
  'User.Read': [
    'User.Read.All',
    'User.ReadBasic.All',
    'User.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
};

export function mailboxObjectId(address: string): string {
  const h = createHash('sha256').update(address.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class Directory {
  readonly #known?: Map<string, SandboxMailbox>;
  readonly #scope?: Set<string>;
  readonly #rbac: ExchangeRbac;

  constructor(options: SandboxOptions) {
    if (options.mailboxes) {
      this.#known = new Map(
        options.mailboxes.map((m) => {
          const mb = typeof m === 'string' ? { address: m } : m;
          return [mb.address.toLowerCase(), mb];
        }),
      );
    }
    if (options.mailboxScope) this.#scope = new Set(options.mailboxScope.map((a) => a.toLowerCase()));
    this.#rbac = new ExchangeRbac(options.exchangeRbac);
  }

  /** The mailbox as the token's tenant sees it, or the refusal Graph gives for a user it cannot find. */
  find(idOrAddress: string, claims: AccessTokenClaims): SandboxMailbox | Refusal {
    const key = idOrAddress.toLowerCase();
    if (!this.#known) return { address: key };
    const byAddress =
      this.#known.get(key) ?? [...this.#known.values()].find((m) => mailboxObjectId(m.address) === key);
    if (!byAddress || (byAddress.tenantId !== undefined && byAddress.tenantId !== claims.tid)) {
      return {
        status: 404,
        code: 'ErrorInvalidUser',
        message: `The requested user '${idOrAddress}' is invalid.`,
      };
    }
    return byAddress;
  }

  /**
   * Checks for a mail route, in the order Exchange answers: does the app hold the permission at all (a token
   * role, or an Exchange RBAC assignment for any scope) → "Access is denied"; is the mailbox licensed; is
   * this mailbox covered — by the tenant-wide role (unless an access policy leaves it out) OR by an RBAC
   * assignment's scope (the two add up) → else "Access to OData is disabled".
   */
  mailAccess(mailbox: SandboxMailbox, claims: AccessTokenClaims, need: MailPermission): Refusal | undefined {
    const roles = EXCHANGE_ROLES[need];
    const tenantWide = this.permission(claims, need) === undefined;
    if (!tenantWide && !roles.some((role) => this.#rbac.holds(claims.appid, claims.tid, role)))
      return ACCESS_DENIED;
    if (mailbox.licensed === false) {
      return {
        status: 404,
        code: 'MailboxNotEnabledForRESTAPI',
        message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
      };
    }
    const address = mailbox.address.toLowerCase();
    if (roles.some((role) => this.#rbac.covers(claims.appid, claims.tid, address, role))) return undefined;
    if (tenantWide && (!this.#scope || this.#scope.has(address))) return undefined;
    return OUT_OF_SCOPE;
  }

  permission(claims: AccessTokenClaims, need: Permission): Refusal | undefined {
    const roles = new Set(Array.isArray(claims.roles) ? claims.roles : []);
    if (GRANTS[need].some((r) => roles.has(r))) return undefined;
    if (need === 'User.Read')
      return {
        status: 403,
        code: 'Authorization_RequestDenied',
        message: 'Insufficient privileges to complete the operation.',
      };
    return ACCESS_DENIED;
  }

  /** The From address must be the mailbox itself or one it has Send As rights on. */
  sendAs(mailbox: SandboxMailbox, from: string | undefined): Refusal | undefined {
    if (!from) return undefined;
    const f = from.toLowerCase();
    if (f === mailbox.address.toLowerCase()) return undefined;
    if ((mailbox.sendAs ?? []).some((a) => a.toLowerCase() === f)) return undefined;
    return {
      status: 403,
      code: 'ErrorSendAsDenied',
      message: `The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.`,
    };
  }
}
