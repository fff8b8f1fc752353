import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentOwner, ownerAlive, type ProcessOwner } from '../../core/process-alive';

/**
 * How the CLI finds the running listener's admin API: `<BRIDGE_DATA_DIR>/admin.json`, written by the
 * listener once its HTTP server listens, readable only by the service account (mode 0600). Whoever can read
 * it can already change the spool on disk, so the file's permissions are the authorisation, as with
 * Postfix's postqueue and its queue directory. The token is new on every start.
 */
export interface AdminEndpoint extends ProcessOwner {
  url: string;
  token: string;
  startedAt: string;
}

export const ADMIN_ENDPOINT_FILE = 'admin.json';

export const newAdminToken = (): string => randomBytes(32).toString('base64url');

/** The URL a local client uses for a server bound to `bindHost` (a wildcard means loopback). */
export function localUrl(bindHost: string, port: number): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return `http://127.0.0.1:${port}`;
  if (bindHost === '::') return `http://[::1]:${port}`;
  return bindHost.includes(':') ? `http://[${bindHost}]:${port}` : `http://${bindHost}:${port}`;
}

export async function publishAdminEndpoint(
  dataDir: string,
  endpoint: Omit<AdminEndpoint, keyof ProcessOwner | 'startedAt'>,
): Promise<void> {
  const full: AdminEndpoint = {
    ...currentOwner(),
    startedAt: new Date().toISOString(),
    ...endpoint,
  };
  const path = join(dataDir, ADMIN_ENDPOINT_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(full), { mode: 0o600 });
  await rename(tmp, path);
}

/** The endpoint of a listener that is running now, or undefined (no file, or its process is gone). */
export async function runningAdminEndpoint(dataDir: string): Promise<AdminEndpoint | undefined> {
  let value: Partial<AdminEndpoint>;
  try {
    value = JSON.parse(await readFile(join(dataDir, ADMIN_ENDPOINT_FILE), 'utf8')) as Partial<AdminEndpoint>;
  } catch {
    return undefined;
  }
  if (typeof value.pid !== 'number' || typeof value.url !== 'string' || typeof value.token !== 'string')
    return undefined;
  if (!ownerAlive({ ...value, pid: value.pid, host: value.host ?? '' })) return undefined;
  return value as AdminEndpoint;
}
