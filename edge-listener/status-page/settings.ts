import { z } from 'zod';

import { bool } from '../../core/config/define';
import { Secret } from '../secret';

/**
 * The status page's settings. They are part of the edge listener's one settings schema (config.ts spreads
 * this shape into it), so they come from the same environment or file and appear in docs/config-edge.md;
 * they are defined here, next to the page they govern.
 */
export const statusPageSettingsShape = {
  BRIDGE_ADMIN_LOOPBACK_TRUST: bool()
    .default(true)
    .describe(
      'Let a browser on this machine use the status page and its retry/delete actions without the admin token — only when it connects directly (loopback address, loopback Host, no Forwarded/X-Forwarded-*/Via header). Turn off behind a reverse proxy that adds none of those headers, and in containers (the image does). Everyone else needs BRIDGE_ADMIN_TOKEN.',
    ),
  BRIDGE_ADMIN_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe(
      'Token that opens the status page and its actions from any address (sent as `Authorization: Bearer`). Secret: environment or BRIDGE_ADMIN_TOKEN_FILE only. Unset: only a browser on this machine gets in (BRIDGE_ADMIN_LOOPBACK_TRUST).',
    ),
  BRIDGE_ADMIN_TOKEN_FILE: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('File holding the admin token (`npm start` generates one under BRIDGE_DATA_DIR/secrets).'),
  BRIDGE_SANDBOX_URL: z
    .string()
    .trim()
    .refine((v) => /^https:\/\/[^/]+\/?$/i.test(v), 'must be the https:// origin of the Graph sandbox')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional()
    .describe(
      'Origin of the Graph sandbox whose kept messages the status page shows (set by `npm start` in sandbox mode). Unset: live mode.',
    ),
};

/**
 * Settings that no longer exist, with what replaces them: a value set for one is an error, not silently
 * ignored (an admin who set BRIDGE_ADMIN_CLIENTS=10.0.0.0/8 must learn those addresses now need the token).
 */
export const REMOVED_STATUS_PAGE_SETTINGS = {
  BRIDGE_ADMIN_CLIENTS:
    'removed: only a direct connection from this machine is trusted by address now (BRIDGE_ADMIN_LOOPBACK_TRUST); other addresses use the admin token (BRIDGE_ADMIN_TOKEN_FILE)',
} as const;

/** Settings that hold secrets (never read from the config file) and their *_FILE variants. */
export const STATUS_PAGE_SECRET_FILES = [['BRIDGE_ADMIN_TOKEN', 'BRIDGE_ADMIN_TOKEN_FILE']] as const;

export interface StatusPageConfig {
  /** BRIDGE_ADMIN_LOOPBACK_TRUST (admin-access.ts). */
  loopbackTrust: boolean;
  adminToken?: Secret;
  sandboxUrl?: string;
}

export function statusPageConfig(s: {
  BRIDGE_ADMIN_LOOPBACK_TRUST: boolean;
  BRIDGE_ADMIN_TOKEN?: string | undefined;
  BRIDGE_SANDBOX_URL?: string | undefined;
}): StatusPageConfig {
  const out: StatusPageConfig = { loopbackTrust: s.BRIDGE_ADMIN_LOOPBACK_TRUST };
  if (s.BRIDGE_ADMIN_TOKEN) out.adminToken = new Secret(s.BRIDGE_ADMIN_TOKEN);
  if (s.BRIDGE_SANDBOX_URL) out.sandboxUrl = s.BRIDGE_SANDBOX_URL;
  return out;
}

/** What a listener started without these settings (tests that build EdgeConfig by hand) gets. */
export const DEFAULT_STATUS_PAGE_CONFIG: StatusPageConfig = { loopbackTrust: true };
