import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A note the listener leaves in BRIDGE_DATA_DIR when address trust is on and a request to the status page
 * carried a proxy header (Forwarded, X-Forwarded-*, Via): a proxy forwards to this listener, and if it ever
 * drops those headers its visitors would be trusted as this machine. `doctor` reads it and warns.
 */
export interface ProxySeen {
  header: string;
  at: string;
}

const FILE = 'status-proxy-seen.json';

export function recordProxySeen(dataDir: string, header: string, now = new Date()): void {
  const note: ProxySeen = { header, at: now.toISOString() };
  try {
    writeFileSync(join(dataDir, FILE), `${JSON.stringify(note)}\n`, { mode: 0o600 });
  } catch {
    // Advisory only: the warning is also logged (ADMIN_PROXY_HEADER).
  }
}

export function readProxySeen(dataDir: string): ProxySeen | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Partial<ProxySeen>;
    return typeof v.header === 'string' && typeof v.at === 'string'
      ? { header: v.header, at: v.at }
      : undefined;
  } catch {
    return undefined;
  }
}
