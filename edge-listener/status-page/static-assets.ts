import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

import type { HttpRouter } from '../http/router';

/**
 * The page itself: plain files from assets/ (no build step, no CDN), read once at start and served with a
 * strict Content-Security-Policy — scripts and styles only from this server, no inline code, framing only
 * of our own preview route — so an injected string could not run even if a bug let it into the markup.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const ASSET_PREFIX = '/status/assets/';
export const DEFAULT_ASSETS_DIR = join(__dirname, 'assets');

/**
 * The single-file build (edge-listener/packaging/build-bundle.ts) has no assets folder beside it: it embeds
 * the files through esbuild's `define` as { name: base64 }. From source this global does not exist.
 */
declare const __STATUS_PAGE_ASSETS__: Record<string, string> | undefined;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function securityHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    ...extra,
  };
}

/** The page's files as { name: base64 }, for the single-file build to embed. */
export function embeddableAssets(dir: string = DEFAULT_ASSETS_DIR): Record<string, string> {
  const names = readdirSync(dir).filter((n) => TYPES[extname(n)] !== undefined);
  return Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n)).toString('base64')]));
}

/** The files embedded in the single-file build, else those of `dir`. */
export function loadAssets(dir?: string): Map<string, Buffer> {
  const embedded =
    dir === undefined && typeof __STATUS_PAGE_ASSETS__ !== 'undefined' ? __STATUS_PAGE_ASSETS__ : undefined;
  const files = embedded ?? embeddableAssets(dir);
  return new Map(Object.entries(files).map(([name, base64]) => [name, Buffer.from(base64, 'base64')]));
}

/** Registers `/` (index.html) and every other file under /status/assets/. Returns the file names. */
export function registerAssets(router: HttpRouter, files: Map<string, Buffer>): string[] {
  const names = [...files.keys()].filter((n) => TYPES[extname(n)] !== undefined);
  for (const name of names) {
    const body = files.get(name) as Buffer;
    const headers = securityHeaders({
      'content-type': TYPES[extname(name)] as string,
      'content-length': String(body.length),
      'cache-control': 'no-cache',
      'content-security-policy': PAGE_CSP,
    });
    const serve = (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, headers);
      res.end(body);
    };
    if (name === 'index.html') router.add('GET', '/', serve);
    else router.add('GET', `${ASSET_PREFIX}${name}`, serve);
  }
  return names;
}
