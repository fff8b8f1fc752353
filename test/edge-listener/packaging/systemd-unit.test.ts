import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const UNIT = join(
  __dirname,
  '..',
  '..',
  '..',
  'edge-listener',
  'packaging',
  'systemd',
  'smtp-graph-bridge-edge.service',
);

/** Directive values of the [Service] section (repeated directives keep every value). */
function serviceDirectives(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m && section === 'Service') out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    // verify wants the unit under its own name; it also checks that ExecStart's binary exists (/usr/bin/node).
    const dir = mkdtempSync(join(tmpdir(), 'unit-'));
    const copy = join(dir, 'smtp-graph-bridge-edge.service');
    copyFileSync(UNIT, copy);
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect(r.error, 'systemd-analyze missing: apt-get install systemd').toBeUndefined();
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('is rated low exposure by systemd-analyze security', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
    const level = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(out)?.[1]);
    expect(level).toBeLessThanOrEqual(2.5);
  });

  it('runs unprivileged with the spool as its only writable path', () => {
    const d = serviceDirectives();
    const one = (k: string) => d.get(k)?.at(-1);
    expect(one('User')).toBe('smtp-graph-bridge');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_BIND_SERVICE');
    expect(d.get('Environment')).toContain('BRIDGE_DATA_DIR=/var/lib/smtp-graph-bridge');
    expect(one('ReadWritePaths')).toBe('/var/lib/smtp-graph-bridge');
    expect(one('StateDirectory')).toBe('smtp-graph-bridge');
    expect(one('MemoryDenyWriteExecute')).toBeUndefined(); // V8's JIT needs W+X pages
  });

  it('starts the single-file build, stops it with SIGTERM and does not restart on a configuration error', () => {
    const d = serviceDirectives();
    expect(d.get('ExecStart')).toEqual([
      '/usr/bin/node --max-semi-space-size=1 /opt/smtp-graph-bridge/edge-listener.cjs start',
    ]);
    expect(d.get('KillSignal')).toEqual(['SIGTERM']);
    expect(d.get('RestartPreventExitStatus')).toEqual(['2']);
    // The secret arrives as a credential file, not in the environment.
    expect(d.get('Environment')).toContain('BRIDGE_SITE_SECRET_FILE=%d/site-secret');
    expect(d.get('Environment')?.some((e) => e.startsWith('BRIDGE_SITE_SECRET='))).toBe(false);
  });
});
