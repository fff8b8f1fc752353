import { existsSync } from 'node:fs';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { SpoolEntry } from '../../../edge-listener/spool/entry';
import { FakeFunction } from '../../helpers/fake-function';
import { opsEdgeEnv, runCli, type RunningEdge, startEdge, tempDataDir } from './edge-process';

/** Waits whose check runs the CLI (a node process each): room for a slow, shared machine. */
const CLI_WAIT_MS = 30_000;

const listJson = async (
  env: Record<string, string>,
  state = 'queued,deferred,failed,done',
): Promise<SpoolEntry[]> => {
  const r = await runCli(['queue', 'list', '--json', '--state', state], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SpoolEntry[];
};

describe('queue commands against a running listener', () => {
  let fn: FakeFunction;
  let edge: RunningEdge;
  let env: Record<string, string>;
  let ids: string[] = [];

  beforeAll(async () => {
    fn = await FakeFunction.start({ script: () => ({ kind: 'retry', status: 503 }) });
    env = opsEdgeEnv(fn, tempDataDir(), { BRIDGE_SPOOL_MIN_FREE_BYTES: '0' });
    edge = await startEdge(env);
    ids = [];
    for (const subject of ['first', 'second']) {
      const r = await runCli(
        [
          'send-test',
          '--to',
          'alice@contoso.example',
          '--from',
          'scanner@contoso.example',
          '--subject',
          subject,
          '--host',
          '127.0.0.1',
          '--port',
          String(edge.smtpPort),
        ],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^250 2\.0\.0 Ok: queued as \S+/);
      ids.push(/spool id: (\S+)/.exec(r.stdout)![1]!);
    }
  });

  afterAll(async () => {
    await edge?.stop();
    await fn?.close();
  });

  it('lists the waiting messages from disk while the listener holds the spool lock', async () => {
    const entries = await listJson(env, 'queued,deferred,failed');
    expect(entries.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(entries.every((e) => e.state === 'deferred' && e.lastError?.code === 'FUNCTION_UNREACHABLE')).toBe(
      true,
    );
    const table = await runCli(['queue', 'list'], env);
    expect(table.stdout).toContain('LAST ERROR');
    expect(table.stdout).toContain(ids[0]);
  });

  it('shows one message with its envelope, last error and hint, never its body', async () => {
    const r = await runCli(['queue', 'show', ids[0]!], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rcpt to:      alice@contoso.example');
    expect(r.stdout).toMatch(/last error: +FUNCTION_UNREACHABLE \(451 4\.4\.1\)/);
    expect(r.stdout).toContain('hint:');
    expect(r.stdout).not.toContain('Test message sent by');
    const missing = await runCli(['queue', 'show', '01m8fgdsc9-ops-test-aaaaaaaaaaaaaaaa'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No message');
  });

  it('retries one message through the listener, which forwards it at once and logs ADMIN_ACTION', async () => {
    fn.script = () => ({ kind: 'sent' });
    const r = await runCli(['queue', 'retry', ids[0]!], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(via listener)');
    await vi.waitFor(async () => {
      expect(await listJson(env, 'done')).toContainEqual(
        expect.objectContaining({ id: ids[0], outcome: 'sent' }),
      );
    }, CLI_WAIT_MS);
    expect(fn.byId(ids[0]!)).toHaveLength(2);
    // Log lines arrive through the child's stdout pipe, possibly after the HTTP answer.
    await vi.waitFor(() => {
      expect(edge.logs).toContainEqual(
        expect.objectContaining({ event: 'ADMIN_ACTION', action: 'retry', mid: ids[0], via: 'admin-api' }),
      );
    }, 10_000);
  });

  it('deletes a message through the listener and says so when the id is unknown', async () => {
    const r = await runCli(['queue', 'delete', ids[1]!], env);
    expect(r.code, r.stderr).toBe(0);
    expect((await listJson(env, 'queued,deferred,failed')).map((e) => e.id)).not.toContain(ids[1]);
    expect(existsSync(join(env.BRIDGE_DATA_DIR!, 'spool', 'messages', `${ids[1]}.eml`))).toBe(false);
    await vi.waitFor(() => {
      expect(edge.logs).toContainEqual(
        expect.objectContaining({ event: 'ADMIN_ACTION', action: 'delete', mid: ids[1] }),
      );
    }, 10_000);
    const again = await runCli(['queue', 'delete', ids[1]!], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('delete failed');
  });

  it('refuses admin requests that lack the token', async () => {
    const res = await fetch(`http://127.0.0.1:${edge.httpPort}/admin/v1/queue/retry?all-failed=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong' },
    });
    expect(res.status).toBe(401);
    await vi.waitFor(() => {
      expect(edge.logs).toContainEqual(
        expect.objectContaining({ event: 'ADMIN_ACTION', outcome: 'bad-token' }),
      );
    }, 10_000);
  });
});

describe('queue commands on failed messages and without a listener', () => {
  it('retries every failed message with --all-failed, and acts directly on the spool when no listener runs', async () => {
    const fn = await FakeFunction.start({ script: () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED' }) });
    // Budget 0: the device gets its 250 before the function's rejection, so the message ends failed in the spool.
    const env = opsEdgeEnv(fn, tempDataDir(), {
      BRIDGE_SPOOL_MIN_FREE_BYTES: '0',
      BRIDGE_FORWARD_BUDGET_MS: '0',
    });
    const edge = await startEdge(env);
    try {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: edge.smtpPort,
        ignoreTLS: true,
      });
      for (let i = 0; i < 3; i++) {
        const info = await transport.sendMail({
          from: 'scanner@contoso.example',
          to: 'bob@contoso.example',
          subject: `scan ${i}`,
          text: 'x',
        });
        expect(info.response).toMatch(/^250 /);
      }
      transport.close();
      await vi.waitFor(async () => expect(await listJson(env, 'failed')).toHaveLength(3), CLI_WAIT_MS);
      const failed = await listJson(env, 'failed');
      expect(failed.every((e) => e.lastError?.code === 'SENDER_NOT_ALLOWED')).toBe(true);

      fn.script = () => ({ kind: 'sent' });
      const r = await runCli(['queue', 'retry', '--all-failed'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Retrying 3 message(s) (via listener)');
      await vi.waitFor(async () => {
        expect((await listJson(env, 'done')).filter((e) => e.outcome === 'sent')).toHaveLength(3);
      }, CLI_WAIT_MS);
    } finally {
      expect(await edge.stop()).toBe(0);
    }

    // No listener now: a fresh failed message is acted on with the spool opened by the CLI itself.
    fn.script = () => ({ kind: 'reject', code: 'SENDER_NOT_ALLOWED' });
    const again = await startEdge(env);
    const sent = await runCli(
      ['send-test', '--to', 'carol@contoso.example', '--host', '127.0.0.1', '--port', String(again.smtpPort)],
      env,
    );
    const id = /spool id: (\S+)/.exec(sent.stdout)![1]!;
    await vi.waitFor(async () => {
      expect((await listJson(env, 'failed')).map((e) => e.id)).toContain(id);
    }, CLI_WAIT_MS);
    expect(await again.stop()).toBe(0);
    await fn.close();
    const del = await runCli(['queue', 'delete', id], env);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain('(via direct)');
    const logged = del.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      logged.some(
        (l) => l.event === 'ADMIN_ACTION' && l.action === 'delete' && l.mid === id && l.via === 'cli-direct',
      ),
    ).toBe(true);
    expect(await listJson(env, 'failed')).toEqual([]);
  }, 120_000); // some fifteen CLI and listener processes, each a node start
});
