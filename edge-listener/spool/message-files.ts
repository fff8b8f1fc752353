import { open } from 'node:fs/promises';
import { join } from 'node:path';

import { DirectorySyncer } from './dir-sync';
import { removeIfExists, rename, writeFileSynced } from './durable-fs';
import type { HeldMessage } from './held-message';
import { emlName, metaName, type SpoolLayout } from './layout';

/** The files of live entries in messages/: durable writes, removal, fsync, and reading a message's head. */
export class MessageFiles {
  readonly #layout: SpoolLayout;
  readonly #dirSync: DirectorySyncer;
  #tmpSeq = 0;

  constructor(layout: SpoolLayout) {
    this.#layout = layout;
    this.#dirSync = new DirectorySyncer(layout.messages);
  }

  emlPath(id: string): string {
    return join(this.#layout.messages, emlName(id));
  }

  metaPath(id: string): string {
    return join(this.#layout.messages, metaName(id));
  }

  /** fsync of messages/, grouped with concurrent callers (dir-sync.ts). */
  syncDirectory(): Promise<void> {
    return this.#dirSync.sync();
  }

  /** Writes one file through tmp/ with fsync and rename; the caller then fsyncs the directory. */
  async writeDurably(name: string, data: string | Buffer): Promise<void> {
    const tmp = join(this.#layout.tmp, `${name}.${process.pid}.${++this.#tmpSeq}`);
    try {
      await writeFileSynced(tmp, data);
      await rename(tmp, join(this.#layout.messages, name));
    } catch (e) {
      await removeIfExists(tmp).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Writes an entry's message and metadata durably (the caller fsyncs the directory). `body` is given for an
   * entry that so far lives in the journal only; if its metadata then cannot be written (disk full), the
   * message file just written is removed again: the journal still holds the message, and a message file
   * without metadata would be quarantined at the next start as if it were damaged.
   */
  async writeEntry(id: string, body: HeldMessage | undefined, metaJson: string): Promise<void> {
    if (body) await this.writeDurably(emlName(id), body.join());
    try {
      await this.writeDurably(metaName(id), metaJson);
    } catch (e) {
      if (body) await removeIfExists(this.emlPath(id)).catch(() => undefined);
      throw e;
    }
  }

  /** Removes an entry's files; the metadata first, so an interrupted removal leaves no half entry. */
  async remove(id: string): Promise<void> {
    await removeIfExists(this.metaPath(id));
    await removeIfExists(this.emlPath(id));
  }

  /** fsync of an entry's files that exist (they were written without it). */
  async sync(id: string): Promise<void> {
    for (const path of [this.emlPath(id), this.metaPath(id)]) {
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // finished or deleted meanwhile
        throw e;
      }
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
  }

  async readHead(id: string, maxBytes: number): Promise<Buffer | undefined> {
    try {
      const handle = await open(this.emlPath(id), 'r');
      try {
        const { buffer, bytesRead } = await handle.read(Buffer.alloc(maxBytes), 0, maxBytes, 0);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    } catch {
      return undefined; // finished or deleted meanwhile
    }
  }
}
