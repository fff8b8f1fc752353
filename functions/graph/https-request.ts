import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

import type { SlicedBody } from './sliced-body';

/**
 * One Graph request over node:https instead of fetch: fetch turns a body into one Uint8Array first (a whole
 * copy of the request), and TLS encrypts whatever one write hands it at once. Here the body goes out with
 * its Content-Length in slices written as the socket drains, so at most about one slice is in flight. The
 * answer comes back as a fetch Response, so the Graph client's middleware and GraphTransport read it as
 * they read fetch's.
 */

/** Statuses whose Response must have a null body (the Response constructor refuses one otherwise). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export function timeoutError(timeoutMs: number): Error {
  // The name fetch's AbortSignal.timeout gives: classify-graph-failure.ts reads it as TimeoutError either
  // way.
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), {
    name: 'TimeoutError',
    code: 'TimeoutError',
  });
}

/**
 * Sends `body` (none for GET and DELETE) to `url` and resolves with the whole answer; rejects with the socket
 * error (its `code`, as classify-graph-failure.ts expects) or a TimeoutError when no complete answer came
 * within `timeoutMs`.
 */
export function httpsRequest(
  url: string,
  init: { method: string; headers: Headers },
  body: SlicedBody | undefined,
  timeoutMs: number,
): Promise<Response> {
  const headers: Record<string, string> = {};
  init.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body) headers['content-length'] = String(body.byteLength);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = request(url, { method: init.method, headers });
    // The whole exchange, answer included, as fetch's AbortSignal.timeout bounded it.
    const timer = setTimeout(() => req.destroy(timeoutError(timeoutMs)), timeoutMs);
    req.on('error', (e) => settle(() => reject(e)));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', (e) => settle(() => reject(e)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const bytes = Buffer.concat(parts);
        settle(() =>
          resolve(
            new Response(NULL_BODY_STATUSES.has(status) || bytes.length === 0 ? null : bytes, {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders(res.headers),
            }),
          ),
        );
      });
    });
    if (body) writeSlices(req, body.slices()[Symbol.iterator]());
    else req.end();
  });
}

function responseHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * Writes the slices one after the other, waiting for 'drain' whenever the socket is full, then ends the
 * request. Slices are made only when the socket takes them, so a body's base64 never exists whole.
 */
export function writeSlices(req: ClientRequest, slices: Iterator<Buffer>): void {
  const writeMore = (): void => {
    for (;;) {
      if (req.destroyed) return; // timed out or failed: the 'error' handler answers
      const next = slices.next();
      if (next.done) break;
      if (!req.write(next.value)) {
        req.once('drain', writeMore);
        return;
      }
    }
    req.end();
  };
  writeMore();
}
