import type { IncomingHttpHeaders } from 'node:http';

/** What a handler knows about the request it answers. */
export interface RequestContext {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
  /** When the request's headers arrived (epoch ms with a fraction), see SandboxRequestLog.arrivedAtMs. */
  arrivedAtMs?: number;
  clientRequestId?: string;
  /** https://<Host header>: links the sandbox hands out point back at the name the client used. */
  origin: string;
  /** The other loopback name (localhost ⇄ 127.0.0.1), for upload URLs the Graph client must not authenticate. */
  otherOrigin: string;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
