import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { describe, expect, it } from 'vitest';

import { useFastDataScan } from '../../../edge-listener/smtp/data-stream-parser';

interface Outcome {
  /** Each DATA phase's bytes as the data stream delivered them. */
  messages: string[];
  /** Command lines seen (before, between and after the DATA phases). */
  commands: string[];
}

/**
 * Feeds `input` in the given pieces to a parser that enters DATA mode on the command "DATA" and returns
 * what came out. The library's parser and the fast one must give the same outcome for the same input.
 */
async function run(parser: SMTPStream, pieces: Buffer[]): Promise<Outcome> {
  const out: Outcome = { messages: [], commands: [] };
  const ended: Array<Promise<void>> = [];
  parser.oncommand = (command: Buffer, callback?: () => void) => {
    const line = command.toString('latin1');
    out.commands.push(line);
    if (line === 'DATA') {
      const stream = parser.startDataMode();
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      ended.push(
        new Promise<void>((resolve) =>
          stream.on('end', () => {
            out.messages.push(Buffer.concat(parts).toString('latin1'));
            // as smtp-server's connection does: continue once the message was taken
            setImmediate(() => parser.continue());
            resolve();
          }),
        ),
      );
    }
    callback?.();
  };
  for (const piece of pieces) await new Promise<void>((resolve) => parser.write(piece, () => resolve()));
  await new Promise<void>((resolve) => parser.end(() => resolve()));
  await Promise.all(ended);
  return out;
}

/** Deterministic pseudo-random numbers (a failure must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function split(data: Buffer, random: () => number, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let off = 0; off < data.length;) {
    const n = 1 + Math.floor(random() * maxPiece);
    pieces.push(data.subarray(off, off + n));
    off += n;
  }
  return pieces;
}

async function both(pieces: Buffer[]): Promise<[Outcome, Outcome]> {
  const copy = pieces.map((p) => Buffer.from(p));
  return [await run(new SMTPStream(), pieces), await run(useFastDataScan(new SMTPStream()), copy)];
}

describe('fast DATA scan (data-stream-parser.ts) against smtp-server’s own parser', () => {
  it('gives the same bytes, commands and end of data for hand-picked inputs split at every position', async () => {
    const bodies = [
      'Subject: a\r\n\r\nhello\r\n',
      '..leading dot\r\n.\r\n..\r\n...\r\nend\r\n',
      '.\r\n', // empty message (terminator first)
      '..\r\n', // a first line that is a single dot, stuffed
      'a\n.\nb\r\n.x\r\n\r\n.\r', // bare LFs next to dots
      '\n..\r\n', // the library's unexamined second position
      'x\r\n..\r\n.',
    ];
    for (const body of bodies) {
      const input = Buffer.from(`HELO a\r\nDATA\r\n${body}\r\n.\r\nQUIT\r\n`, 'latin1');
      for (let cut = 1; cut < input.length; cut++) {
        for (const second of [cut + 1, cut + 3, cut + 7]) {
          const pieces = [input.subarray(0, cut), input.subarray(cut, second), input.subarray(second)].filter(
            (p) => p.length > 0,
          );
          const [lib, fast] = await both(pieces);
          expect(fast, `${JSON.stringify(body)} cut at ${cut}/${second}`).toEqual(lib);
        }
      }
    }
  });

  it('gives the same outcome for random dot/CR/LF-heavy messages in random pieces, pipelined', async () => {
    const random = rng(13);
    const alphabet = ['.', '\r', '\n', '\r\n', '\r\n.', '\r\n..', '\n.', 'a', 'bc', '\r\n.\r\n'];
    let messagesSeen = 0;
    for (let round = 0; round < 400; round++) {
      let text = 'EHLO x\r\n';
      const transactions = 1 + Math.floor(random() * 3);
      for (let t = 0; t < transactions; t++) {
        text += 'DATA\r\n';
        const tokens = Math.floor(random() * 60);
        for (let k = 0; k < tokens; k++) text += alphabet[Math.floor(random() * alphabet.length)];
        text += '\r\n.\r\nNOOP\r\n';
      }
      const input = Buffer.from(text, 'latin1');
      const pieces = split(input, random, 1 + Math.floor(random() * 24));
      const [lib, fast] = await both(pieces);
      expect(fast, `round ${round}: ${JSON.stringify(text)}`).toEqual(lib);
      messagesSeen += lib.messages.length;
    }
    expect(messagesSeen).toBeGreaterThan(400);
  });

  it('passes large chunks through without copying them', async () => {
    const line = 'x'.repeat(78) + '\r\n';
    const body = Buffer.from(line.repeat(2000), 'latin1');
    const parser = useFastDataScan(new SMTPStream());
    const seen: Buffer[] = [];
    parser.oncommand = (command: Buffer, callback?: () => void) => {
      if (command.toString() === 'DATA') parser.startDataMode().on('data', (c: Buffer) => seen.push(c));
      callback?.();
    };
    await new Promise<void>((r) => parser.write(Buffer.from('DATA\r\n'), () => r()));
    const first = body.subarray(0, 65536);
    const second = body.subarray(65536);
    await new Promise<void>((r) => parser.write(first, () => r()));
    await new Promise<void>((r) => parser.write(second, () => r()));
    await new Promise((r) => setImmediate(r));
    // no line starts with a dot, so nothing is held back, and every byte went out as a view on the chunk it
    // arrived in: no joined copy (the library copies each chunk and holds back its last 4 bytes)
    expect(Buffer.concat(seen).equals(body)).toBe(true);
    expect(seen).toHaveLength(2);
    for (const c of seen) expect([first.buffer, second.buffer]).toContain(c.buffer);
  });
});
