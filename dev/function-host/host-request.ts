import type { IncomingMessage, ServerResponse } from 'node:http';

import { HttpRequest, type HttpRequestInit, type HttpResponseInit } from '@azure/functions';

/**
 * Conversions between node:http and the @azure/functions HTTP types, the way the Functions worker's stream
 * mode builds them (createStreamRequest in @azure/functions: a fetch Request whose body is the incoming
 * stream, duplex 'half').
 */

/** The init the worker itself passes in stream mode; not part of the public HttpRequestInit type. */
interface StreamRequestInit extends HttpRequestInit {
  nativeRequest: Request;
}

export interface StreamedBody {
  stream: ReadableStream<Uint8Array>;
  /** True when the handler stopped reading before the end (the socket must then be closed after answering). */
  abandoned(): boolean;
}

/**
 * The request body as a web stream pulled from the socket. Cancelling it (a handler refusing an oversize
 * body) only stops reading: the socket stays open so the answer still reaches the client.
 */
export function streamBody(req: IncomingMessage): StreamedBody {
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let abandoned = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else
        controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
    cancel() {
      abandoned = true;
      req.pause();
    },
  });
  return { stream, abandoned: () => abandoned };
}

export function toHttpRequest(
  req: IncomingMessage,
  baseUrl: string,
  params: Record<string, string>,
  body: StreamedBody | undefined,
): HttpRequest {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (body) {
    init.body = body.stream;
    init.duplex = 'half';
  }
  const streamInit: StreamRequestInit = {
    nativeRequest: new Request(new URL(req.url ?? '/', baseUrl), init),
    params,
  };
  return new HttpRequest(streamInit);
}

export async function writeHttpResponse(
  res: ServerResponse,
  result: HttpResponseInit,
  closeAfter: boolean,
): Promise<void> {
  const headers = new Headers(result.headers as ConstructorParameters<typeof Headers>[0]);
  let payload: Buffer | undefined;
  if (result.jsonBody !== undefined) {
    payload = Buffer.from(JSON.stringify(result.jsonBody));
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (typeof result.body === 'string') {
    payload = Buffer.from(result.body);
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
  } else if (result.body instanceof Uint8Array) {
    payload = Buffer.from(result.body);
  } else if (result.body !== undefined && result.body !== null) {
    payload = Buffer.from(
      await new Response(result.body as ConstructorParameters<typeof Response>[0]).arrayBuffer(),
    );
  }
  if (closeAfter) headers.set('connection', 'close');
  res.statusCode = result.status ?? 200;
  headers.forEach((value, name) => res.setHeader(name, value));
  res.setHeader('content-length', String(payload?.length ?? 0));
  await new Promise<void>((resolve) => res.end(payload ?? undefined, () => resolve()));
}
