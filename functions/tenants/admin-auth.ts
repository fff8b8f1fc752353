import { createHash, timingSafeEqual } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';

import { bridgeError } from '../../core/errors';

/**
 * The admin API's own key (BRIDGE_ADMIN_KEY), checked on top of the function key the host checks: every edge
 * holds the function key, so it cannot be what lets someone add sites. The key is a Key Vault secret only the
 * provider's operators read (docs/security-model.md "Admin API"). Unset = the admin API answers 404.
 */
export function checkAdminKey(request: HttpRequest, adminKey: string | undefined, unresolved = false): void {
  if (!adminKey)
    throw bridgeError(
      'ADMIN_DISABLED',
      unresolved
        ? {
            detail:
              'the Key Vault secret of BRIDGE_ADMIN_KEY does not exist yet or may not be read (docs/multi-tenant.md)',
          }
        : {},
    );
  const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (v: string) => createHash('sha256').update(v).digest();
  if (!given || !timingSafeEqual(digest(given), digest(adminKey))) throw bridgeError('ADMIN_UNAUTHORIZED');
}
