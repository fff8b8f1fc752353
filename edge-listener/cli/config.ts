import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { edgeSettingsSchema, type LoadResult, loadEdgeConfig } from '../config';

/**
 * The CLI's view of the environment — the one place in cli/ that reads process.env (house rule: only
 * config modules do). Queue commands need nothing but the data directory, so they work from an admin shell
 * that lacks the listener's secrets; `config check`, `start`, `send-test` and `health` load the full config.
 */
export interface CliContext {
  env: Record<string, string | undefined>;
  /** --config FILE, else $BRIDGE_CONFIG_FILE. */
  configFile?: string;
}

export function cliContext(configFile: string | undefined): CliContext {
  const file = configFile ?? nonEmpty(process.env.BRIDGE_CONFIG_FILE);
  return file === undefined ? { env: process.env } : { env: process.env, configFile: file };
}

export function loadFullConfig(ctx: CliContext): LoadResult {
  return loadEdgeConfig(
    ctx.configFile === undefined ? { env: ctx.env } : { env: ctx.env, file: ctx.configFile },
  );
}

/** BRIDGE_DATA_DIR from --data-dir, the environment, the config file, or the schema default — in that order. */
export function resolveDataDir(ctx: CliContext, override: string | undefined): string {
  if (override) return resolve(override);
  const fromEnv = nonEmpty(ctx.env.BRIDGE_DATA_DIR);
  if (fromEnv) return resolve(fromEnv);
  if (ctx.configFile) {
    try {
      const fromFile = (JSON.parse(readFileSync(ctx.configFile, 'utf8')) as Record<string, unknown>)
        .BRIDGE_DATA_DIR;
      if (typeof fromFile === 'string' && fromFile.trim()) return resolve(fromFile);
    } catch {
      // an unreadable file is reported by `config check`; the default applies here
    }
  }
  return resolve(edgeSettingsSchema.shape.BRIDGE_DATA_DIR.parse(undefined));
}

/** A password for send-test taken from a named environment variable (never from the command line). */
export function envValue(ctx: CliContext, name: string): string | undefined {
  return nonEmpty(ctx.env[name]);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
