import { createHash } from 'node:crypto';

import type { Refusal } from './directory';
import type { SandboxAttachment } from './options';

/**
 * Reading the Graph message resource (JSON) the way Graph validates it: recipients, X- header names,
 * fileAttachment contentBytes.
 */

export type GraphMessageJson = Record<string, unknown>;

interface Recipient {
  emailAddress?: { address?: unknown; name?: unknown };
}

const ADDRESS = /^[^@\s<>()",;:]+@[^@\s<>()",;:]+$/;

function addressesOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return (list as Recipient[]).map((r) => String(r?.emailAddress?.address ?? ''));
}

export function recipientsOf(m: GraphMessageJson): {
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
} {
  return {
    to: addressesOf(m.toRecipients),
    cc: addressesOf(m.ccRecipients),
    bcc: addressesOf(m.bccRecipients),
    replyTo: addressesOf(m.replyTo),
  };
}

export function fromOf(m: GraphMessageJson): string | undefined {
  const address = (m.from as Recipient | undefined)?.emailAddress?.address;
  return typeof address === 'string' && address ? address : undefined;
}

const invalidRecipients = (detail: string): Refusal => ({
  status: 400,
  code: 'ErrorInvalidRecipients',
  message: `At least one recipient is not valid., ${detail}`,
});

/** Graph's checks on a message resource; `requireRecipients` for sendMail and /send (a draft may have none). */
export function validateMessage(m: unknown, opts: { requireRecipients: boolean }): Refusal | undefined {
  if (!m || typeof m !== 'object' || Array.isArray(m))
    return { status: 400, code: 'ErrorInvalidRequest', message: 'Empty Payload. JSON content expected.' };
  const message = m as GraphMessageJson;
  const r = recipientsOf(message);
  const all = [...r.to, ...r.cc, ...r.bcc];
  const bad = [...all, ...r.replyTo].find((a) => !ADDRESS.test(a));
  if (bad !== undefined)
    return invalidRecipients(
      `Recipient '${bad}' is not resolved. All recipients must be resolved before a message can be submitted.`,
    );
  if (opts.requireRecipients && all.length === 0)
    return invalidRecipients("A message can't be sent because it contains no recipients.");
  const headers = message.internetMessageHeaders;
  if (headers !== undefined) {
    if (!Array.isArray(headers))
      return {
        status: 400,
        code: 'ErrorInvalidRequest',
        message: 'internetMessageHeaders must be a collection.',
      };
    for (const h of headers as Array<{ name?: unknown }>) {
      const name = String(h?.name ?? '');
      if (!/^x-/i.test(name))
        return {
          status: 400,
          code: 'InvalidInternetMessageHeader',
          message: `The internet message header name '${name}' should start with 'x-' or 'X-'.`,
        };
    }
  }
  const body = message.body as { contentType?: unknown } | undefined;
  if (body !== undefined && !['text', 'html'].includes(String(body?.contentType ?? 'text').toLowerCase())) {
    return {
      status: 400,
      code: 'ErrorInvalidRequest',
      message: "The body contentType must be 'text' or 'html'.",
    };
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (Graph refuses anything else): whitespace allowed between lines, length a multiple of 4. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n\t ]/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fileAttachment resource → the kept attachment, or Graph's refusal. */
export function decodeFileAttachment(a: unknown): SandboxAttachment | Refusal {
  const o = (a ?? {}) as Record<string, unknown>;
  if (o['@odata.type'] !== '#microsoft.graph.fileAttachment') {
    return {
      status: 400,
      code: 'ErrorInvalidRequest',
      message: `The sandbox accepts only '#microsoft.graph.fileAttachment' (got '${String(o['@odata.type'])}').`,
    };
  }
  if (typeof o.name !== 'string' || typeof o.contentBytes !== 'string')
    return {
      status: 400,
      code: 'ErrorInvalidRequest',
      message: 'A fileAttachment needs name and contentBytes.',
    };
  const content = decodeBase64Strict(o.contentBytes);
  if (!content)
    return {
      status: 400,
      code: 'ErrorInvalidRequest',
      message: 'Invalid base64 string for attachment contentBytes.',
    };
  return {
    name: o.name,
    contentType: typeof o.contentType === 'string' ? o.contentType : 'application/octet-stream',
    size: content.length,
    sha256: sha256(content),
    isInline: o.isInline === true,
    ...(typeof o.contentId === 'string' && o.contentId ? { contentId: o.contentId } : {}),
    content,
  };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'code' in x && 'status' in x && 'message' in x;
}

/** A copy for request.json: attachment contentBytes replaced by a size note (the bytes are kept as files). */
export function withoutContentBytes(json: unknown): unknown {
  return JSON.parse(JSON.stringify(json), (key, value: unknown) =>
    key === 'contentBytes' && typeof value === 'string'
      ? `<${Math.floor((value.length * 3) / 4)} bytes, see attachments/>`
      : value,
  );
}
