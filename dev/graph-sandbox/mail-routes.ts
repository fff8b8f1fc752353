import { randomBytes } from 'node:crypto';

import type { AccessTokenClaims } from './access-token';
import { mailboxObjectId, type Directory, type Refusal } from './directory';
import { graphSummary, summarizeMime } from './eml';
import {
  decodeBase64Strict,
  decodeFileAttachment,
  fromOf,
  isRefusal,
  validateMessage,
  withoutContentBytes,
  type GraphMessageJson,
} from './graph-message';
import type { MessageStore } from './message-store';
import type { SandboxAttachment, SandboxGraphRequest, SandboxMailbox, SandboxRoute } from './options';
import { graphError, jsonReply, type Reply } from './reply';
import { header, type RequestContext } from './request-context';
import { internetMessageIdFilter, mimeMessageId, type SentItems } from './sent-items';

/**
 * The Outlook mail routes under /v1.0/users/{id}: sendMail (JSON or MIME), drafts, attachments, send, and the
 * user lookup. Each answers with Graph's status and error code (docs/design/platform-facts.md §A1–A4).
 */

export interface Draft {
  id: string;
  mailbox: SandboxMailbox;
  tenantId: string;
  appId: string;
  format: 'json' | 'mime';
  message: GraphMessageJson;
  mime?: Buffer;
  attachments: SandboxAttachment[];
  requests: SandboxGraphRequest[];
}

export interface MailCall {
  ctx: RequestContext;
  route: SandboxRoute;
  claims: AccessTokenClaims;
  mailbox: SandboxMailbox;
  messageId?: string;
  folder?: string;
}

export interface MailRoutesDeps {
  directory: Directory;
  store: MessageStore;
  sentItems: SentItems;
  maxMessageBytes: number;
}

const imidOf = (m: GraphMessageJson): string | undefined =>
  typeof m.internetMessageId === 'string' ? m.internetMessageId : undefined;

const refuse = (ctx: RequestContext, r: Refusal): Reply => graphError(ctx, r.status, r.code, r.message);

function record(call: MailCall, json?: unknown): SandboxGraphRequest {
  const contentType = header(call.ctx, 'content-type');
  return {
    route: call.route,
    method: call.ctx.method,
    path: call.ctx.url.pathname,
    ...(contentType ? { contentType } : {}),
    bytes: call.ctx.body.length,
    requestId: call.ctx.requestId,
    ...(call.ctx.arrivedAtMs !== undefined ? { arrivedAtMs: call.ctx.arrivedAtMs } : {}),
    ...(json !== undefined ? { json: withoutContentBytes(json) } : {}),
  };
}

const isMime = (ctx: RequestContext) => /^text\/plain\b/i.test(header(ctx, 'content-type') ?? '');

function parseJson(ctx: RequestContext): unknown {
  try {
    return JSON.parse(ctx.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const tooBig = (ctx: RequestContext): Reply =>
  graphError(ctx, 400, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
const invalidMime = (ctx: RequestContext): Reply =>
  graphError(ctx, 400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.');

export class MailRoutes {
  readonly drafts = new Map<string, Draft>();
  readonly #deps: MailRoutesDeps;

  constructor(deps: MailRoutesDeps) {
    this.#deps = deps;
  }

  getUser(call: MailCall): Reply {
    const denied = this.#deps.directory.permission(call.claims, 'User.Read');
    if (denied) return refuse(call.ctx, denied);
    const m = call.mailbox;
    return jsonReply(200, {
      '@odata.context': `${call.ctx.origin}/v1.0/$metadata#users/$entity`,
      id: mailboxObjectId(m.address),
      displayName: m.displayName ?? m.address.split('@')[0],
      mail: m.address,
      userPrincipalName: m.address,
    });
  }

  async sendMail(call: MailCall): Promise<Reply> {
    const { ctx, mailbox, claims } = call;
    const denied = this.#deps.directory.mailAccess(mailbox, claims, 'Mail.Send');
    if (denied) return refuse(ctx, denied);
    if (isMime(ctx)) {
      const mime = decodeBase64Strict(ctx.body.toString('latin1'));
      if (!mime || mime.length === 0) return invalidMime(ctx);
      if (mime.length > this.#deps.maxMessageBytes) return tooBig(ctx);
      const summary = await summarizeMime(mime);
      const problem = this.#sendable(mailbox, summary.from, [...summary.to, ...summary.cc, ...summary.bcc]);
      if (problem) return refuse(ctx, problem);
      const { attachments, ...rest } = summary;
      await this.#deps.store.keep({
        ...this.#who(call),
        via: 'sendMail',
        format: 'mime',
        saveToSentItems: true,
        summary: rest,
        attachments,
        requests: [record(call)],
        mime,
      });
      this.#deps.sentItems.add(mailbox.address, mimeMessageId(mime));
      return { status: 202 };
    }
    const json = parseJson(ctx) as { message?: unknown; saveToSentItems?: unknown } | undefined;
    const invalid = validateMessage(json?.message, { requireRecipients: true });
    if (invalid) return refuse(ctx, invalid);
    const message = json?.message as GraphMessageJson;
    const attachments: SandboxAttachment[] = [];
    for (const a of Array.isArray(message.attachments) ? (message.attachments as unknown[]) : []) {
      const decoded = decodeFileAttachment(a);
      if (isRefusal(decoded)) return refuse(ctx, decoded);
      attachments.push(decoded);
    }
    if (ctx.body.length > this.#deps.maxMessageBytes) return tooBig(ctx);
    const denyFrom = this.#deps.directory.sendAs(mailbox, fromOf(message));
    if (denyFrom) return refuse(ctx, denyFrom);
    const { attachments: _a, ...bare } = message;
    await this.#deps.store.keep({
      ...this.#who(call),
      via: 'sendMail',
      format: 'json',
      saveToSentItems: json?.saveToSentItems !== false,
      summary: graphSummary(bare),
      attachments,
      requests: [record(call, json)],
      graphMessage: bare,
    });
    if (json?.saveToSentItems !== false) this.#deps.sentItems.add(mailbox.address, imidOf(bare));
    return { status: 202 };
  }

  async createMessage(call: MailCall): Promise<Reply> {
    const { ctx, mailbox, claims } = call;
    const denied = this.#deps.directory.mailAccess(mailbox, claims, 'Mail.ReadWrite');
    if (denied) return refuse(ctx, denied);
    const id = `AAMkAG${randomBytes(24).toString('base64url')}`;
    let draft: Draft;
    if (isMime(ctx)) {
      const mime = decodeBase64Strict(ctx.body.toString('latin1'));
      if (!mime || mime.length === 0) return invalidMime(ctx);
      draft = {
        id,
        mailbox,
        tenantId: claims.tid,
        appId: claims.appid,
        format: 'mime',
        message: {},
        mime,
        attachments: [],
        requests: [record(call)],
      };
    } else {
      const message = parseJson(ctx);
      const invalid = validateMessage(message, { requireRecipients: false });
      if (invalid) return refuse(ctx, invalid);
      const { attachments: raw, ...bare } = message as GraphMessageJson;
      const attachments: SandboxAttachment[] = [];
      for (const a of Array.isArray(raw) ? (raw as unknown[]) : []) {
        const decoded = decodeFileAttachment(a);
        if (isRefusal(decoded)) return refuse(ctx, decoded);
        attachments.push(decoded);
      }
      draft = {
        id,
        mailbox,
        tenantId: claims.tid,
        appId: claims.appid,
        format: 'json',
        message: bare,
        attachments,
        requests: [record(call, message)],
      };
    }
    this.drafts.set(id, draft);
    return jsonReply(201, {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#users('${mailbox.address}')/messages/$entity`,
      ...draft.message,
      id,
      isDraft: true,
      hasAttachments: draft.attachments.length > 0,
    });
  }

  /** The caller's draft, or Graph's 404 for an id it does not know in this mailbox. */
  draftFor(call: MailCall): Draft | Reply {
    const draft = call.messageId ? this.drafts.get(call.messageId) : undefined;
    if (!draft || draft.mailbox.address.toLowerCase() !== call.mailbox.address.toLowerCase()) {
      return graphError(
        call.ctx,
        404,
        'ErrorItemNotFound',
        'The specified object was not found in the store.',
      );
    }
    return draft;
  }

  draftBytes(d: Draft): number {
    return (
      (d.mime?.length ?? Buffer.byteLength(JSON.stringify(d.message))) +
      d.attachments.reduce((n, a) => n + a.size, 0)
    );
  }

  addAttachment(call: MailCall): Reply {
    const denied = this.#deps.directory.mailAccess(call.mailbox, call.claims, 'Mail.ReadWrite');
    if (denied) return refuse(call.ctx, denied);
    const draft = this.draftFor(call);
    if (!('id' in draft)) return draft;
    const json = parseJson(call.ctx);
    const attachment = decodeFileAttachment(json);
    if (isRefusal(attachment)) return refuse(call.ctx, attachment);
    if (this.draftBytes(draft) + attachment.size > this.#deps.maxMessageBytes) return tooBig(call.ctx);
    draft.attachments.push(attachment);
    draft.requests.push(record(call, json));
    const { content: _c, sha256: _s, ...meta } = attachment;
    return jsonReply(201, {
      '@odata.type': '#microsoft.graph.fileAttachment',
      id: `AAMkAtt${randomBytes(12).toString('base64url')}`,
      ...meta,
    });
  }

  async send(call: MailCall): Promise<Reply> {
    const { ctx, mailbox, claims } = call;
    const denied = this.#deps.directory.mailAccess(mailbox, claims, 'Mail.Send');
    if (denied) return refuse(ctx, denied);
    const draft = this.draftFor(call);
    if (!('id' in draft)) return draft;
    if (draft.mime) {
      const summary = await summarizeMime(draft.mime);
      const problem = this.#sendable(mailbox, summary.from, [...summary.to, ...summary.cc, ...summary.bcc]);
      if (problem) return refuse(ctx, problem);
      const { attachments, ...rest } = summary;
      this.drafts.delete(draft.id);
      await this.#deps.store.keep({
        ...this.#who(call),
        via: 'draft',
        format: 'mime',
        saveToSentItems: true,
        summary: rest,
        attachments: [...attachments, ...draft.attachments],
        requests: [...draft.requests, record(call)],
        mime: draft.mime,
      });
      this.#deps.sentItems.add(mailbox.address, mimeMessageId(draft.mime));
      return { status: 202 };
    }
    const invalid = validateMessage(draft.message, { requireRecipients: true });
    if (invalid) return refuse(ctx, invalid);
    const denyFrom = this.#deps.directory.sendAs(mailbox, fromOf(draft.message));
    if (denyFrom) return refuse(ctx, denyFrom);
    this.drafts.delete(draft.id);
    await this.#deps.store.keep({
      ...this.#who(call),
      via: 'draft',
      format: 'json',
      // /send has no saveToSentItems: a sent draft always lands in Sent Items.
      saveToSentItems: true,
      summary: graphSummary(draft.message),
      attachments: draft.attachments,
      requests: [...draft.requests, record(call)],
      graphMessage: draft.message,
    });
    this.#deps.sentItems.add(mailbox.address, imidOf(draft.message));
    return { status: 202 };
  }

  /**
   * GET /users/{m}/messages or /users/{m}/mailFolders/{folder}/messages with
   * `$filter=internetMessageId eq '<id>'` — the look-up that resolves a lost answer (docs/design/platform-facts.md §F).
   * Sent Items holds what was sent (after the lag); the whole mailbox also holds unsent drafts (isDraft).
   * Other filters are refused as Graph refuses a filter it cannot evaluate.
   */
  listMessages(call: MailCall): Reply {
    const { ctx, mailbox, claims } = call;
    const denied = this.#deps.directory.mailAccess(mailbox, claims, 'Mail.ReadBasic');
    if (denied) return refuse(ctx, denied);
    const folder = call.folder?.toLowerCase();
    if (folder !== undefined && folder !== 'sentitems' && folder !== 'drafts')
      return graphError(
        ctx,
        404,
        'ErrorItemNotFound',
        'The specified folder could not be found in the store.',
      );
    const id = internetMessageIdFilter(ctx.url.searchParams.get('$filter'));
    if (id === undefined)
      return graphError(
        ctx,
        400,
        'ErrorInvalidUrlQueryFilter',
        "The sandbox answers only $filter=internetMessageId eq '…'.",
      );
    const sent =
      folder === 'drafts'
        ? []
        : this.#deps.sentItems.find(mailbox.address, id).map((i) => ({
            id: i.id,
            internetMessageId: i.internetMessageId,
            isDraft: false,
            sentDateTime: i.sentDateTime,
          }));
    const drafts =
      folder === 'sentitems'
        ? []
        : [...this.drafts.values()]
            .filter((d) => d.mailbox.address.toLowerCase() === mailbox.address.toLowerCase())
            .filter((d) => (d.mime ? mimeMessageId(d.mime) : imidOf(d.message)) === id)
            .map((d) => ({ id: d.id, internetMessageId: id, isDraft: true, sentDateTime: null }));
    return jsonReply(200, {
      '@odata.context': `${ctx.origin}/v1.0/$metadata#users('${mailbox.address}')/messages`,
      value: [...sent, ...drafts],
    });
  }

  deleteMessage(call: MailCall): Reply {
    const denied = this.#deps.directory.mailAccess(call.mailbox, call.claims, 'Mail.ReadWrite');
    if (denied) return refuse(call.ctx, denied);
    const draft = this.draftFor(call);
    if (!('id' in draft)) return draft;
    this.drafts.delete(draft.id);
    return { status: 204 };
  }

  #sendable(mailbox: SandboxMailbox, from: string | undefined, recipients: string[]): Refusal | undefined {
    if (recipients.length === 0)
      return {
        status: 400,
        code: 'ErrorInvalidRecipients',
        message:
          "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
      };
    return this.#deps.directory.sendAs(mailbox, from);
  }

  #who(call: MailCall): { mailbox: string; tenantId: string; appId: string } {
    return { mailbox: call.mailbox.address, tenantId: call.claims.tid, appId: call.claims.appid };
  }
}
