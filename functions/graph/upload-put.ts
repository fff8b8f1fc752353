import { request } from 'node:https';

import { timeoutError, writeSlices } from './https-request';

/**
 * One PUT of a byte range to a pre-authenticated upload URL, with node:https rather than fetch: fetch copies
 * a Uint8Array body before sending it (4 MiB of garbage per chunk, about the size of the message in total
 * before the GC catches up), https writes the chunk view as it is. No Authorization header, by construction.
 */
export interface PutAnswer {
  status: number;
  header(name: string): string | null;
  text: string;
}

export function putRange(
  url: string,
  chunk: Buffer,
  contentRange: string,
  timeoutMs: number,
): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': contentRange,
        'Content-Length': chunk.length,
      },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(timeoutError(timeoutMs)));
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const value = (name: string) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
        };
        resolve({ status: res.statusCode ?? 0, header: value, text: Buffer.concat(parts).toString('utf8') });
      });
    });
    writeSlices(req, viewsOf(chunk));
  });
}

/**
 * TLS encrypts what one write hands it all at once and queues the result until the socket takes it: a 4 MiB
 * chunk written in one go held about 8 MB more until it was sent (measured, bench/function). Slices of
 * 256 KiB written as the socket drains keep that under one slice. The slices are views: nothing is copied.
 */
const WRITE_SLICE_BYTES = 256 * 1024;

function* viewsOf(chunk: Buffer): Generator<Buffer> {
  for (let at = 0; at < chunk.length; at += WRITE_SLICE_BYTES)
    yield chunk.subarray(at, at + WRITE_SLICE_BYTES);
}
