import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { dataBlob, openSession } from '../edge-listener/helpers/raw-smtp';
import { smtpTransport, startE2eEdge, type E2eEdge } from '../helpers/e2e-edge';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { deliveredTo, startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';

/**
 * Where peers have silently lost mail: many transactions on one connection (RSET between them,
 * docs/design/smtp-cases.md P3) and many connections at once. Every message must reach the fake Graph exactly once, sent by its own
 * MAIL FROM mailbox, to exactly its own envelope — never a neighbour's recipients, never merged, never twice.
 */

const RUN = randomBytes(3).toString('hex');

let stack: FunctionStack;
let edge: E2eEdge;

beforeAll(async () => {
  stack = await startFunctionStack('e2emany', { settings: { BRIDGE_ALLOWED_SENDERS: '*@contoso.com' } });
  edge = await startE2eEdge(stack);
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await stack?.close();
});

interface Sent {
  subject: string;
  mailFrom: string;
  rcptTo: string[];
  spoolId: string;
}

/** Waits until every message is at Graph, then checks each one arrived once, from and to exactly its envelope. */
async function expectEachDeliveredOnce(sent: Sent[]): Promise<void> {
  const subjects = new Set(sent.map((s) => s.subject));
  const ours = () => stack.graph.messages().filter((m) => subjects.has(m.subject));
  await vi.waitFor(
    () => {
      const arrived = new Set(ours().map((m) => m.subject));
      expect(
        [...subjects].filter((s) => !arrived.has(s)),
        'not at Graph yet',
      ).toEqual([]);
    },
    { timeout: 90_000, interval: 100 },
  );
  // Anything still in flight (a retry after an ambiguous answer) would show up now as a second copy.
  await new Promise((r) => setTimeout(r, 1000));
  const delivered = ours();
  const problems: string[] = [];
  for (const s of sent) {
    const copies = delivered.filter((m) => m.subject === s.subject);
    const m = copies[0];
    if (copies.length !== 1 || m === undefined) {
      problems.push(`${s.subject}: ${copies.length} copies`);
      continue;
    }
    if (m.mailbox !== s.mailFrom) problems.push(`${s.subject}: sent as ${m.mailbox}`);
    const to = deliveredTo(m).sort();
    if (JSON.stringify(to) !== JSON.stringify([...s.rcptTo].sort()))
      problems.push(`${s.subject}: delivered to ${to.join(',')}`);
  }
  expect(problems).toEqual([]);
  expect(delivered).toHaveLength(sent.length);
  expect(new Set(sent.map((s) => s.spoolId)).size).toBe(sent.length);
}

describe('many messages through the edge listener to Graph', () => {
  it('delivers 50 transactions of one connection (RSET between, half of them pipelined) each once with its own envelope', async () => {
    const c = await openSession(edge.smtpPort, 'EHLO copier.e2e.test');
    const sent: Sent[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const mailFrom = `p3-sender${i % 5}@contoso.com`;
        // Differently shaped envelopes: one, two or three recipients, some only in the envelope (Bcc).
        const rcptTo = Array.from({ length: 1 + (i % 3) }, (_, k) => `p3-${RUN}-${i}-${k}@fabrikam.com`);
        const subject = `P3 ${RUN} #${i}`;
        const commands = [`MAIL FROM:<${mailFrom}>`, ...rcptTo.map((r) => `RCPT TO:<${r}>`), 'DATA'];
        if (i % 2 === 0) {
          c.write(commands.map((l) => `${l}\r\n`).join('')); // PIPELINING: replies must come in order
          const replies = await c.replies(commands.length);
          expect(replies.map((r) => r.code)).toEqual([...commands.slice(0, -1).map(() => 250), 354]);
        } else {
          for (const line of commands.slice(0, -1)) expect((await c.command(line)).code).toBe(250);
          expect((await c.command('DATA')).code).toBe(354);
        }
        const message = [
          `From: Copier <${mailFrom}>`,
          `To: ${rcptTo[0]}`,
          `Subject: ${subject}`,
          `Message-ID: <p3-${RUN}-${i}@copier.e2e.test>`,
          '',
          `transaction ${i}`,
          '.leading dot line',
          '',
        ].join('\r\n');
        c.write(dataBlob(message));
        const done = await c.reply(30_000);
        expect(done.code, done.text).toBe(250);
        sent.push({ subject, mailFrom, rcptTo, spoolId: idFromReply(done.text) });
        expect((await c.command('RSET')).code).toBe(250);
      }
      expect((await c.command('QUIT')).code).toBe(221);
    } finally {
      c.destroy();
    }
    await expectEachDeliveredOnce(sent);
    const bodies = stack.graph.messages().filter((m) => m.subject.startsWith(`P3 ${RUN} #7`));
    expect(bodies[0]?.body.content).toContain('.leading dot line');
  }, 120_000);

  it('delivers 20 connections × 10 messages at once (nodemailer pools) each once with its own envelope', async () => {
    const connections = 20;
    const perConnection = 10;
    const sent = await Promise.all(
      Array.from({ length: connections }, async (_, n) => {
        // One pooled transport = one SMTP connection carrying its 10 messages in turn.
        const transport = smtpTransport(edge.smtpPort, { pool: true, maxConnections: 1 });
        try {
          return await Promise.all(
            Array.from({ length: perConnection }, async (_, k): Promise<Sent> => {
              const mailFrom = `device${n}@contoso.com`;
              const to = `conn-${RUN}-${n}-${k}@fabrikam.com`;
              const bcc = k % 2 === 0 ? [`conn-${RUN}-${n}-${k}-bcc@fabrikam.com`] : [];
              const subject = `Conn ${RUN} ${n}/${k}`;
              const info = await transport.sendMail({
                from: mailFrom,
                to,
                bcc,
                subject,
                text: `message ${n}/${k}`,
              });
              return { subject, mailFrom, rcptTo: [to, ...bcc], spoolId: idFromReply(info.response) };
            }),
          );
        } finally {
          transport.close();
        }
      }),
    );
    await expectEachDeliveredOnce(sent.flat());
  }, 150_000);
});
