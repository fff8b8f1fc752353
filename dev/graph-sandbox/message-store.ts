import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Logger } from '../../core/log';
import { emlFromGraph, emlStreamFromGraph, type MimeSummary } from './eml';
import type { GraphMessageJson } from './graph-message';
import { loadKeptMessages } from './kept-message-loader';
import type { SandboxAttachment, SandboxGraphRequest, SandboxMessage } from './options';

/**
 * Keeps every message the sandbox accepted: in memory (bounded) and, with a data directory, on disk — one
 * folder per message, written under a temporary name and renamed, so a reader never sees half a message:
 *
 *   <dataDir>/<receivedAt>-<id>/summary.json     what the status page lists (no bytes)
 *                               request.json     the Graph request(s), attachment bytes elided
 *                               message.eml      the message as RFC 5322
 *                               attachments/<n>-<name>
 */

export interface KeepInput {
  mailbox: string;
  tenantId?: string;
  appId?: string;
  via: SandboxMessage['via'];
  format: SandboxMessage['format'];
  saveToSentItems: boolean;
  summary: Omit<MimeSummary, 'attachments'>;
  attachments: SandboxAttachment[];
  requests: SandboxGraphRequest[];
  /** Graph message resource (format json), without attachments. */
  graphMessage?: GraphMessageJson;
  mime?: Buffer;
}

export function attachmentFileName(index: number, name: string): string {
  const safe =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 100) || 'attachment';
  return `${index + 1}-${safe}`;
}

const bytesOf = (m: SandboxMessage) => (m.mime?.length ?? 0) + m.attachments.reduce((n, a) => n + a.size, 0);

export class MessageStore {
  readonly #kept: SandboxMessage[] = [];
  readonly #dataDir?: string;
  readonly #maxKept: number;
  readonly #maxKeptBytes: number;
  #keptBytes = 0;
  readonly #logger: Logger;

  constructor(opts: { dataDir?: string; maxKept: number; maxKeptBytes: number; logger: Logger }) {
    if (opts.dataDir) this.#dataDir = opts.dataDir;
    this.#maxKept = opts.maxKept;
    this.#maxKeptBytes = opts.maxKeptBytes;
    this.#logger = opts.logger;
  }

  /**
   * Lists again what an earlier run kept on disk (newest first within the bounds), so a restart does not
   * empty the status page's list. Call once, before serving.
   */
  async loadFromDisk(): Promise<void> {
    if (!this.#dataDir) return;
    const loaded = await loadKeptMessages(this.#dataDir, {
      maxKept: this.#maxKept,
      maxKeptBytes: this.#maxKeptBytes,
      logger: this.#logger,
    });
    this.#kept.unshift(...loaded);
    this.#keptBytes += loaded.reduce((n, m) => n + bytesOf(m), 0);
  }

  list(): SandboxMessage[] {
    return [...this.#kept];
  }

  get(id: string): SandboxMessage | undefined {
    return this.#kept.find((m) => m.id === id);
  }

  clear(): void {
    this.#kept.length = 0;
    this.#keptBytes = 0;
  }

  async keep(input: KeepInput): Promise<SandboxMessage> {
    const receivedAt = new Date();
    const id = `${receivedAt.getTime().toString(36)}-${randomBytes(5).toString('hex')}`;
    const { graphMessage, mime } = input;
    const emlOpts = { mailbox: input.mailbox, date: receivedAt };
    const message: SandboxMessage = {
      id,
      receivedAt: receivedAt.toISOString(),
      mailbox: input.mailbox,
      ...(input.tenantId ? { tenantId: input.tenantId } : {}),
      ...(input.appId ? { appId: input.appId } : {}),
      via: input.via,
      format: input.format,
      ...input.summary,
      saveToSentItems: input.saveToSentItems,
      attachments: input.attachments,
      requests: input.requests,
      ...(mime ? { mime } : {}),
      // Built on demand: a 100 MB message would otherwise be held twice more as base64 text.
      eml: () =>
        mime ? Promise.resolve(mime) : emlFromGraph(graphMessage ?? {}, input.attachments, emlOpts),
    };
    if (this.#dataDir) {
      message.dir = await this.#write(message, graphMessage, emlOpts);
    }
    this.#kept.push(message);
    this.#keptBytes += bytesOf(message);
    // Memory is bounded by count and by bytes; the newest message always stays, disk copies always stay.
    while (
      this.#kept.length > 1 &&
      (this.#kept.length > this.#maxKept || this.#keptBytes > this.#maxKeptBytes)
    ) {
      this.#keptBytes -= bytesOf(this.#kept.shift() as SandboxMessage);
    }
    this.#logger.info({
      event: 'SANDBOX_MESSAGE_KEPT',
      id,
      via: message.via,
      format: message.format,
      attachments: message.attachments.length,
      recipients: message.to.length + message.cc.length + message.bcc.length,
    });
    return message;
  }

  async #write(
    m: SandboxMessage,
    graphMessage: GraphMessageJson | undefined,
    emlOpts: { mailbox: string; date: Date },
  ): Promise<string> {
    const name = `${m.receivedAt.replace(/[:.]/g, '-')}-${m.id}`;
    const final = join(this.#dataDir as string, name);
    const tmp = join(this.#dataDir as string, `.tmp-${name}`);
    await mkdir(join(tmp, 'attachments'), { recursive: true });
    try {
      const files = m.attachments.map((a, i) => `attachments/${attachmentFileName(i, a.name)}`);
      await Promise.all(m.attachments.map((a, i) => writeFile(join(tmp, files[i] as string), a.content)));
      const eml = m.mime ? null : emlStreamFromGraph(graphMessage ?? {}, m.attachments, emlOpts);
      if (eml) await pipeline(eml, createWriteStream(join(tmp, 'message.eml')));
      else await writeFile(join(tmp, 'message.eml'), m.mime as Buffer);
      await writeFile(join(tmp, 'request.json'), JSON.stringify(m.requests, null, 2));
      const { attachments, requests: _r, mime: _m, eml: _e, ...rest } = m;
      const summary = {
        ...rest,
        attachments: attachments.map(({ content: _c, ...a }, i) => ({ ...a, file: files[i] })),
      };
      await writeFile(join(tmp, 'summary.json'), JSON.stringify(summary, null, 2));
      await rename(tmp, final);
      return final;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }
}
