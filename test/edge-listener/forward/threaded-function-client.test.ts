import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Envelope } from '../../../core/envelope';
import { memoryLogger } from '../../../core/log';
import { classifyAnswer, classifyNoAnswer } from '../../../edge-listener/forward/classify-function-answer';
import { FunctionClient, type FunctionClientOptions } from '../../../edge-listener/forward/function-client';
import { ThreadedFunctionClient } from '../../../edge-listener/forward/threaded-function-client';
import { Secret } from '../../../edge-listener/secret';
import { HeldMessage } from '../../../edge-listener/spool/held-message';
import { FakeFunction } from '../../helpers/fake-function';

/**
 * The forwarding thread against a real https stand-in of the function (signature, digest and frame checked
 * there): it must answer exactly like the in-thread FunctionClient, keep network error codes
 * (classify-function-answer.ts decides on them), and survive its thread dying.
 */
let fn: FakeFunction;
const dir = mkdtempSync(join(tmpdir(), 'threaded-client-'));

function options(url: string): FunctionClientOptions {
  return {
    baseUrl: url,
    siteId: fn.siteId,
    siteSecret: new Secret(fn.siteSecret),
    functionKey: new Secret(fn.functionKey),
    timeoutMs: 5_000,
    maxSockets: 4,
  };
}

function envelope(messageId: string): Envelope {
  return {
    messageId,
    siteId: fn.siteId,
    mailFrom: 'scanner@contoso.example',
    rcptTo: ['alice@contoso.example'],
    clientAddress: '127.0.0.1',
    helo: 'copier.local',
    receivedAt: new Date().toISOString(),
  };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A message in memory as the intake holds it: the chunks it arrived in (here cut into three). */
function held(message: Buffer): { held: HeldMessage } {
  const third = Math.ceil(message.length / 3);
  return {
    held: new HeldMessage([
      message.subarray(0, third),
      message.subarray(third, 2 * third),
      message.subarray(2 * third),
    ]),
  };
}

beforeAll(async () => {
  fn = await FakeFunction.start({
    script: (r) =>
      r.id.includes('slow')
        ? { kind: 'hang' }
        : r.id.includes('busy')
          ? { kind: 'retry', status: 503, retryAfter: '7' }
          : { kind: 'sent' },
  });
});
afterAll(async () => {
  await fn.close();
});

describe('ThreadedFunctionClient', () => {
  it('posts messages from memory and from the spool file, signed, and answers like the in-thread client', async () => {
    const logger = memoryLogger();
    const threaded = new ThreadedFunctionClient(options(fn.url), logger);
    const inThread = new FunctionClient(options(fn.url));
    try {
      const small = Buffer.from('Subject: hi\r\n\r\n' + 'x'.repeat(10_000) + '\r\n');
      const large = Buffer.alloc(3 * 1024 * 1024 + 17, 'y');
      const file = join(dir, 'large.eml');
      writeFileSync(file, large);

      const answers = await Promise.all([
        threaded.post(envelope('thread-mem'), held(small)),
        threaded.post(envelope('thread-file'), { path: file, bytes: large.length }),
        inThread.post(envelope('inline-mem'), held(small)),
        threaded.post(envelope('thread-busy'), held(small)),
        inThread.post(envelope('inline-busy'), held(small)),
      ]);
      const [tMem, tFile, iMem, tBusy, iBusy] = answers;
      expect(classifyAnswer(tMem!, 'thread-mem', Date.now()).kind).toBe('sent');
      expect(classifyAnswer(tFile!, 'thread-file', Date.now()).kind).toBe('sent');
      expect(tMem!.status).toBe(iMem!.status);
      expect(tBusy).toMatchObject({ status: 503, retryAfter: '7' });
      expect(tBusy!.body.equals(iBusy!.body)).toBe(true);

      // The function checked signature and digest before recording these; the bytes arrived unchanged.
      expect(fn.byId('thread-mem')[0]!.mimeSha256).toBe(sha256(small));
      expect(fn.byId('inline-mem')[0]!.mimeSha256).toBe(sha256(small));
      expect(fn.byId('thread-file')[0]!.mimeSha256).toBe(sha256(large));
      expect(fn.byId('thread-file')[0]!.mimeBytes).toBe(large.length);
      // The caller's chunks are untouched: the thread got a copy.
      expect(sha256(small)).toBe(fn.byId('thread-mem')[0]!.mimeSha256);
      expect(threaded.inFlight).toBe(0);
      expect(logger.lines).toEqual([]);
    } finally {
      await threaded.close();
      inThread.close();
    }
  });

  it('rejects with the network error code when nothing answers', async () => {
    const threaded = new ThreadedFunctionClient(options('https://127.0.0.1:9'), memoryLogger());
    try {
      const err = await threaded
        .post(envelope('thread-refused'), held(Buffer.from('x')))
        .catch((e: unknown) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      const outcome = classifyNoAnswer(err);
      expect(outcome.kind).toBe('deferred');
      expect(outcome.kind === 'deferred' && outcome.error.detail).toBe('ECONNREFUSED');
    } finally {
      await threaded.close();
    }
  });

  it('fails the POSTs in flight when its thread dies, logs it once, and starts a new thread for the next POST', async () => {
    const logger = memoryLogger();
    const threaded = new ThreadedFunctionClient(options(fn.url), logger);
    try {
      const hanging = threaded.post(envelope('thread-slow'), held(Buffer.from('x'))).catch((e: unknown) => e);
      // The first POST starts the thread (a second V8 isolate): seconds on a loaded machine, not 1 s.
      await expect.poll(() => fn.byId('thread-slow').length, { timeout: 15_000 }).toBe(1);
      await threaded.thread!.terminate();
      const err = (await hanging) as NodeJS.ErrnoException;
      expect(err.code).toBe('FORWARD_WORKER_STOPPED');
      expect(classifyNoAnswer(err).kind).toBe('deferred');
      expect(logger.lines.filter((l) => l.event === 'FORWARD_WORKER_STOPPED')).toHaveLength(1);
      expect(logger.lines[0]).toMatchObject({ level: 'error', inFlight: 1 });

      const again = await threaded.post(envelope('thread-after'), held(Buffer.from('y')));
      expect(classifyAnswer(again, 'thread-after', Date.now()).kind).toBe('sent');
    } finally {
      await threaded.close();
    }
    // Closing is not a crash: no second log line.
    expect(logger.lines.filter((l) => l.event === 'FORWARD_WORKER_STOPPED')).toHaveLength(1);
  });

  it('starts its thread ahead of the first message, and POSTs on that same thread', async () => {
    const threaded = new ThreadedFunctionClient(options(fn.url), memoryLogger());
    try {
      expect(threaded.thread).toBeUndefined();
      await threaded.start();
      const started = threaded.thread;
      expect(started?.threadId).toBeGreaterThan(0);
      const answer = await threaded.post(envelope('thread-started'), held(Buffer.from('z')));
      expect(classifyAnswer(answer, 'thread-started', Date.now()).kind).toBe('sent');
      expect(threaded.thread).toBe(started);
    } finally {
      await threaded.close();
    }
  });

  it('refuses POSTs after close', async () => {
    const threaded = new ThreadedFunctionClient(options(fn.url), memoryLogger());
    await threaded.close();
    const err = await threaded
      .post(envelope('thread-closed'), held(Buffer.from('x')))
      .catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECLOSED');
  });
});
