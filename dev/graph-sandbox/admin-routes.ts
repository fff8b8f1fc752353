import type { MessageStore } from './message-store';
import { attachmentFileName } from './message-store';
import { graphError, jsonReply, type Reply } from './reply';
import type { RequestContext } from './request-context';

/**
 * /_sandbox/…: read-only views of the kept messages for the status page and for people (the edge listener
 * cannot import function code, so it reads these over https or the data directory). Not part of Graph.
 *
 *   GET    /_sandbox/messages                       summaries, newest last (no bytes)
 *   GET    /_sandbox/messages/{id}/message.eml      the message as RFC 5322
 *   GET    /_sandbox/messages/{id}/attachments/{n}  attachment n (1-based) with its content type
 *   DELETE /_sandbox/messages                       forget the kept messages (disk copies stay)
 */
export async function adminRoute(ctx: RequestContext, store: MessageStore): Promise<Reply> {
  const path = ctx.url.pathname;
  if (path === '/_sandbox/messages' && ctx.method === 'GET') {
    return jsonReply(
      200,
      store.list().map(({ attachments, requests, mime: _m, eml: _e, ...m }) => ({
        ...m,
        requestCount: requests.length,
        attachments: attachments.map(({ content: _c, ...a }, i) => ({
          ...a,
          href: `/_sandbox/messages/${m.id}/attachments/${i + 1}`,
          file: attachmentFileName(i, a.name),
        })),
        emlHref: `/_sandbox/messages/${m.id}/message.eml`,
      })),
    );
  }
  if (path === '/_sandbox/messages' && ctx.method === 'DELETE') {
    store.clear();
    return { status: 204 };
  }
  const eml = /^\/_sandbox\/messages\/([^/]+)\/message\.eml$/.exec(path);
  const att = /^\/_sandbox\/messages\/([^/]+)\/attachments\/(\d+)$/.exec(path);
  const message = store.get((eml ?? att)?.[1] ?? '');
  if (ctx.method === 'GET' && message && eml) {
    return {
      status: 200,
      headers: {
        'Content-Type': 'message/rfc822',
        'Content-Disposition': `attachment; filename="${message.id}.eml"`,
      },
      raw: await message.eml(),
    };
  }
  const attachment = att ? message?.attachments[Number(att[2]) - 1] : undefined;
  if (ctx.method === 'GET' && attachment) {
    return {
      status: 200,
      headers: {
        'Content-Type': attachment.contentType,
        'Content-Disposition': `attachment; filename="${attachmentFileName(Number(att?.[2]) - 1, attachment.name)}"`,
        'X-Content-Type-Options': 'nosniff',
      },
      raw: attachment.content,
    };
  }
  return graphError(ctx, 404, 'ResourceNotFound', 'No such sandbox message or attachment.');
}
