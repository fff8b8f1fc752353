import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { loadEdgeConfig } from '../../../edge-listener/config';
import { type EdgeListener, startEdgeListener } from '../../../edge-listener/edge';
import { hashPassword } from '../../../edge-listener/smtp/password-hash';
import { edgeEnv } from '../../helpers/edge-env';
import { FakeFunction } from '../../helpers/fake-function';
import { tempDataDir } from '../cli/edge-process';

type Samples = Map<string, number>;

/** Parses the text format strictly enough to catch a malformed exposition: every sample needs its TYPE. */
function parseExposition(text: string): { samples: Samples; types: Map<string, string> } {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const family = m![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m![1]!) || types.get(family) === 'histogram', `no TYPE for ${line}`).toBe(true);
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return { samples, types };
}

async function scrape(port: number): Promise<Samples> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text()).samples;
}

describe('GET /metrics and /healthz after real SMTP traffic', () => {
  let fn: FakeFunction;
  let listener: EdgeListener;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    fn = await FakeFunction.start();
    const users = `copier:${await hashPassword('right-password', 10)}`;
    const env = edgeEnv(fn, tempDataDir(), {
      BRIDGE_RETRY_SCHEDULE: '1h',
      BRIDGE_SMTP_USERS: users,
      BRIDGE_SMTP_AUTH_ALLOW_PLAINTEXT: 'true',
      BRIDGE_SMTP_ALLOWED_SENDERS: '*@contoso.example',
    });
    const loaded = loadEdgeConfig({ env });
    if (!('config' in loaded)) throw new Error(loaded.issues.join('; '));
    listener = await startEdgeListener(loaded.config, { logger: memoryLogger(lines) });
  });

  afterAll(async () => {
    await listener?.close();
    await fn?.close();
  });

  const send = (opts: { from?: string; pass?: string } = {}) =>
    nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: listener.smtpPort,
        ignoreTLS: true,
        ...(opts.pass ? { auth: { user: 'copier', pass: opts.pass } } : {}),
      })
      .sendMail({
        from: opts.from ?? 'scanner@contoso.example',
        to: 'alice@contoso.example',
        subject: 'scan',
        text: 'x'.repeat(1000),
      });

  it('starts with every outcome series at zero', async () => {
    const s = await scrape(listener.httpPort!);
    for (const outcome of ['sent', 'queued', 'deferred', 'rejected', 'failed'])
      expect(s.get(`bridge_edge_forward_outcomes_total{outcome="${outcome}"}`)).toBe(0);
    expect(s.get('bridge_edge_messages_accepted_total')).toBe(0);
    expect(s.get('bridge_edge_info{instance="test-edge",site="site-1"}')).toBe(1);
  });

  it('counts accepted and sent messages, connections, refusals, auth failures and forward latency', async () => {
    await send();
    await send({ pass: 'right-password' });
    await expect(send({ pass: 'wrong-password' })).rejects.toMatchObject({ responseCode: 535 });
    await expect(send({ from: 'intruder@elsewhere.example' })).rejects.toMatchObject({ responseCode: 550 });

    const s = await scrape(listener.httpPort!);
    expect(s.get('bridge_edge_messages_accepted_total')).toBe(2);
    expect(s.get('bridge_edge_accepted_bytes_total')).toBeGreaterThan(2000);
    expect(s.get('bridge_edge_forward_outcomes_total{outcome="sent"}')).toBe(2);
    expect(s.get('bridge_edge_smtp_connections_total')).toBe(4);
    expect(s.get('bridge_edge_smtp_auth_failures_total')).toBe(1);
    expect(s.get('bridge_edge_smtp_refused_total{code="SMTP_AUTH_FAILED",stage="auth"}')).toBe(1);
    expect(s.get('bridge_edge_smtp_refused_total{code="ENVELOPE_SENDER_NOT_ALLOWED",stage="mail"}')).toBe(1);
    expect(s.get('bridge_edge_smtp_data_replies_total{class="2xx"}')).toBe(2);
    expect(s.get('bridge_edge_forward_duration_seconds_count')).toBe(2);
    expect(s.get('bridge_edge_forward_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(s.get('bridge_edge_forward_duration_seconds_sum')).toBeGreaterThan(0);
    expect(s.get('bridge_edge_spool_messages{state="done"}')).toBe(2);
    expect(s.get('bridge_edge_function_last_answer_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('shows a held message in the spool gauges and an unreachable function in /healthz, which stays 200', async () => {
    fn.script = () => ({ kind: 'retry', status: 503 });
    const info = await send();
    expect(info.response).toMatch(/queued as/);
    await new Promise((r) => setTimeout(r, 20));
    const s = await scrape(listener.httpPort!);
    expect(s.get('bridge_edge_forward_outcomes_total{outcome="deferred"}')).toBe(1);
    expect(s.get('bridge_edge_spool_messages{state="deferred"}')).toBe(1);
    expect(s.get('bridge_edge_spool_bytes')).toBeGreaterThan(1000);
    expect(s.get('bridge_edge_spool_oldest_waiting_age_seconds')).toBeGreaterThan(0);
    expect(s.get('bridge_edge_function_consecutive_failures')).toBe(1);

    const res = await fetch(`http://127.0.0.1:${listener.httpPort}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      spoolWritable: { writable: boolean };
      function: { status: string; lastFailureCode: string; lastAnswerAt: string };
    };
    expect(body.status).toBe('ok');
    expect(body.spoolWritable.writable).toBe(true);
    expect(body.function).toMatchObject({ status: 'unreachable', lastFailureCode: 'FUNCTION_UNREACHABLE' });
    expect(Date.parse(body.function.lastAnswerAt)).toBeGreaterThan(0);
    fn.script = () => ({ kind: 'sent' });
  });
});

describe('/healthz when the spool cannot be written', () => {
  it('answers 503 with the errno of the failed write probe', async () => {
    const fn = await FakeFunction.start();
    const dataDir = tempDataDir();
    const loaded = loadEdgeConfig({ env: edgeEnv(fn, dataDir) });
    if (!('config' in loaded)) throw new Error(loaded.issues.join('; '));
    const listener = await startEdgeListener(loaded.config);
    try {
      // The spool's tmp/ turned into something unusable (as root, permissions would not stop the write).
      const tmp = join(dataDir, 'spool', 'tmp');
      rmSync(tmp, { recursive: true });
      writeFileSync(tmp, '');
      const res = await fetch(`http://127.0.0.1:${listener.httpPort}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        status: string;
        spoolWritable: { writable: boolean; error: string };
      };
      expect(body.status).toBe('degraded');
      expect(body.spoolWritable).toMatchObject({ writable: false, error: 'ENOTDIR' });
    } finally {
      await listener.close();
      await fn.close();
    }
  });
});
