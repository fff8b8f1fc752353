import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { SandboxMessage } from '../../dev/graph-sandbox/options';
import { smtpTransport, startE2eEdge, type E2eEdge } from '../helpers/e2e-edge';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { deliveredTo, startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';
import { serverReplies, swaks } from '../helpers/swaks';
import { requireTool } from '../helpers/tool-groups';

/**
 * Copier to Graph with every real part in between: nodemailer and swaks → the edge listener (in-process,
 * durable spool, forwarder) → signed HTTP → the local function host (real handlers, Azurite, queue trigger)
 * → the Graph sandbox over https. Each case asserts on what reached the fake Graph, and on what the SMTP
 * client was told.
 */

const SENDER = 'scanner@contoso.com';
const MB = 1_000_000;
const RUN = randomBytes(3).toString('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let stack: FunctionStack;
let edge: E2eEdge;
let tmp = '';

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'e2e-edge-graph-'));
  stack = await startFunctionStack('e2eedge', {
    settings: {
      // No BRIDGE_DEFAULT_SENDER: a From outside contoso.com is refused, never sent as someone else.
      BRIDGE_ALLOWED_SENDERS: '*@contoso.com',
      BRIDGE_MAX_MESSAGE_BYTES: '50MiB',
    },
  });
  // A 30 MB scan is ~41 MB of MIME (base64): the site raised its size limit to match the mailbox's.
  edge = await startE2eEdge(stack, { BRIDGE_MAX_MESSAGE_BYTES: '50MiB' });
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await stack?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The kept messages with this subject (each case uses its own). */
const bySubject = (subject: string) => stack.graph.messages().filter((m) => m.subject === subject);

async function deliveredOnce(subject: string, timeoutMs = 20_000): Promise<SandboxMessage> {
  const found = await vi.waitFor(() => {
    const l = bySubject(subject);
    expect(l, `"${subject}" at Graph`).not.toHaveLength(0);
    return l;
  }, timeoutMs);
  expect(found, `"${subject}" at Graph`).toHaveLength(1);
  return found[0] as SandboxMessage;
}

describe('SMTP clients through the edge listener and the function to Graph', () => {
  it('delivers a plain nodemailer message with the envelope as its recipients and tells the client its spool id', async () => {
    const subject = `Plain ${RUN}`;
    const info = await smtpTransport(edge.smtpPort).sendMail({
      from: `Scanner <${SENDER}>`,
      to: 'alice@fabrikam.com',
      cc: 'carol@fabrikam.com',
      subject,
      text: 'Scanned on floor 3.',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 .*sent as \S+$/);
    const id = idFromReply(info.response);
    const m = await deliveredOnce(subject);
    expect(m).toMatchObject({ mailbox: SENDER, from: SENDER, via: 'sendMail', format: 'json' });
    expect({ to: m.to, cc: m.cc, bcc: m.bcc }).toEqual({
      to: ['alice@fabrikam.com'],
      cc: ['carol@fabrikam.com'],
      bcc: [],
    });
    expect(m.body.content).toContain('Scanned on floor 3.');
    expect((await edge.listener.spool.get(id))?.state).toBe('done');
  });

  it('delivers a swaks message the same way', async (ctx) => {
    requireTool(ctx, 'swaks');
    const subject = `Swaks ${RUN}`;
    const { code, transcript } = await swaks(edge.smtpPort, [
      '--from',
      SENDER,
      '--to',
      'dave@fabrikam.com',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'from swaks',
    ]);
    expect(code, transcript).toBe(0);
    expect(serverReplies(transcript).some((r) => /^250 2\.0\.0 .*sent as \S+$/.test(r))).toBe(true);
    const m = await deliveredOnce(subject);
    expect(deliveredTo(m)).toEqual(['dave@fabrikam.com']);
    expect(m.body.content).toContain('from swaks');
  });

  it('delivers a file attachment and an inline image byte for byte, the image under its content id', async () => {
    const subject = `Attachments ${RUN}`;
    const pdf = randomBytes(200_000);
    const png = randomBytes(20_000);
    await smtpTransport(edge.smtpPort).sendMail({
      from: SENDER,
      to: 'alice@fabrikam.com',
      subject,
      html: '<p>See the scan.</p><img src="cid:logo-e2e@contoso.com">',
      attachments: [
        { filename: 'scan 0001.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'logo.png', content: png, contentType: 'image/png', cid: 'logo-e2e@contoso.com' },
      ],
    });
    const m = await deliveredOnce(subject);
    expect(m.body.contentType).toBe('html');
    expect(m.body.content).toContain('cid:logo-e2e@contoso.com');
    // MIME order: nodemailer puts the inline image beside the HTML (multipart/related), the PDF after it.
    const summary = m.attachments.map(({ name, contentType, sha256: sha, size, isInline, contentId }) => ({
      name,
      contentType,
      sha,
      size,
      isInline,
      contentId,
    }));
    expect(summary).toEqual([
      {
        name: 'logo.png',
        contentType: 'image/png',
        sha: sha256(png),
        size: png.length,
        isInline: true,
        contentId: 'logo-e2e@contoso.com',
      },
      {
        name: 'scan 0001.pdf',
        contentType: 'application/pdf',
        sha: sha256(pdf),
        size: pdf.length,
        isInline: false,
        contentId: undefined,
      },
    ]);
  });

  it('sends to the envelope exactly: Bcc recipients stay Bcc and header-only addresses are dropped', async () => {
    const subject = `Bcc ${RUN}`;
    await smtpTransport(edge.smtpPort).sendMail({
      envelope: { from: SENDER, to: ['visible@fabrikam.com', 'hidden@fabrikam.com'] },
      from: SENDER,
      to: 'visible@fabrikam.com',
      cc: 'header-only@fabrikam.com',
      subject,
      text: 'bcc test',
    });
    const m = await deliveredOnce(subject);
    expect({ to: m.to, cc: m.cc, bcc: m.bcc }).toEqual({
      to: ['visible@fabrikam.com'],
      cc: [],
      bcc: ['hidden@fabrikam.com'],
    });
  });

  it('delivers a message whose envelope recipients are all Bcc (swaks, "undisclosed-recipients:;") only to them', async (ctx) => {
    requireTool(ctx, 'swaks');
    const subject = `Bcc only ${RUN}`;
    const envelope = ['hidden1@fabrikam.com', 'hidden2@fabrikam.com'];
    const { code, transcript } = await swaks(edge.smtpPort, [
      '--from',
      SENDER,
      '--to',
      envelope.join(','),
      '--header',
      'To: undisclosed-recipients:;',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'nobody sees the list',
    ]);
    expect(code, transcript).toBe(0);
    const m = await deliveredOnce(subject);
    expect({ to: m.to, cc: m.cc }).toEqual({ to: [], cc: [] });
    expect([...m.bcc].sort()).toEqual(envelope);
    // What Graph was sent, not only the sandbox's summary of it.
    const json = m.requests.find((r) => r.route === 'sendMail')?.json as
      { message?: Record<string, unknown> } | undefined;
    expect(json?.message?.toRecipients ?? []).toEqual([]);
    expect(json?.message?.ccRecipients ?? []).toEqual([]);
  });

  it('refuses a sender the function may not send as with a 5xx naming SENDER_NOT_ALLOWED, and Graph gets nothing', async (ctx) => {
    requireTool(ctx, 'swaks');
    const subject = `Refused ${RUN}`;
    const error = await smtpTransport(edge.smtpPort)
      .sendMail({ from: 'intruder@elsewhere.example', to: 'alice@fabrikam.com', subject, text: 'no' })
      .then(
        () => undefined,
        (e: unknown) => e as { responseCode?: number; response?: string },
      );
    expect(error?.responseCode).toBe(550);
    expect(error?.response).toMatch(/^550 5\.7\.1 SENDER_NOT_ALLOWED\b/);
    // The same refusal as a copier's panel shows it (swaks prints the server's reply verbatim).
    const { transcript } = await swaks(edge.smtpPort, [
      '--from',
      'intruder@elsewhere.example',
      '--to',
      'alice@fabrikam.com',
      '--header',
      `Subject: ${subject}`,
      '--body',
      'no',
    ]);
    expect(serverReplies(transcript).some((r) => /^550 5\.7\.1 SENDER_NOT_ALLOWED\b/.test(r))).toBe(true);
    expect(bySubject(subject)).toEqual([]);
    expect(
      stack.graph
        .requests()
        .filter((r) => r.route === 'sendMail' && r.mailbox === 'intruder@elsewhere.example'),
    ).toEqual([]);
  });

  it('answers 250 when Graph throttles with 429 and delivers the message exactly once after Retry-After', async () => {
    const subject = `Throttled ${RUN}`;
    stack.graph.inject({ route: 'sendMail', mailbox: SENDER, status: 429, retryAfterSec: 1 });
    const info = await smtpTransport(edge.smtpPort).sendMail({
      from: SENDER,
      to: 'alice@fabrikam.com',
      subject,
      text: 'throttled',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 .*queued as \S+$/);
    expect(bySubject(subject)).toEqual([]);
    const throttled = stack.graph.requests().filter((r) => r.route === 'sendMail' && r.status === 429);
    expect(throttled).toHaveLength(1);
    await deliveredOnce(subject);
    // The edge's record says queued, the function's queue delivered it: nothing may send it a second time.
    await new Promise((r) => setTimeout(r, 2000));
    expect(bySubject(subject)).toHaveLength(1);
  });

  it('delivers a 30 MB scan byte-exact through a draft and upload sessions', async () => {
    const subject = `Scan 30MB ${RUN}`;
    const scan = randomBytes(30 * MB);
    const path = join(tmp, 'scan-30mb.pdf');
    writeFileSync(path, scan);
    const info = await smtpTransport(edge.smtpPort).sendMail({
      from: SENDER,
      to: 'alice@fabrikam.com',
      subject,
      text: 'Your 30 MB scan.',
      attachments: [{ filename: 'scan-30mb.pdf', path, contentType: 'application/pdf' }],
    });
    expect(info.response).toMatch(/^250 2\.0\.0 /);
    const m = await deliveredOnce(subject, 90_000);
    expect(m.via).toBe('draft');
    expect(m.attachments.map((a) => ({ name: a.name, size: a.size, sha: a.sha256 }))).toEqual([
      { name: 'scan-30mb.pdf', size: scan.length, sha: sha256(scan) },
    ]);
    expect(sha256(m.attachments[0]?.content ?? Buffer.alloc(0))).toBe(sha256(scan));
    const chunks = m.requests.filter((r) => r.route === 'uploadChunk');
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(scan.length / (4 * 1024 * 1024)));
    expect(Math.max(...chunks.map((c) => c.bytes))).toBeLessThanOrEqual(4 * 1024 * 1024);
  }, 150_000);
});
