import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import type { Logger } from '../../core/log';
import type { SandboxAttachment, SandboxGraphRequest, SandboxMessage } from './options';

/**
 * Reads back the message folders MessageStore wrote (message-store.ts), so a restarted sandbox lists what it
 * kept before. Newest first until the memory bounds are reached, like the store keeps them; a folder that
 * is incomplete or does not check out is skipped and logged, never deleted — it is the user's copy.
 */

/** `<receivedAt with : and . as ->-<id>`, as MessageStore names a folder; other folders (tls/) are not ours. */
const FOLDER_NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-([0-9a-z]+-[0-9a-f]+)$/;
const TMP_PREFIX = '.tmp-';

const addressList = z.array(z.string());
const summarySchema = z.object({
  id: z.string(),
  receivedAt: z.iso.datetime(),
  mailbox: z.string(),
  tenantId: z.string().optional(),
  appId: z.string().optional(),
  via: z.enum(['sendMail', 'draft']),
  format: z.enum(['json', 'mime']),
  subject: z.string(),
  from: z.string().optional(),
  to: addressList,
  cc: addressList,
  bcc: addressList,
  replyTo: addressList,
  saveToSentItems: z.boolean(),
  body: z.object({ contentType: z.enum(['text', 'html']), content: z.string() }),
  attachments: z.array(
    z.object({
      name: z.string(),
      contentType: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string(),
      isInline: z.boolean(),
      contentId: z.string().optional(),
      // Relative to the folder; checked below so a crafted summary cannot read outside it.
      file: z.string().regex(/^attachments\/[^/\\]+$/),
    }),
  ),
});
const requestsSchema = z.array(
  z.looseObject({
    route: z.string(),
    method: z.string(),
    path: z.string(),
    bytes: z.number(),
    requestId: z.string(),
  }),
);

type Summary = z.infer<typeof summarySchema>;

export interface LoadBounds {
  maxKept: number;
  maxKeptBytes: number;
  logger: Logger;
}

/** The kept messages of `dataDir`, oldest first (the store's order), at most the newest that fit the bounds. */
export async function loadKeptMessages(dataDir: string, bounds: LoadBounds): Promise<SandboxMessage[]> {
  let names: string[];
  try {
    const entries = await readdir(dataDir, { withFileTypes: true });
    names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []; // first start: keep() creates it
    throw e;
  }
  for (const name of names.filter(
    (n) => n.startsWith(TMP_PREFIX) && FOLDER_NAME.test(n.slice(TMP_PREFIX.length)),
  )) {
    skipped(bounds.logger, name, 'an interrupted write (the sandbox stopped while keeping it)');
  }
  // The name starts with the ISO time, so the name order is the time order; newest first.
  const folders = names
    .filter((n) => FOLDER_NAME.test(n))
    .sort()
    .reverse();
  const loaded: SandboxMessage[] = [];
  let bytes = 0;
  for (const name of folders) {
    if (loaded.length >= bounds.maxKept) break;
    const dir = join(dataDir, name);
    let message: SandboxMessage;
    let size: number;
    try {
      const summary = await readSummary(dir, name);
      size = await keptBytes(dir, summary);
      // The newest message always stays, as in MessageStore.keep; older ones only while they fit.
      if (loaded.length > 0 && bytes + size > bounds.maxKeptBytes) break;
      message = await readMessage(dir, summary);
    } catch (e) {
      skipped(bounds.logger, name, e instanceof Error ? e.message : String(e));
      continue;
    }
    loaded.push(message);
    bytes += size;
  }
  if (folders.length > 0) {
    bounds.logger.info({ event: 'SANDBOX_MESSAGES_LOADED', loaded: loaded.length, folders: folders.length });
  }
  return loaded.reverse();
}

function skipped(logger: Logger, folder: string, reason: string): void {
  logger.warn({ event: 'SANDBOX_MESSAGE_SKIPPED', folder, reason });
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${what} is missing or unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

async function readSummary(dir: string, name: string): Promise<Summary> {
  const parsed = summarySchema.safeParse(await readJson(join(dir, 'summary.json'), 'summary.json'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `summary.json does not describe a kept message (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
    );
  }
  if (FOLDER_NAME.exec(name)?.[1] !== parsed.data.id)
    throw new Error('summary.json names another message id');
  return parsed.data;
}

/** What the message will hold in memory (the store's bytesOf), known before reading any content. */
async function keptBytes(dir: string, s: Summary): Promise<number> {
  const attachments = s.attachments.reduce((n, a) => n + a.size, 0);
  if (s.format !== 'mime') return attachments;
  try {
    return attachments + (await stat(join(dir, 'message.eml'))).size;
  } catch {
    throw new Error('message.eml is missing');
  }
}

async function readMessage(dir: string, s: Summary): Promise<SandboxMessage> {
  const requests = requestsSchema.safeParse(await readJson(join(dir, 'request.json'), 'request.json'));
  if (!requests.success) throw new Error('request.json is not a list of Graph requests');
  const emlPath = join(dir, 'message.eml');
  // format mime: the submitted bytes are the message; format json: message.eml is the rebuilt copy.
  const mime = s.format === 'mime' ? await readFile(emlPath) : undefined;
  if (!mime && !(await stat(emlPath).catch(() => undefined))?.isFile())
    throw new Error('message.eml is missing');
  const attachments: SandboxAttachment[] = [];
  for (const { file, ...a } of s.attachments) {
    const content = await readFile(join(dir, file)).catch(() => {
      throw new Error(`${file} is missing or unreadable`);
    });
    if (content.length !== a.size || createHash('sha256').update(content).digest('hex') !== a.sha256) {
      throw new Error(`${file} does not match its size and sha256 in summary.json`);
    }
    attachments.push({ ...a, content });
  }
  const { attachments: _a, ...rest } = s;
  return {
    ...rest,
    attachments,
    requests: requests.data as SandboxGraphRequest[],
    ...(mime ? { mime } : {}),
    dir,
    eml: () => (mime ? Promise.resolve(mime) : readFile(emlPath)),
  };
}
