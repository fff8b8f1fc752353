import { sanitizeHtml } from './html-sanitize';
import type { SandboxBody } from './sandbox-client';

/**
 * The document the status page shows a kept message's body in. The page puts it into `<iframe sandbox>` as
 * srcdoc, where the page's own strict CSP governs it too. Opened directly from its route it carries a CSP
 * that sandboxes it by itself: no script runs, it has no origin to talk to, and nothing is fetched (remote
 * images and fonts stay out).
 */
export const PREVIEW_CSP =
  "sandbox; default-src 'none'; style-src 'self' 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/** The frame's own look, from the page's assets (an inline style would be refused by the page's CSP). */
const FRAME_STYLESHEET = '/status/assets/preview.css';

export function previewDocument(body: SandboxBody): string {
  const content =
    body.contentType === 'html'
      ? sanitizeHtml(body.content)
      : `<pre class="plain">${escapeHtml(body.content)}</pre>`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><link rel="stylesheet" href="${FRAME_STYLESHEET}"></head><body>${content}</body></html>`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
