import { z } from 'zod';

import { csvList } from '../../core/config/define';
import { Secret } from '../secret';
import { cidrProblem } from '../smtp/client-allow-list';

/**
 * The status page's settings. They are part of the edge listener's one settings schema (config.ts spreads
 * this shape into it), so they come from the same environment or file and appear in docs/config-edge.md;
 * they are defined here, next to the page they govern.
 */
const LOOPBACK_CLIENTS = ['127.0.0.0/8', '::1'];

export const statusPageSettingsShape = {
  BRIDGE_ADMIN_CLIENTS: csvList()
    .superRefine((items, ctx) => {
      for (const item of items) {
        const problem = cidrProblem(item);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    })
    .default(LOOPBACK_CLIENTS)
    .describe(
      'Addresses (CIDR list) that may use the status page and its retry/delete actions without the admin token. Default: this machine only.',
    ),
  BRIDGE_ADMIN_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe(
      'Token that opens the status page and its actions from any address (sent as `Authorization: Bearer`). Secret: environment or BRIDGE_ADMIN_TOKEN_FILE only. Unset: only BRIDGE_ADMIN_CLIENTS get in.',
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

/** Settings that hold secrets (never read from the config file) and their *_FILE variants. */
export const STATUS_PAGE_SECRET_FILES = [['BRIDGE_ADMIN_TOKEN', 'BRIDGE_ADMIN_TOKEN_FILE']] as const;

export interface StatusPageConfig {
  adminClients: string[];
  adminToken?: Secret;
  sandboxUrl?: string;
}

export function statusPageConfig(s: {
  BRIDGE_ADMIN_CLIENTS: string[];
  BRIDGE_ADMIN_TOKEN?: string | undefined;
  BRIDGE_SANDBOX_URL?: string | undefined;
}): StatusPageConfig {
  const out: StatusPageConfig = { adminClients: s.BRIDGE_ADMIN_CLIENTS };
  if (s.BRIDGE_ADMIN_TOKEN) out.adminToken = new Secret(s.BRIDGE_ADMIN_TOKEN);
  if (s.BRIDGE_SANDBOX_URL) out.sandboxUrl = s.BRIDGE_SANDBOX_URL;
  return out;
}

/** What a listener started without these settings (tests that build EdgeConfig by hand) gets. */
export const DEFAULT_STATUS_PAGE_CONFIG: StatusPageConfig = { adminClients: LOOPBACK_CLIENTS };
