import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadEdgeConfig } from '../../../edge-listener/config';

/**
 * No container engine runs on the build machines, so the image is not built here: these checks read the
 * Dockerfile and pin the properties a site relies on. (`docker build -f edge-listener/packaging/Dockerfile .`
 * on a machine with an engine is the real test; docs/edge-install.md.)
 */
const PACKAGING = join(__dirname, '..', '..', '..', 'edge-listener', 'packaging');
const text = readFileSync(join(PACKAGING, 'Dockerfile'), 'utf8');

/** Instructions of the final stage, continuation lines joined, comments dropped. */
function finalStage(dockerfile: string): Array<{ op: string; args: string }> {
  const joined = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const instructions = joined.map((l) => {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(l)!;
    return { op: m[1]!, args: m[2]!.trim() };
  });
  const lastFrom = instructions.map((i) => i.op).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}

describe('edge listener Dockerfile', () => {
  const stage = finalStage(text);
  const args = (op: string) => stage.filter((i) => i.op === op).map((i) => i.args);

  it('runs on a Node 22 base image', () => {
    expect(stage[0]!.args).toMatch(/^node:22(-[a-z0-9-]+)?$/);
  });

  it('runs as a non-root user that owns the spool directory', () => {
    const user = args('USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const chown = args('RUN').join(' ');
    expect(chown).toContain(`chown ${user}:${user} /var/lib/smtp-graph-bridge`);
    // USER comes before the process starts, not just somewhere in the file.
    expect(stage.findIndex((i) => i.op === 'USER')).toBeLessThan(
      stage.findIndex((i) => i.op === 'ENTRYPOINT'),
    );
  });

  /** The image's ENV lines as an environment (KEY=value pairs). */
  const imageEnv = (): Record<string, string> =>
    Object.fromEntries(
      args('ENV')
        .join(' ')
        .split(/\s+/)
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const site = {
    BRIDGE_SITE_ID: 'hq',
    BRIDGE_FUNCTION_URL: 'https://f.example.net',
    BRIDGE_SITE_SECRET: 'x'.repeat(20),
  };

  it('refuses to start without an explicit SMTP client list, even with AUTH required', () => {
    const bare = loadEdgeConfig({ env: { ...imageEnv(), ...site } });
    expect('issues' in bare && bare.issues.join('\n')).toMatch(/BRIDGE_ALLOWED_CLIENTS: required here/);
    const auth = loadEdgeConfig({
      env: {
        ...imageEnv(),
        ...site,
        BRIDGE_SMTP_USERS: `mfp:scrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
        BRIDGE_SMTP_AUTH_REQUIRED: 'true',
      },
    });
    expect('issues' in auth && auth.issues.join('\n')).toMatch(/BRIDGE_ALLOWED_CLIENTS: required here/);
  });

  it('ships with status-page address trust off: every published-port connection may come from loopback', () => {
    const r = loadEdgeConfig({ env: { ...imageEnv(), ...site, BRIDGE_ALLOWED_CLIENTS: '192.168.10.0/24' } });
    if ('issues' in r) throw new Error(r.issues.join('\n'));
    expect(r.config.statusPage.loopbackTrust).toBe(false);
    expect(r.config.smtp.allowedClients).toEqual(['192.168.10.0/24']);
  });

  it('keeps the spool on a volume at BRIDGE_DATA_DIR', () => {
    const env = args('ENV').join(' ');
    const dataDir = /BRIDGE_DATA_DIR=(\S+)/.exec(env)?.[1];
    expect(dataDir).toBe('/var/lib/smtp-graph-bridge');
    expect(JSON.parse(args('VOLUME')[0]!)).toContain(dataDir);
  });

  it('has a HEALTHCHECK that asks the listener itself and an entry point running the single-file build', () => {
    const health = args('HEALTHCHECK')[0]!;
    expect(health).toMatch(/--interval=\d+s/);
    expect(health).toContain('CMD ["node", "/opt/smtp-graph-bridge/edge-listener.cjs", "health", "--quiet"]');
    expect(JSON.parse(args('ENTRYPOINT')[0]!)).toEqual([
      'node',
      '--max-semi-space-size=1',
      '/opt/smtp-graph-bridge/edge-listener.cjs',
    ]);
    expect(JSON.parse(args('CMD').at(-1)!)).toEqual(['start']);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(args('EXPOSE')[0]).toContain('2525');
  });

  it('builds the bundle in a separate stage and sends only what that stage needs', () => {
    expect(text).toMatch(/FROM node:22[^\n]* AS build/);
    expect(text).toContain('edge-listener/packaging/build-bundle.ts');
    const ignore = readFileSync(join(PACKAGING, 'Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignore[ignore.findIndex((l) => !l.startsWith('#'))]).toBe('*');
    expect(ignore).not.toContain('!.data/**');
  });
});
