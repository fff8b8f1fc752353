import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * Reading a spooled message back from its file for a POST: once to hash it, once to send it, through two
 * buffers that are reused for the whole file. A read stream would allocate a new buffer per chunk; those die
 * young but are freed only when V8 next collects, which it does after tens of MiB of such garbage — for a
 * 150 MB message the thread's RSS grew by ~60 MiB that way (docs/design/edge-memory.md). Reads are bounded
 * by the recorded size, so Content-Length always holds even if the file were to change.
 */
const CHUNK_BYTES = 256 * 1024;

/** Feeds the first `bytes` of the file into `hash`. */
export async function hashFile(hash: Hash, path: string, bytes: number): Promise<void> {
  if (bytes === 0) return;
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, bytes));
    for (let pos = 0; pos < bytes;) {
      const n = await readAt(file, buf, pos, bytes);
      hash.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    await file.close();
  }
}

/**
 * Writes `head` and then the first `bytes` of the file to `out`, and ends it. A buffer is filled again only
 * after `out` has handed it to the kernel (the write callback), so the reuse never changes bytes in flight;
 * the other buffer is read meanwhile. Rejects when `out` fails or closes early (the caller's request reports
 * why).
 */
export async function sendFile(out: Writable, head: Buffer, path: string, bytes: number): Promise<void> {
  // A write to a request that is torn down may never call back: stop at its 'close' (and free the file).
  const closed = new Promise<never>((_, reject) =>
    out.once('close', () => reject(new Error('request closed before the body was sent'))),
  );
  closed.catch(() => undefined);
  const until = <T>(p: Promise<T>) => Promise.race([p, closed]);
  const file = await open(path, 'r');
  try {
    let written = writeChunk(out, head);
    const buffers = [0, 1].map(() => Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(bytes, 1))));
    const inFlight: Array<Promise<void> | undefined> = [undefined, undefined];
    for (let pos = 0, i = 0; pos < bytes; i ^= 1) {
      await until(Promise.resolve(inFlight[i])); // this buffer's last write is done: safe to fill again
      const n = await readAt(file, buffers[i]!, pos, bytes);
      pos += n;
      written = writeChunk(out, buffers[i]!.subarray(0, n));
      inFlight[i] = written;
    }
    await until(Promise.all([written, ...inFlight]));
    await until(new Promise<void>((resolve) => out.end(() => resolve())));
  } finally {
    await file.close();
  }
}

async function readAt(
  file: Awaited<ReturnType<typeof open>>,
  buf: Buffer,
  pos: number,
  bytes: number,
): Promise<number> {
  const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
  if (bytesRead === 0) throw new Error(`spool file ended at ${pos} of ${bytes} bytes`);
  return bytesRead;
}

function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) {
      reject(new Error('request closed before the body was sent'));
      return;
    }
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
