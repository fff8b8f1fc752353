import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildEdgeBundle } from '../../../edge-listener/packaging/build-bundle';
import { FakeFunction } from '../../helpers/fake-function';
import { opsEdgeEnv, runCli, startEdge, tempDataDir } from '../cli/edge-process';

describe('single-file build (dist/edge-listener.cjs)', () => {
  let bundle: string;
  let fn: FakeFunction;

  beforeAll(async () => {
    bundle = join(mkdtempSync(join(tmpdir(), 'edge-bundle-')), 'edge-listener.cjs');
    await buildEdgeBundle(bundle);
    fn = await FakeFunction.start();
  });

  afterAll(async () => {
    await fn?.close();
  });

  it('is one executable file that needs only node and prints the CLI help', async () => {
    const text = readFileSync(bundle, 'latin1');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // ASCII only: V8 would keep the whole source at two bytes a character (docs/design/edge-memory.md).
    expect(text.match(/[^\p{ASCII}]/gu) ?? []).toEqual([]);
    // No module resolution from a checkout: run with an empty PATH from a directory without node_modules.
    const r = await runCli(['--help'], {}, [bundle]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: smtp-graph-bridge-edge <command>');
  });

  it('starts the listener, takes a real SMTP message, forwards it and answers /healthz', async () => {
    const env = opsEdgeEnv(fn, tempDataDir());
    const edge = await startEdge(env, [bundle]);
    try {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: edge.smtpPort,
        ignoreTLS: true,
      });
      const info = await transport.sendMail({
        from: 'scanner@contoso.example',
        to: 'alice@contoso.example',
        subject: 'bundle',
        text: 'hello',
      });
      transport.close();
      expect(info.response).toMatch(/^250 2\.0\.0 Ok: sent as (\S+)$/);
      expect([...fn.ids()]).toContain(/sent as (\S+)$/.exec(info.response)![1]);
      const health = await runCli(['health', '--url', `http://127.0.0.1:${edge.httpPort}`], env, [bundle]);
      expect(health.code, health.stderr).toBe(0);
      expect(health.stdout).toMatch(/^200 \{"status":"ok"/);
    } finally {
      expect(await edge.stop()).toBe(0);
    }
    const down = await runCli(['health', '--quiet', '--url', 'http://127.0.0.1:9'], env, [bundle]);
    expect(down.code).toBe(1);
    expect(down.stdout + down.stderr).toBe('');
  });
});
