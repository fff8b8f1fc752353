import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { FakeFunction } from '../../helpers/fake-function';
import { idFromReply, type TestEdge, useTestEdge } from '../helpers/edge-harness';
import { openSession } from '../helpers/raw-smtp';
import { swaks } from '../../helpers/swaks';
import { requireTool } from '../../helpers/tool-groups';

/** docs/design/smtp-cases.md §1: only CRLF.CRLF ends DATA; ambiguous terminators are refused, never split into two. */
let fn: FakeFunction;
let edge: TestEdge;
useTestEdge((started) => ({ fn, edge } = started));

const INJECTED =
  'MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: injected\r\n\r\nsmuggled';

/** Sends one transaction whose data is `body` + CRLF.CRLF in a single write; returns the replies up to a NOOP. */
async function probe(body: string) {
  const before = fn.received.length;
  const c = await openSession(edge.listener.smtpPort);
  expect((await c.command('MAIL FROM:<a@example.com>')).code).toBe(250);
  expect((await c.command('RCPT TO:<b@example.org>')).code).toBe(250);
  expect((await c.command('DATA')).code).toBe(354);
  c.write(Buffer.from(`${body}\r\n.\r\nNOOP\r\n`, 'latin1'));
  const [final, next] = await c.replies(2);
  await c.command('QUIT');
  return { final: final!, next: next!, forwarded: fn.received.slice(before) };
}

const cases: Array<[string, string, 'SUSPECTED_SMUGGLING' | 'BARE_CR']> = [
  ['S1 <LF>.<LF>', `Subject: s1\r\n\r\ntext\n.\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S2 <LF>.<CRLF>', `Subject: s2\r\n\r\ntext\n.\r\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S3 <CRLF>.<LF>', `Subject: s3\r\n\r\ntext\r\n.\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S4 <CR>.<CR>', `Subject: s4\r\n\r\ntext\r.\r${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S4 <CRLF>.<CR>', `Subject: s4b\r\n\r\ntext\r\n.\r${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S5 <CR>.<CRLF>', `Subject: s5\r\n\r\ntext\r.\r\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S5 <LF>.<CR>', `Subject: s5b\r\n\r\ntext\n.\r${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S6 .<LF> at the start of DATA', `.\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S6 <LF>.<LF> at the start of DATA', `\n.\n${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['S6 .<CR> at the start of DATA', `.\r${INJECTED}`, 'SUSPECTED_SMUGGLING'],
  ['a bare CR inside a header', 'Subject: a\rBcc: x@example.org\r\n\r\nbody', 'BARE_CR'],
];

describe('SMTP smuggling probes (S1–S8)', () => {
  it.each(cases)(
    '%s: one 554 reply, no injected transaction, nothing forwarded',
    async (_name, body, code) => {
      const { final, next, forwarded } = await probe(body);
      expect(final.code).toBe(554);
      expect(final.text).toContain(code);
      // the reply after the refusal answers our NOOP: none of the injected commands ran
      expect(next.code).toBe(250);
      expect(next.text).toMatch(/OK/i);
      expect(forwarded).toHaveLength(0);
    },
  );

  it('accepts bare-LF messages from scanners and keeps their bytes', async () => {
    const body = 'Subject: lf\n\nline 1\nline 2.\nend.';
    const { final, forwarded } = await probe(body);
    expect(final.code).toBe(250);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.mime!.toString('latin1')).toBe(`${body}\r\n`);
  });

  it('S7: unstuffs "..line" to ".line", and a lone dot line ends the message right there', async () => {
    const { final, forwarded } = await probe('Subject: s7\r\n\r\na\r\n..line\r\n..\r\nb');
    expect(final.code).toBe(250);
    expect(forwarded[0]!.mime!.toString()).toBe('Subject: s7\r\n\r\na\r\n.line\r\n.\r\nb\r\n');

    const before = fn.received.length;
    const c = await openSession(edge.listener.smtpPort);
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    c.write('Subject: early end\r\n\r\nfirst\r\n.\r\nNOOP\r\nafter\r\n');
    const [msg, noop, unknown] = await c.replies(3);
    expect(msg!.code).toBe(250);
    expect(noop!.code).toBe(250);
    expect(unknown!.code).toBe(500); // "after" is a command now, not message text
    expect(fn.received.slice(before).map((r) => r.mime!.toString())).toEqual([
      'Subject: early end\r\n\r\nfirst\r\n',
    ]);
    c.destroy();
  });

  it('S8: BDAT is refused with 5xx (CHUNKING is not offered)', async () => {
    const c = await openSession(edge.listener.smtpPort);
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    const r = await c.command('BDAT 10 LAST');
    expect(r.code).toBeGreaterThanOrEqual(500);
    c.destroy();
  });

  it('refuses the S1 probe sent by swaks --no-data-fixup', async (ctx) => {
    requireTool(ctx, 'swaks');
    const dir = mkdtempSync(join(tmpdir(), 'smug-'));
    const file = join(dir, 's1.txt');
    writeFileSync(
      file,
      'Subject: S1\r\n\r\nfirst\n.\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<v@example.com>\r\nDATA\r\n\r\ninjected\r\n.',
    );
    const before = fn.received.length;
    const { transcript: out } = await swaks(edge.listener.smtpPort, [
      '--from',
      'a@example.com',
      '--to',
      'b@example.org',
      '--no-data-fixup',
      '--data',
      `@${file}`,
    ]);
    expect(out).toMatch(/<\*\*\s+554 5\.6\.0 SUSPECTED_SMUGGLING/);
    expect(fn.received.length).toBe(before);
  });

  it('a message refused for smuggling leaves nothing in the spool', async () => {
    await probe(`Subject: s1\r\n\r\ntext\n.\n${INJECTED}`);
    const depth = edge.listener.spool.stats().depth;
    expect(depth.queued + depth.deferred + depth.failed + depth.inflight).toBe(0);
    expect(
      edge.lines.some((l) => l.event === 'SMTP_MESSAGE_REFUSED' && l.code === 'SUSPECTED_SMUGGLING'),
    ).toBe(true);
    // a normal message right after still goes through
    const c = await openSession(edge.listener.smtpPort);
    await c.command('MAIL FROM:<a@example.com>');
    await c.command('RCPT TO:<b@example.org>');
    await c.command('DATA');
    const ok = await c.command('Subject: fine\r\n\r\nfine\r\n.');
    expect(fn.byId(idFromReply(ok.text))).toHaveLength(1);
    c.destroy();
  });
});
