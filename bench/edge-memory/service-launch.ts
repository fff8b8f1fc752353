import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How the service starts the listener, read from the shipped systemd unit so the benchmark measures the process
 * the way sites run it: the node flags of ExecStart (between the node binary and the bundle) and the unit's
 * plain Environment= settings. The Dockerfile and the Windows service pass the same flags
 * (test/edge-listener/packaging checks them against the unit).
 */
export const UNIT_FILE = join(
  __dirname,
  '..',
  '..',
  'edge-listener',
  'packaging',
  'systemd',
  'smtp-graph-bridge-edge.service',
);

export interface ServiceLaunch {
  nodeFlags: string[];
  /** Environment= settings that do not name a service path (%d credentials, the state directory). */
  env: Record<string, string>;
}

export function serviceLaunch(unitText: string = readFileSync(UNIT_FILE, 'utf8')): ServiceLaunch {
  const exec = /^ExecStart=(\S+)\s+(.*)$/m.exec(unitText);
  if (!exec) throw new Error('no ExecStart in the unit');
  const words = exec[2]!.trim().split(/\s+/);
  const bundleAt = words.findIndex((w) => w.endsWith('.cjs'));
  if (bundleAt < 0) throw new Error(`ExecStart does not run the bundle: ${exec[0]}`);
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=([A-Z0-9_]+)=(.*)$/gm)) {
    const [, key, value] = m;
    if (value!.includes('%') || value!.startsWith('/')) continue;
    env[key!] = value!;
  }
  return { nodeFlags: words.slice(0, bundleAt), env };
}
