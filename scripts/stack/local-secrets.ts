import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secrets that wire the local stack together, generated on the first start and kept under
 * BRIDGE_DATA_DIR/secrets (directory 0700, files 0600), so a restart keeps the same ones: the spool's
 * messages stay signable and the admin's saved token keeps working. They are handed to the processes as
 * files or in their environment, never printed; the banner shows the admin token's path only.
 */
export interface LocalSecrets {
  dir: string;
  /** HMAC secret shared by the edge listener and the function (BRIDGE_SITE_SECRET / BRIDGE_SITE_SECRETS). */
  siteSecretFile: string;
  /** Key the local function host requires in x-functions-key. */
  functionKeyFile: string;
  /** Token for the status page's actions from addresses that are not allowed by themselves. */
  adminTokenFile: string;
  read(file: string): string;
}

const NAMES = {
  siteSecretFile: 'site-secret',
  functionKeyFile: 'function-key',
  adminTokenFile: 'admin-token',
} as const;

export function ensureLocalSecrets(dataDir: string): LocalSecrets {
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = Object.fromEntries(
    Object.entries(NAMES).map(([key, name]) => [key, ensureSecretFile(join(dir, name))]),
  ) as Record<keyof typeof NAMES, string>;
  return { dir, ...files, read: (file) => readFileSync(file, 'utf8').trim() };
}

function ensureSecretFile(path: string): string {
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch {
    // first start
  }
  // 32 random bytes: far above the 16-character minimum the edge and the function enforce.
  if (existing.length < 16)
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // also tightens a file someone copied in with looser permissions
  return path;
}
