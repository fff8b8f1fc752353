import type { HttpResponseInit } from '@azure/functions';

/**
 * The small HTML page a customer admin sees after answering the consent prompt. Everything shown is escaped
 * (the query string is attacker-controlled), no script, no outside resource: CSP `default-src 'none'`.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function consentPage(
  status: number,
  page: { title: string; paragraphs: string[]; lines?: string[] },
): HttpResponseInit {
  const body = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}pre{white-space:pre-wrap;background:#f4f4f4;padding:.75rem}</style>',
    '</head><body>',
    `<h1>${escapeHtml(page.title)}</h1>`,
    ...page.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(page.lines && page.lines.length > 0 ? [`<pre>${escapeHtml(page.lines.join('\n'))}</pre>`] : []),
    '</body></html>',
  ].join('\n');
  return {
    status,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
  };
}
