import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { StatusSnapshot } from '../../edge-listener/status-page/status-snapshot';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { freeStablePort } from '../helpers/azurite';
import { spoolIdFromTranscript, swaks } from '../helpers/swaks';
import { requireTool } from '../helpers/tool-groups';
import { accepts, alive, REPO_ROOT, stackEnv, type StackProcess, startStackProcess } from './stack-process';

/**
 * The newcomer's path, end to end with every process real: `npm start` in sandbox mode (Azurite, Graph
 * sandbox, function host, edge listener as child processes), a message with an attachment sent with swaks,
 * seen in the sandbox and on the status page; Ctrl-C leaves nothing running, and so does killing the stack;
 * a message spooled while the function could not answer goes out after the next start, once.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'stack-e2e-'));
const work = mkdtempSync(join(tmpdir(), 'stack-e2e-files-'));
let env: Record<string, string>;
let stack: StackProcess | undefined;

beforeAll(async () => {
  env = stackEnv({
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_SMTP_HOST: '127.0.0.1',
    // The same ports again after the restarts below.
    BRIDGE_SMTP_PORT: String(await freeStablePort()),
    BRIDGE_HTTP_PORT: String(await freeStablePort()),
    // Short waits, so a message the function does not answer is spooled and retried within the test.
    BRIDGE_FORWARD_BUDGET_MS: '300ms',
    BRIDGE_FORWARD_TIMEOUT_MS: '1s',
    BRIDGE_RETRY_SCHEDULE: '500ms',
    BRIDGE_RETRY_JITTER: '0',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2s',
  });
});
afterAll(async () => {
  await stack?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const statusUrl = () => stack?.state.statusUrl ?? '';
async function snapshot(): Promise<StatusSnapshot> {
  const res = await fetch(`${statusUrl()}status/api/snapshot`);
  return (await res.json()) as StatusSnapshot;
}
const secretValues = () =>
  readdirSync(join(dataDir, 'secrets')).map((name) =>
    readFileSync(join(dataDir, 'secrets', name), 'utf8').trim(),
  );
const keptOnDisk = (subject: string) =>
  readdirSync(join(dataDir, 'graph-sandbox'))
    .filter((d) => !d.startsWith('.') && d !== 'tls')
    .map((d) => ({
      dir: join(dataDir, 'graph-sandbox', d),
      summary: JSON.parse(readFileSync(join(dataDir, 'graph-sandbox', d, 'summary.json'), 'utf8')) as {
        subject: string;
      },
    }))
    .filter((m) => m.summary.subject === subject);

describe('npm start', () => {
  it('is the script npm runs', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('tsx scripts/start-stack.ts');
  });

  it('starts the whole bridge in sandbox mode and says where SMTP and the status page listen', async () => {
    stack = await startStackProcess(dataDir, env);
    const out = stack.output();
    expect(out).toContain('SANDBOX MODE — nothing leaves this machine');
    expect(out).toContain(`SMTP           127.0.0.1:${env.BRIDGE_SMTP_PORT}`);
    expect(out).toContain(`Status page    http://127.0.0.1:${env.BRIDGE_HTTP_PORT}/`);
    expect(out).toContain('BRIDGE_ALLOWED_SENDERS=* (sandbox default');
    expect(out).toContain(join(dataDir, 'secrets', 'admin-token'));
    expect(stack.state.children.map((c) => c.name)).toEqual(['azurite', 'sandbox', 'function', 'edge']);
  }, 120_000);

  it('delivers a swaks message with an attachment to the sandbox and shows it on the status page', async (ctx) => {
    requireTool(ctx, 'swaks');
    const attachment = join(work, 'scan-0001.pdf');
    const pdf = Buffer.from('%PDF-1.4\n% a scanned page\n');
    writeFileSync(attachment, pdf);
    const { code, transcript } = await swaks(Number(env.BRIDGE_SMTP_PORT), [
      '--from',
      'copier@branch.example',
      '--to',
      'alice@example.com',
      '--header',
      'Subject: Scan from the stack test',
      '--body',
      'Scanned on the 3rd floor.',
      '--attach-type',
      'application/pdf',
      '--attach',
      attachment,
    ]);
    expect(code, transcript).toBe(0);
    const id = spoolIdFromTranscript(transcript);

    const snap = await vi.waitFor(async () => {
      const s = await snapshot();
      expect(s.recent.find((e) => e.id === id)?.cloud?.kind).toBe('state');
      expect(s.sandbox?.messages.length).toBeGreaterThan(0);
      return s;
    }, 15_000);
    expect(snap.mode).toBe('sandbox');
    expect(snap.recent.find((e) => e.id === id)).toMatchObject({
      outcome: 'sent',
      subject: 'Scan from the stack test',
      cloud: { kind: 'state', state: 'sent', sender: 'copier@branch.example' },
    });
    const kept = snap.sandbox?.messages.find((m) => m.subject === 'Scan from the stack test');
    expect(kept).toMatchObject({
      mailbox: 'copier@branch.example',
      to: ['alice@example.com'],
      attachments: [{ n: 1, name: 'scan-0001.pdf', size: pdf.length }],
    });

    // The sandbox keeps the Graph request, the .eml and the attachment on disk too.
    const [onDisk] = keptOnDisk('Scan from the stack test');
    expect(readFileSync(join(onDisk!.dir, 'message.eml'), 'utf8')).toContain('Scanned on the 3rd floor.');
    expect(readFileSync(join(onDisk!.dir, 'attachments', '1-scan-0001.pdf'))).toEqual(pdf);
    expect(JSON.parse(readFileSync(join(onDisk!.dir, 'request.json'), 'utf8'))[0]).toMatchObject({
      route: 'sendMail',
      method: 'POST',
    });
  }, 60_000);

  it('keeps its generated secrets in 0600 files and never prints or logs them', () => {
    expect(statSync(join(dataDir, 'secrets')).mode & 0o777).toBe(0o700);
    for (const name of ['site-secret', 'function-key', 'admin-token'])
      expect(statSync(join(dataDir, 'secrets', name)).mode & 0o777).toBe(0o600);
    const logs = readdirSync(join(dataDir, 'logs'))
      .map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8'))
      .join('\n');
    for (const secret of secretValues()) {
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(stack?.output()).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  it('stops every process on Ctrl-C and frees the ports', async () => {
    const { children, smtp } = stack!.state;
    expect(children.every((c) => alive(c.pid))).toBe(true);
    expect(await stack!.stop('SIGINT')).toBe(0);
    expect(stack!.output()).toContain('Stopped. Messages still in the spool are sent on the next start.');
    await vi.waitFor(() => expect(children.filter((c) => alive(c.pid))).toEqual([]), 5000);
    expect(await accepts(smtp.port)).toBe(false);
    expect(await accepts(Number(env.BRIDGE_HTTP_PORT))).toBe(false);
    expect(readdirSync(dataDir)).not.toContain('stack.json');
  }, 60_000);

  it('stops its processes when it is killed itself, and the next start sends what the spool kept, once', async () => {
    const secretsBefore = secretValues();
    stack = await startStackProcess(dataDir, env);
    expect(secretValues()).toEqual(secretsBefore); // generated once, kept
    const { children } = stack.state;
    const fnHost = children.find((c) => c.name === 'function')!;
    // The function hangs (stopped): the edge times out, keeps the message and retries with backoff.
    process.kill(fnHost.pid, 'SIGSTOP');
    let id = '';
    try {
      // nodemailer, not swaks: this story must run on a machine without the optional tools too. Plain
      // SMTP like swaks without --tls: the stack's STARTTLS certificate is its own, not the test run's.
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: stack.state.smtp.port,
        ignoreTLS: true,
      });
      const info = await transport.sendMail({
        from: 'copier@branch.example',
        to: 'bob@example.com',
        subject: 'Spooled across a restart',
        text: 'x',
      });
      id = idFromReply(info.response);
      const waiting = await vi.waitFor(async () => {
        const s = await snapshot();
        expect(s.waiting.find((e) => e.id === id)?.state).toBe('deferred');
        return s;
      }, 15_000);
      expect(waiting.waiting.find((e) => e.id === id)?.error?.code).toBe('FUNCTION_UNREACHABLE');

      // The stack dies without a chance to clean up; its children notice and stop by themselves.
      expect(await stack.stop('SIGKILL')).toBeNull();
      const others = children.filter((c) => c !== fnHost);
      await vi.waitFor(() => expect(others.filter((c) => alive(c.pid))).toEqual([]), 30_000);
    } finally {
      // A stopped process cannot stop itself; it never handled the request it was sent.
      process.kill(fnHost.pid, 'SIGKILL');
    }
    // Give the kill up to 5 s to land, then go on either way (as before: a zombie nobody reaps still
    // answers kill(pid, 0), and this is not what the test is about).
    await vi.waitFor(() => expect(alive(fnHost.pid)).toBe(false), 5000).catch(() => undefined);

    stack = await startStackProcess(dataDir, env);
    const done = await vi.waitFor(async () => {
      const s = await snapshot();
      expect(s.recent.find((e) => e.id === id)?.outcome).toBe('sent');
      return s;
    }, 20_000);
    expect(done.waiting.find((e) => e.id === id)).toBeUndefined();
    expect(done.recent.find((e) => e.id === id)).toMatchObject({
      state: 'done',
      outcome: 'sent',
      cloud: expect.anything(),
    });
    expect(keptOnDisk('Spooled across a restart')).toHaveLength(1);
  }, 180_000);

  it('stops everything, pointing at the log, when one of its processes dies', async () => {
    const { children } = stack!.state;
    process.kill(children.find((c) => c.name === 'sandbox')!.pid, 'SIGKILL');
    expect(await stack!.stop('SIGCONT')).toBe(1); // a harmless signal: the stack stops on its own
    expect(stack!.output()).toContain(
      `sandbox exited on its own (SIGKILL); see ${join(dataDir, 'logs')}/sandbox.log`,
    );
    await vi.waitFor(() => expect(children.filter((c) => alive(c.pid))).toEqual([]), 10_000);
  }, 60_000);
});
