import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';

import type { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, type TestEdge, useTestEdge } from '../helpers/edge-harness';
import { openSession } from '../helpers/raw-smtp';
import { swaks } from '../../helpers/swaks';
import { requireTool } from '../../helpers/tool-groups';

let fn: FakeFunction;
let edge: TestEdge;
useTestEdge((started) => ({ fn, edge } = started));

const transport = (opts: Record<string, unknown> = {}) =>
  nodemailer.createTransport({
    host: '127.0.0.1',
    port: edge.listener.smtpPort,
    secure: false,
    ignoreTLS: true,
    ...opts,
  });

describe('SMTP intake with real clients', () => {
  it('accepts a nodemailer message, forwards it with the exact envelope and answers 250 with the spool id', async () => {
    const info = await transport().sendMail({
      envelope: { from: 'scanner@example.com', to: ['a@example.org', 'hidden@example.org'] },
      from: 'Scanner <scanner@example.com>',
      to: 'a@example.org',
      subject: 'Scan ✓',
      text: 'plain body\n.\nline after a dot',
      attachments: [{ filename: 'scan.pdf', content: Buffer.from('%PDF-1.4 fake') }],
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: sent as /);
    const id = idFromReply(info.response);
    const got = fn.byId(id);
    expect(got).toHaveLength(1);
    expect(got[0]!.envelope).toMatchObject({
      messageId: id,
      siteId: 'site-1',
      mailFrom: 'scanner@example.com',
      rcptTo: ['a@example.org', 'hidden@example.org'],
      clientAddress: '127.0.0.1',
    });
    const mime = got[0]!.mime!.toString('utf8');
    expect(mime).toContain('Subject: =?UTF-8?');
    expect(mime).toContain('plain body\r\n.\r\nline after a dot');
    expect(mime).not.toContain('hidden@example.org');
    // the entry is done and only a record is kept
    const entry = await edge.listener.spool.get(id);
    expect(entry).toMatchObject({ state: 'done', outcome: 'sent', attempts: 1 });
  });

  it('answers "queued as" when the function queues the message durably', async () => {
    fn.script = () => ({ kind: 'queued' });
    try {
      const info = await transport().sendMail({
        from: 'scanner@example.com',
        to: 'a@example.org',
        subject: 'big',
        text: 'x',
      });
      expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as \S+$/);
      // custody until the cloud confirms: the entry keeps its body and follows the cloud state
      const id = idFromReply(info.response);
      expect(await edge.listener.spool.get(id)).toMatchObject({ state: 'cloud', cloud: { checks: 0 } });
      expect(await edge.listener.spool.readHead(id)).toBeDefined();
    } finally {
      fn.script = () => ({ kind: 'sent' });
    }
  });

  it('delivers a swaks message with an attachment byte for byte', async (ctx) => {
    requireTool(ctx, 'swaks');
    const dir = mkdtempSync(join(tmpdir(), 'swaks-'));
    const att = join(dir, 'att.txt');
    writeFileSync(att, 'attachment content 12345\n');
    const { code, transcript: stdout } = await swaks(edge.listener.smtpPort, [
      '--from',
      'swaks@example.com',
      '--to',
      'r1@example.org,r2@example.org',
      '--header',
      'Subject: swaks test',
      '--body',
      'hello from swaks',
      '--attach-type',
      'text/plain',
      '--attach',
      att,
    ]);
    expect(code, stdout).toBe(0);
    const line = stdout.split('\n').find((l) => /^<[-~]\s+250 2\.0\.0 Ok:/.test(l));
    expect(line).toBeDefined();
    const id = idFromReply(line!.replace(/^<[-~]\s+/, ''));
    const got = fn.byId(id)[0]!;
    expect(got.envelope.rcptTo).toEqual(['r1@example.org', 'r2@example.org']);
    expect(got.mime!.toString()).toContain(Buffer.from('attachment content 12345\n').toString('base64'));
  });

  it('takes 100 messages on one connection without losing or mixing any', async () => {
    const c = await openSession(edge.listener.smtpPort);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      expect((await c.command(`MAIL FROM:<s${i}@example.com>`)).code).toBe(250);
      expect((await c.command(`RCPT TO:<r${i}@example.org>`)).code).toBe(250);
      expect((await c.command('DATA')).code).toBe(354);
      const r = await c.command(`Subject: n${i}\r\n\r\nbody ${i}\r\n.`);
      expect(r.code).toBe(250);
      ids.push(idFromReply(r.text));
    }
    await c.command('QUIT');
    expect(new Set(ids).size).toBe(100);
    ids.forEach((id, i) => {
      const got = fn.byId(id)[0]!;
      expect(got.envelope.mailFrom).toBe(`s${i}@example.com`);
      expect(got.envelope.rcptTo).toEqual([`r${i}@example.org`]);
      expect(got.mime!.toString()).toBe(`Subject: n${i}\r\n\r\nbody ${i}\r\n`);
    });
  });

  it('takes 40 connections at once, each with 5 messages, and forwards all 200', async () => {
    const before = fn.ids().size;
    const sends = Array.from({ length: 40 }, async (_, c) => {
      const t = transport({ pool: true, maxConnections: 1, maxMessages: 100 });
      const ids: string[] = [];
      for (let m = 0; m < 5; m++) {
        const info = await t.sendMail({
          from: `dev${c}@example.com`,
          to: `user${c}-${m}@example.org`,
          subject: `c${c} m${m}`,
          text: `${c}/${m}`,
        });
        ids.push(idFromReply(info.response));
      }
      t.close();
      return ids;
    });
    const ids = (await Promise.all(sends)).flat();
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) expect(fn.byId(id)).toHaveLength(1);
    expect(fn.ids().size - before).toBe(200);
    expect(edge.listener.spool.stats().depth).toMatchObject({
      queued: 0,
      deferred: 0,
      inflight: 0,
      failed: 0,
    });
  });
});
