import { z } from 'zod';

import { port } from '../../core/config/define';

/**
 * Settings of the local function host only (never set in Azure, where the platform is the host). The
 * function's own settings are functions/config.ts.
 */
export const localHostSettingsSchema = z.object({
  BRIDGE_LOCAL_FUNCTION_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the local function host listens on.'),
  BRIDGE_LOCAL_FUNCTION_PORT: port()
    .default(7071)
    .describe('Port of the local function host (7071, as Functions Core Tools).'),
  BRIDGE_LOCAL_FUNCTION_KEY: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe(
      'Key the local host requires in `x-functions-key` on authLevel function routes, like an Azure function key. Unset: no key check.',
    ),
});

export interface LocalHostSettings {
  host: string;
  port: number;
  functionKey?: string;
}

export function loadLocalHostSettings(env: Record<string, string | undefined>): LocalHostSettings {
  const present = Object.fromEntries(
    Object.keys(localHostSettingsSchema.shape).flatMap((k) => (env[k]?.trim() ? [[k, env[k]]] : [])),
  );
  const s = localHostSettingsSchema.parse(present);
  return {
    host: s.BRIDGE_LOCAL_FUNCTION_HOST,
    port: s.BRIDGE_LOCAL_FUNCTION_PORT,
    ...(s.BRIDGE_LOCAL_FUNCTION_KEY ? { functionKey: s.BRIDGE_LOCAL_FUNCTION_KEY } : {}),
  };
}

/** The process environment; the one place the local host reads it. */
export function localHostEnvironment(): Record<string, string | undefined> {
  return process.env;
}
