import type { Readable } from 'node:stream';

import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';

import type { GraphMessageJson } from './graph-message';
import { recipientsOf, sha256 } from './graph-message';
import type { SandboxAttachment } from './options';

/**
 * The .eml of a kept message. For JSON submissions it is rebuilt with nodemailer's MailComposer from what
 * Graph received (recipients incl. Bcc, body, attachments with content ids, X- headers, importance), which is
 * close to — not byte-identical with — what Exchange would put on the wire. MIME submissions keep their bytes.
 */

interface EmailAddress {
  emailAddress?: { address?: string; name?: string };
}

function address(r: unknown): { name: string; address: string } | undefined {
  const e = (r as EmailAddress | undefined)?.emailAddress;
  return e?.address ? { name: e.name ?? '', address: e.address } : undefined;
}

function list(v: unknown): Array<{ name: string; address: string }> {
  return Array.isArray(v)
    ? v.map(address).filter((a): a is { name: string; address: string } => a !== undefined)
    : [];
}

export function emlStreamFromGraph(
  m: GraphMessageJson,
  attachments: SandboxAttachment[],
  opts: { mailbox: string; date: Date },
): Readable {
  const body = (m.body ?? {}) as { contentType?: string; content?: string };
  const isHtml = String(body.contentType ?? 'text').toLowerCase() === 'html';
  const headers: Record<string, string> = {};
  for (const h of Array.isArray(m.internetMessageHeaders)
    ? (m.internetMessageHeaders as Array<{ name?: string; value?: string }>)
    : []) {
    if (h.name) headers[h.name] = h.value ?? '';
  }
  const importance = String(m.importance ?? 'normal').toLowerCase();
  if (importance === 'high' || importance === 'low')
    headers.Importance = importance === 'high' ? 'High' : 'Low';
  const from = address(m.from) ?? { name: '', address: opts.mailbox };
  const sender = address(m.sender);
  const composer = new MailComposer({
    from,
    ...(sender ? { sender } : {}),
    to: list(m.toRecipients),
    cc: list(m.ccRecipients),
    bcc: list(m.bccRecipients),
    replyTo: list(m.replyTo),
    subject: typeof m.subject === 'string' ? m.subject : '',
    date: opts.date,
    headers,
    ...(isHtml ? { html: body.content ?? '' } : { text: body.content ?? '' }),
    attachments: attachments.map((a) => ({
      filename: a.name,
      contentType: a.contentType,
      content: a.content,
      contentDisposition: a.isInline ? 'inline' : 'attachment',
      ...(a.contentId ? { cid: a.contentId } : {}),
    })),
  });
  const node = composer.compile();
  // Graph delivers to Bcc recipients; keep them visible in the sandbox copy.
  node.keepBcc = true;
  return node.createReadStream();
}

export async function emlFromGraph(
  m: GraphMessageJson,
  attachments: SandboxAttachment[],
  opts: { mailbox: string; date: Date },
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of emlStreamFromGraph(m, attachments, opts)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export interface MimeSummary {
  subject: string;
  from?: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  body: { contentType: 'text' | 'html'; content: string };
  attachments: SandboxAttachment[];
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const objects = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return objects.flatMap((o) => o.value.map((v) => v.address ?? '').filter((x) => x !== ''));
}

/** What a MIME submission says (Graph takes the recipients from the headers, Bcc included). */
export async function summarizeMime(mime: Buffer): Promise<MimeSummary> {
  const parsed = await simpleParser(mime, { skipTextToHtml: true, skipImageLinks: true });
  const from = addresses(parsed.from)[0];
  return {
    subject: parsed.subject ?? '',
    ...(from ? { from } : {}),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    replyTo: addresses(parsed.replyTo),
    body:
      typeof parsed.html === 'string'
        ? { contentType: 'html', content: parsed.html }
        : { contentType: 'text', content: parsed.text ?? '' },
    attachments: parsed.attachments.map((a) => ({
      name: a.filename ?? 'attachment',
      contentType: a.contentType,
      size: a.content.length,
      sha256: sha256(a.content),
      isInline: a.contentDisposition === 'inline',
      ...(a.cid ? { contentId: a.cid } : {}),
      content: a.content,
    })),
  };
}

export function graphSummary(m: GraphMessageJson): Omit<MimeSummary, 'attachments'> {
  const r = recipientsOf(m);
  const body = (m.body ?? {}) as { contentType?: string; content?: string };
  const from = address(m.from)?.address;
  return {
    subject: typeof m.subject === 'string' ? m.subject : '',
    ...(from ? { from } : {}),
    ...r,
    body: {
      contentType: String(body.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text',
      content: body.content ?? '',
    },
  };
}
