import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a sandbox handler answers. Handlers return a Reply instead of writing to the socket, so the
 * dispatcher can apply faults after a handler ran (accept the message, then lose the answer).
 */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON value (serialized by the dispatcher) or raw bytes; absent = empty body. */
  json?: unknown;
  raw?: Buffer;
}

export function jsonReply(status: number, json: unknown, headers?: Record<string, string>): Reply {
  return { status, json, ...(headers ? { headers } : {}) };
}

/** The Graph error body shape: {error:{code,message,innerError:{date,request-id,client-request-id}}}. */
export function graphError(
  ctx: { requestId: string; clientRequestId?: string },
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  const innerError: Record<string, string> = {
    date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
    'request-id': ctx.requestId,
  };
  if (ctx.clientRequestId) innerError['client-request-id'] = ctx.clientRequestId;
  return { status, json: { error: { code, message, innerError } }, ...(headers ? { headers } : {}) };
}

/** The Entra (OAuth 2.0) error body shape: {error, error_description "AADSTSnnn: …", error_codes, …}. */
export function entraError(
  ctx: { requestId: string },
  status: number,
  error: string,
  aadsts: number,
  description: string,
): Reply {
  return {
    status,
    json: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${ctx.requestId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: ctx.requestId,
      correlation_id: randomUUID(),
    },
  };
}

export interface BodyRead {
  body: Buffer;
  /** Bytes received in total (also when over the limit). */
  size: number;
  tooLarge: boolean;
}

/**
 * Reads the whole request body, keeping at most `limitBytes`. An oversized body is drained rather than cut
 * off, so the client reads the 413 instead of a reset connection.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    // Preallocate when the length is known (chunk PUTs): one copy per byte, no concat.
    const exact =
      Number.isFinite(declared) && declared <= limitBytes ? Buffer.allocUnsafe(declared) : undefined;
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      const start = size;
      size += chunk.length;
      if (size > limitBytes) return;
      if (exact) chunk.copy(exact, start);
      else parts.push(chunk);
    });
    req.on('end', () => {
      if (size > limitBytes) resolve({ body: Buffer.alloc(0), size, tooLarge: true });
      else resolve({ body: exact ? exact.subarray(0, size) : Buffer.concat(parts), size, tooLarge: false });
    });
    req.on('close', () => {
      if (!req.complete) reject(new Error('client went away before the body was complete'));
    });
    req.on('error', reject);
  });
}

/** Writes a Reply: JSON with Graph's content type, or raw bytes. */
export function writeReply(res: ServerResponse, reply: Reply): void {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.json !== undefined) {
    const body = Buffer.from(JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      'Content-Type': 'application/json; odata.metadata=minimal; charset=utf-8',
      'Content-Length': body.length,
    });
    res.end(body);
  } else {
    res.writeHead(reply.status, { 'Content-Length': reply.raw?.length ?? 0 });
    res.end(reply.raw);
  }
}
