import { randomBytes, timingSafeEqual } from 'node:crypto';

import { mailboxObjectId, type Directory } from './directory';
import { sha256 } from './graph-message';
import type { MailCall, MailRoutes } from './mail-routes';
import { graphError, jsonReply, type Reply } from './reply';
import { header, type RequestContext } from './request-context';

/**
 * Outlook attachment upload sessions (docs/design/platform-facts.md §A2): createUploadSession on a draft, then PUTs of byte
 * ranges to the pre-authenticated uploadUrl — in order, at most 4 MiB each, Content-Range checked —
 * answered 200 {NextExpectedRanges} and, for the last range, 201 with a Location header.
 *
 * The uploadUrl is handed out on the *other* loopback name than the one the client used for Graph, like
 * outlook.office.com versus graph.microsoft.com, so a Graph client configured for the Graph host has no
 * reason to attach its bearer token. A PUT that carries an Authorization header anyway is refused: the real
 * service must never receive the app's token on that URL.
 */

/** "Files under 3 MB: POST them" — createUploadSession refuses smaller ones. */
export const SANDBOX_UPLOAD_MIN_BYTES = 3_000_000;
export const SANDBOX_CHUNK_MAX_BYTES = 4 * 1024 * 1024;
const SESSION_LIFETIME_MS = 15 * 60_000;

interface Session {
  id: string;
  draftId: string;
  mailboxAddress: string;
  authToken: Buffer;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId?: string;
  size: number;
  /** Allocated once at full size: every chunk is copied in place, no concatenation at the end. */
  bytes: Buffer;
  next: number;
  expiresAt: number;
}

const expectedRanges = (s: Session) => ({
  ExpirationDateTime: new Date(s.expiresAt).toISOString(),
  NextExpectedRanges: [`${s.next}-`],
});

export class UploadRoutes {
  readonly sessions = new Map<string, Session>();
  readonly #mail: MailRoutes;
  readonly #directory: Directory;
  readonly #maxMessageBytes: number;

  constructor(deps: { mail: MailRoutes; directory: Directory; maxMessageBytes: number }) {
    this.#mail = deps.mail;
    this.#directory = deps.directory;
    this.#maxMessageBytes = deps.maxMessageBytes;
  }

  createUploadSession(call: MailCall): Reply {
    const denied = this.#directory.mailAccess(call.mailbox, call.claims, 'Mail.ReadWrite');
    if (denied) return graphError(call.ctx, denied.status, denied.code, denied.message);
    const draft = this.#mail.draftFor(call);
    if (!('id' in draft)) return draft;
    let item: Record<string, unknown> | undefined;
    try {
      item = (JSON.parse(call.ctx.body.toString('utf8')) as { AttachmentItem?: Record<string, unknown> })
        .AttachmentItem;
    } catch {
      item = undefined;
    }
    if (
      !item ||
      String(item.attachmentType).toLowerCase() !== 'file' ||
      typeof item.name !== 'string' ||
      !Number.isSafeInteger(item.size) ||
      (item.size as number) <= 0
    ) {
      return graphError(
        call.ctx,
        400,
        'ErrorInvalidRequest',
        "The request needs AttachmentItem with attachmentType 'file', name and size.",
      );
    }
    const size = item.size as number;
    if (size < SANDBOX_UPLOAD_MIN_BYTES) {
      return graphError(
        call.ctx,
        400,
        'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
        'Attachment size must be greater than the minimum size (3 MB). Use a single POST on the attachments collection instead.',
      );
    }
    if (this.#mail.draftBytes(draft) + size > this.#maxMessageBytes) {
      return graphError(
        call.ctx,
        400,
        'ErrorMessageSizeExceeded',
        'The message exceeds the maximum supported size.',
      );
    }
    const id = randomBytes(18).toString('base64url');
    const authToken = randomBytes(32);
    const session: Session = {
      id,
      draftId: draft.id,
      mailboxAddress: draft.mailbox.address,
      authToken,
      name: item.name,
      contentType: typeof item.contentType === 'string' ? item.contentType : 'application/octet-stream',
      isInline: item.isInline === true,
      ...(typeof item.contentId === 'string' && item.contentId ? { contentId: item.contentId } : {}),
      size,
      bytes: Buffer.allocUnsafe(size),
      next: 0,
      expiresAt: Date.now() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(id, session);
    const path = `/api/v2.0/Users('${mailboxObjectId(draft.mailbox.address)}@${draft.tenantId}')/Messages('${draft.id}')/AttachmentSessions('${id}')`;
    draft.requests.push({
      route: call.route,
      method: 'POST',
      path: call.ctx.url.pathname,
      bytes: call.ctx.body.length,
      requestId: call.ctx.requestId,
      json: JSON.parse(call.ctx.body.toString('utf8')) as unknown,
    });
    return jsonReply(201, {
      '@odata.context': `${call.ctx.origin}/v1.0/$metadata#microsoft.graph.uploadSession`,
      uploadUrl: `${call.ctx.otherOrigin}${path}?authtoken=${authToken.toString('base64url')}`,
      expirationDateTime: new Date(session.expiresAt).toISOString(),
      nextExpectedRanges: ['0-'],
    });
  }

  /** The session a pre-authenticated URL names, or the refusal. */
  #session(ctx: RequestContext, sessionId: string): Session | Reply {
    const s = this.sessions.get(sessionId);
    if (!s || s.expiresAt < Date.now())
      return graphError(ctx, 404, 'ErrorItemNotFound', 'The upload session was not found or has expired.');
    const given = Buffer.from(ctx.url.searchParams.get('authtoken') ?? '', 'base64url');
    if (given.length !== s.authToken.length || !timingSafeEqual(given, s.authToken)) {
      return graphError(ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    }
    return s;
  }

  status(ctx: RequestContext, sessionId: string): Reply {
    const s = this.#session(ctx, sessionId);
    return 'id' in s ? jsonReply(200, expectedRanges(s)) : s;
  }

  cancel(ctx: RequestContext, sessionId: string): Reply {
    const s = this.#session(ctx, sessionId);
    if (!('id' in s)) return s;
    this.sessions.delete(s.id);
    return { status: 204 };
  }

  putChunk(ctx: RequestContext, sessionId: string): Reply {
    if (header(ctx, 'authorization') !== undefined) {
      return graphError(
        ctx,
        400,
        'ErrorInvalidRequest',
        'The upload URL is pre-authenticated; a request to it must not carry an Authorization header (the app token would leak to the upload host).',
      );
    }
    const s = this.#session(ctx, sessionId);
    if (!('id' in s)) return s;
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(ctx, 'content-range') ?? '');
    if (!m)
      return graphError(
        ctx,
        400,
        'ErrorInvalidRequest',
        "A Content-Range header 'bytes start-end/total' is required.",
      );
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (total !== s.size)
      return graphError(
        ctx,
        400,
        'ErrorInvalidRequest',
        `Content-Range total ${total} differs from the session size ${s.size}.`,
      );
    if (start !== s.next)
      return graphError(
        ctx,
        416,
        'ErrorInvalidRange',
        `The range must start at ${s.next}; bytes are accepted in order only.`,
      );
    if (end < start || end >= s.size || end - start + 1 !== ctx.body.length) {
      return graphError(
        ctx,
        400,
        'ErrorInvalidRequest',
        `Content-Range ${start}-${end} does not match the ${ctx.body.length} bytes sent.`,
      );
    }
    ctx.body.copy(s.bytes, start);
    s.next = end + 1;
    const draft = this.#mail.drafts.get(s.draftId);
    if (!draft) {
      this.sessions.delete(s.id);
      return graphError(
        ctx,
        404,
        'ErrorItemNotFound',
        'The message of this upload session no longer exists.',
      );
    }
    draft.requests.push({
      route: 'uploadChunk',
      method: 'PUT',
      path: ctx.url.pathname,
      bytes: ctx.body.length,
      requestId: ctx.requestId,
      ...(header(ctx, 'content-type') ? { contentType: header(ctx, 'content-type') as string } : {}),
    });
    if (s.next < s.size) return jsonReply(200, expectedRanges(s));
    this.sessions.delete(s.id);
    const attachmentId = `AAMkAtt${randomBytes(12).toString('base64url')}`;
    draft.attachments.push({
      name: s.name,
      contentType: s.contentType,
      size: s.size,
      sha256: sha256(s.bytes),
      isInline: s.isInline,
      ...(s.contentId ? { contentId: s.contentId } : {}),
      content: s.bytes,
    });
    return {
      status: 201,
      headers: {
        Location: `${ctx.origin}/v1.0/users('${mailboxObjectId(s.mailboxAddress)}')/messages('${s.draftId}')/attachments('${attachmentId}')`,
      },
    };
  }
}
