import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import type { CliContext } from '../cli/config';

/**
 * `npm start` runs the whole bridge with generated secrets and writes what listens where to
 * BRIDGE_DATA_DIR/stack.json (no secrets in it; they are files under BRIDGE_DATA_DIR/secrets). When doctor
 * is run next to it without edge settings of its own (no BRIDGE_FUNCTION_URL, no --config file), it checks
 * that stack: `npm start` in one terminal, `npm run edge -- doctor` in another.
 */
const stackStateSchema = z.looseObject({
  mode: z.string(),
  smtp: z.looseObject({ host: z.string().min(1), port: z.number().int().positive() }),
  functionUrl: z.string().url(),
});

/** The site id `npm start` uses unless BRIDGE_SITE_ID says otherwise (scripts/stack/stack-config.ts). */
const STACK_DEFAULT_SITE = 'local';

export interface LocalStack {
  ctx: CliContext;
  /** Where the settings came from, for the report's head line. */
  source: string;
}

export function localStackContext(ctx: CliContext, dataDir: string): LocalStack | undefined {
  const env = ctx.env;
  if (ctx.configFile !== undefined || nonEmpty(env.BRIDGE_FUNCTION_URL)) return undefined;
  const file = join(dataDir, 'stack.json');
  let state: z.infer<typeof stackStateSchema>;
  try {
    const parsed = stackStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) return undefined;
    state = parsed.data;
  } catch {
    return undefined;
  }
  const secret = (name: string) => join(dataDir, 'secrets', name);
  const stackEnv: Record<string, string | undefined> = {
    ...env,
    BRIDGE_SITE_ID: nonEmpty(env.BRIDGE_SITE_ID) ?? STACK_DEFAULT_SITE,
    BRIDGE_FUNCTION_URL: state.functionUrl,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_SMTP_HOST: state.smtp.host,
    BRIDGE_SMTP_PORT: String(state.smtp.port),
  };
  if (existsSync(secret('site-secret')) && !nonEmpty(env.BRIDGE_SITE_SECRET))
    stackEnv.BRIDGE_SITE_SECRET_FILE = secret('site-secret');
  if (existsSync(secret('function-key')) && !nonEmpty(env.BRIDGE_FUNCTION_KEY))
    stackEnv.BRIDGE_FUNCTION_KEY_FILE = secret('function-key');
  return { ctx: { env: stackEnv }, source: `the running \`npm start\` stack (${state.mode} mode, ${file})` };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
