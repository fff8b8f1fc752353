import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/**
 * The seam of the listener's HTTP server (BRIDGE_HTTP_PORT): /healthz is registered here; /metrics and the
 * status page add their routes to the same router from outside (`listener.router.add(...)`).
 */
export class HttpRouter {
  readonly #routes = new Map<string, Map<string, RouteHandler>>();

  add(method: string, path: string, handler: RouteHandler): void {
    const byMethod = this.#routes.get(path) ?? new Map<string, RouteHandler>();
    byMethod.set(method.toUpperCase(), handler);
    this.#routes.set(path, byMethod);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const byMethod = this.#routes.get(url.pathname);
    const handler =
      byMethod?.get(req.method ?? 'GET') ?? (req.method === 'HEAD' ? byMethod?.get('GET') : undefined);
    if (!byMethod) return sendJson(res, 404, { error: 'not found' });
    if (!handler) {
      res.setHeader('allow', [...byMethod.keys()].join(', '));
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    try {
      await handler(req, res, url);
    } catch {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
