import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';

import { afterEach, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { KEEP_IN_MEMORY_BYTES } from '../../../edge-listener/spool/intake-writer';
import { readDoneLog } from '../../../edge-listener/spool/done-log';
import { Spool, type SpoolOptions } from '../../../edge-listener/spool/spool';
import { ENVELOPE_PARTS as parts, spoolOptions as options, storeMessage as store } from './spool-fixture';

const dirs: string[] = [];
const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openSpool(dataDir = mkdtempSync(join(tmpdir(), 'spool-')), more: Partial<SpoolOptions> = {}) {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const spool = await Spool.open(options(dataDir, more));
  open.push(spool);
  return { spool, dataDir };
}

describe('spool', () => {
  it('commits a small message through the journal, and writes its own files once it has to wait', async () => {
    const { spool } = await openSpool();
    const meta = await store(spool, 'Subject: one\r\n\r\nbody\r\n');
    const id = meta.envelope.messageId;
    expect(meta).toMatchObject({
      state: 'queued',
      attempts: 1,
      mimeBytes: 22,
      envelope: { ...parts, messageId: id },
    });
    // durable in the journal; no file created for it yet
    expect(readdirSync(spool.layout.messages)).toEqual([]);
    expect(readdirSync(spool.layout.journal)).toHaveLength(1);
    expect(await text(spool.openMessage(id)!)).toBe('Subject: one\r\n\r\nbody\r\n');
    expect((await spool.readHead(id, 7))?.toString()).toBe('Subject');
    expect(await spool.get(id)).toMatchObject({ id, state: 'deferred', mimeBytes: 22 });
    const stats = spool.stats();
    expect(stats.depth).toMatchObject({ deferred: 1, queued: 0 });
    expect(stats.bytes).toBe(22);
    expect(stats.oldestWaitingAt).toBe(meta.envelope.receivedAt);
    // a state change (the forwarder deferring it) puts it on its own files
    await spool.saveMeta(id, { ...meta, state: 'deferred', attempts: 2 });
    expect(readdirSync(spool.layout.messages).sort()).toEqual([`${id}.eml`, `${id}.json`]);
    expect(JSON.parse(readFileSync(join(spool.layout.messages, `${id}.json`), 'utf8'))).toMatchObject({
      state: 'deferred',
      attempts: 2,
    });
    expect(readFileSync(spool.messagePath(id), 'utf8')).toBe('Subject: one\r\n\r\nbody\r\n');
  });

  it('keeps bodies in memory only within the memory budget', async () => {
    const { spool } = await openSpool(undefined, { memoryBytes: 100 * 1024 });
    const a = await spool.beginMessage();
    await a.write(Buffer.alloc(80 * 1024));
    const b = await spool.beginMessage();
    await b.write(Buffer.alloc(80 * 1024)); // would pass the budget: goes to a file
    expect(a.body).toBeDefined();
    expect(b.body).toBeUndefined();
    const meta = await a.commit(parts, Date.now() + 60_000);
    expect(spool.stats().memoryBytes).toBe(80 * 1024);
    await spool.complete(meta.envelope.messageId, meta, 'sent', {
      id: meta.envelope.messageId,
      state: 'sent',
    });
    expect(spool.stats().memoryBytes).toBe(0);
    await b.discard();
  });

  it('streams a large message to a file and fsyncs it on its own', async () => {
    const { spool } = await openSpool();
    const big = Buffer.alloc(KEEP_IN_MEMORY_BYTES + 64 * 1024, 0x41);
    const w = await spool.beginMessage();
    for (let off = 0; off < big.length; off += 64 * 1024) await w.write(big.subarray(off, off + 64 * 1024));
    expect(w.body).toBeUndefined();
    const meta = await w.commit(parts, Date.now() + 60_000);
    expect(readdirSync(spool.layout.messages).sort()).toEqual([
      `${meta.envelope.messageId}.eml`,
      `${meta.envelope.messageId}.json`,
    ]);
    expect(readFileSync(spool.messagePath(meta.envelope.messageId)).equals(big)).toBe(true);
    expect(readdirSync(spool.layout.tmp)).toEqual([]);
  });

  it('discards a refused or abandoned message without leaving anything behind', async () => {
    const { spool } = await openSpool(undefined, { maxBytes: 1000 });
    const w = await spool.beginMessage();
    await w.write(Buffer.alloc(800));
    await w.write(Buffer.alloc(800));
    expect(w.failure?.code).toBe('SPOOL_FULL');
    await expect(w.commit(parts, Date.now())).rejects.toMatchObject({ code: 'SPOOL_FULL' });
    await w.discard();
    expect(readdirSync(spool.layout.tmp)).toEqual([]);
    expect(spool.stats().bytes).toBe(0);
  });

  it('recovers at start: resumes good entries, removes unacknowledged leftovers, quarantines the rest without deleting', async () => {
    const { spool, dataDir } = await openSpool();
    const good = await store(spool, 'good');
    const garbage = await store(spool, 'bad json');
    const short = await store(spool, 'truncated message');
    const orphanEml = await store(spool, 'no metadata');
    const orphanMeta = await store(spool, 'no message');
    const finished = await store(spool, 'finished');
    await spool.close();
    open.length = 0;
    // one clean restart: the journal is replayed and dropped, every entry now stands on its own files
    const middle = (await openSpool(dataDir)).spool;
    await middle.complete(finished.envelope.messageId, finished, 'sent', {
      id: finished.envelope.messageId,
      state: 'sent',
    });
    await middle.close();
    open.length = 0;
    const m = spool.layout.messages;
    writeFileSync(join(m, `${garbage.envelope.messageId}.json`), '{"version":1,');
    writeFileSync(join(m, `${short.envelope.messageId}.eml`), 'trunc');
    rmSync(join(m, `${orphanEml.envelope.messageId}.json`));
    rmSync(join(m, `${orphanMeta.envelope.messageId}.eml`));
    // a crash between the two unlinks of a finished message leaves its .eml behind
    writeFileSync(join(m, `${finished.envelope.messageId}.eml`), 'finished');
    writeFileSync(join(m, 'notes.txt'), 'someone put this here');
    writeFileSync(join(spool.layout.tmp, 'interrupted.eml'), 'half a message');

    const { spool: again } = await openSpool(dataDir);
    const live = (await again.list()).filter((e) => e.state !== 'done').map((e) => e.id);
    expect(live).toEqual([good.envelope.messageId]);
    expect(readdirSync(again.layout.tmp)).toEqual([]);
    expect(existsSync(join(m, `${finished.envelope.messageId}.eml`))).toBe(false);
    const q = readdirSync(again.layout.quarantine);
    for (const name of [
      `${garbage.envelope.messageId}.json`,
      `${garbage.envelope.messageId}.eml`,
      `${short.envelope.messageId}.eml`,
      `${orphanEml.envelope.messageId}.eml`,
      `${orphanMeta.envelope.messageId}.json`,
      'notes.txt',
    ])
      expect(q).toContain(name);
    expect(q.filter((n) => n.endsWith('.reason.json'))).toHaveLength(5);
    const reason = JSON.parse(
      readFileSync(join(again.layout.quarantine, `${short.envelope.messageId}.eml.reason.json`), 'utf8'),
    ) as { reason: string };
    expect(reason.reason).toContain('metadata says');
    expect(readFileSync(join(again.layout.quarantine, `${short.envelope.messageId}.eml`), 'utf8')).toBe(
      'trunc',
    );
  });

  it('leaves no message file behind when the metadata of a journal-only entry cannot be written (disk full)', async () => {
    const { spool, dataDir } = await openSpool();
    const meta = await store(spool, 'Subject: waits\r\n\r\nstill in the journal\r\n');
    const id = meta.envelope.messageId;
    // A directory where the metadata must go makes its rename fail, as ENOSPC would, after the .eml was written.
    const blocker = join(spool.layout.messages, `${id}.json`);
    mkdirSync(blocker);
    await expect(spool.saveMeta(id, { ...meta, state: 'deferred' })).rejects.toThrow();
    expect(existsSync(join(spool.layout.messages, `${id}.eml`))).toBe(false);
    await spool.close();
    open.length = 0;
    rmdirSync(blocker);
    // The journal still had it: back after a restart, intact, and nothing quarantined.
    const { spool: again } = await openSpool(dataDir);
    expect(await text(again.openMessage(id)!)).toBe('Subject: waits\r\n\r\nstill in the journal\r\n');
    expect(readdirSync(again.layout.quarantine)).toEqual([]);
  });

  it('starts even when a quarantine note cannot be written, and logs why', async () => {
    const { spool, dataDir } = await openSpool();
    await spool.close();
    open.length = 0;
    writeFileSync(join(spool.layout.messages, 'stray.txt'), 'not a spool file');
    mkdirSync(join(spool.layout.quarantine, 'stray.txt.reason.json')); // the note cannot be written
    const logger = memoryLogger();
    const { spool: again } = await openSpool(dataDir, { logger });
    expect(readdirSync(again.layout.quarantine)).toContain('stray.txt');
    expect(logger.lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(['SPOOL_WRITE_FAILED', 'SPOOL_QUARANTINED']),
    );
  });

  it('journals messages that arrived in thousands of small chunks, several at once, and reads them back intact', async () => {
    // A device that sends a line per packet: one message is then thousands of chunks, all appended by one
    // grouped writev (more than IOV_MAX = 1024 buffers across the group).
    const { spool, dataDir } = await openSpool();
    const bodies = [0, 1, 2].map((n) =>
      Array.from({ length: 1500 }, (_, i) => `line ${n}.${i} ${'x'.repeat(i % 50)}\r\n`),
    );
    const metas = await Promise.all(
      bodies.map(async (lines) => {
        const w = await spool.beginMessage();
        for (const line of lines) await w.write(Buffer.from(line));
        return w.commit(parts, Date.now() + 60_000);
      }),
    );
    for (const [i, meta] of metas.entries())
      expect(await text(spool.openMessage(meta.envelope.messageId)!)).toBe(bodies[i]!.join(''));
    await spool.close();
    open.length = 0;
    const { spool: again } = await openSpool(dataDir);
    for (const [i, meta] of metas.entries()) {
      expect(meta.mimeBytes).toBe(Buffer.byteLength(bodies[i]!.join('')));
      expect(await text(again.openMessage(meta.envelope.messageId)!)).toBe(bodies[i]!.join(''));
    }
  });

  it('rebuilds from the commit journal, after a crash, every message that had no files of its own yet', async () => {
    const { spool, dataDir } = await openSpool();
    const a = await store(spool, 'Subject: a\r\n\r\nonly in the journal\r\n');
    const torn = await store(spool, 'Subject: torn\r\n\r\nthe crash came while its files were written\r\n');
    const done = await store(spool, 'Subject: done\r\n\r\nfinished before the crash\r\n');
    await spool.complete(done.envelope.messageId, done, 'sent', {
      id: done.envelope.messageId,
      state: 'sent',
    });
    await spool.close();
    open.length = 0;
    const m = spool.layout.messages;
    writeFileSync(join(m, `${torn.envelope.messageId}.eml`), Buffer.alloc(torn.mimeBytes));
    writeFileSync(join(m, `${torn.envelope.messageId}.json`), '{"version":1,');
    // a torn record at the end of the journal (the crash came mid-append) is ignored
    const seg = readdirSync(spool.layout.journal)[0]!;
    writeFileSync(
      join(spool.layout.journal, seg),
      Buffer.concat([readFileSync(join(spool.layout.journal, seg)), Buffer.from('SGJ1C\0\0\x10\0garbage')]),
    );

    const { spool: again } = await openSpool(dataDir);
    const live = (await again.list({ states: ['queued', 'deferred'] })).map((e) => e.id).sort();
    expect(live).toEqual([a, torn].map((x) => x.envelope.messageId).sort());
    expect(readFileSync(again.messagePath(torn.envelope.messageId), 'utf8')).toBe(
      'Subject: torn\r\n\r\nthe crash came while its files were written\r\n',
    );
    expect(readFileSync(again.messagePath(a.envelope.messageId), 'utf8')).toBe(
      'Subject: a\r\n\r\nonly in the journal\r\n',
    );
    expect((await again.get(torn.envelope.messageId))?.envelope).toEqual(torn.envelope);
    expect(await again.get(done.envelope.messageId)).toMatchObject({ state: 'done' });
    expect(existsSync(again.messagePath(done.envelope.messageId))).toBe(false);
    expect(readdirSync(again.layout.quarantine)).toEqual([]);
    expect(readdirSync(again.layout.journal)).toEqual([]);
  });

  it('lets a journal segment go once its messages are done or checkpointed', async () => {
    const { spool } = await openSpool(undefined, { journalSegmentMaxAgeMs: 100, checkpointIntervalMs: 50 });
    const a = await store(spool, 'a');
    const b = await store(spool, 'b');
    const [first] = readdirSync(spool.layout.journal);
    await spool.complete(a.envelope.messageId, a, 'sent', { id: a.envelope.messageId, state: 'sent' });
    await new Promise((r) => setTimeout(r, 400)); // the segment closes; the checkpoint fsyncs b's own files
    await store(spool, 'c'); // opens a new segment: the old one holds nothing anybody needs
    expect(readdirSync(spool.layout.journal)).not.toContain(first);
    expect(readdirSync(spool.layout.journal)).toHaveLength(1);
    expect(await spool.get(b.envelope.messageId)).toMatchObject({ state: 'deferred' });
  });

  it('retries, deletes and lists entries for operators', async () => {
    const { spool } = await openSpool();
    const a = await store(spool, 'a');
    const b = await store(spool, 'b');
    const idA = a.envelope.messageId;
    await spool.saveMeta(idA, {
      ...a,
      state: 'failed',
      failedAt: new Date().toISOString(),
      lastError: {
        code: 'GRAPH_REJECTED',
        message: 'x',
        smtp: { reply: 554, enhanced: '5.6.0' },
        retryable: false,
        hint: '',
      },
    });
    expect((await spool.list({ states: ['failed'] })).map((e) => e.id)).toEqual([idA]);
    expect(spool.stats().depth.failed).toBe(1);
    const revived = await spool.retry(idA);
    expect(revived).toMatchObject({ state: 'queued', lastError: { code: 'GRAPH_REJECTED' } });
    expect(
      JSON.parse(readFileSync(join(spool.layout.messages, `${idA}.json`), 'utf8')).retriedAt,
    ).toBeDefined();
    expect(spool.takeDue(Date.now(), 10)).toEqual([idA]);

    expect(spool.claim(b.envelope.messageId)).toBe(true);
    await expect(spool.delete(b.envelope.messageId)).rejects.toMatchObject({ code: 'MESSAGE_IN_PROGRESS' });
    spool.release(b.envelope.messageId);
    expect(await spool.delete(b.envelope.messageId)).toBe(true);
    expect(existsSync(spool.messagePath(b.envelope.messageId))).toBe(false);
    expect(await spool.delete('00000000zz-unit-0000000000000000')).toBe(false);
  });

  it('keeps done records of finished messages, prunes them by count, and frees the space', async () => {
    const { spool, dataDir } = await openSpool(undefined, { keepDone: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const m = await store(spool, `m${i}`);
      ids.push(m.envelope.messageId);
      await spool.complete(m.envelope.messageId, m, 'sent', {
        id: m.envelope.messageId,
        state: 'sent',
        graphRequestId: `g${i}`,
      });
    }
    expect(readdirSync(spool.layout.messages)).toEqual([]);
    expect(spool.stats().bytes).toBe(0);
    expect(await spool.get(ids[59]!)).toMatchObject({
      state: 'done',
      outcome: 'sent',
      result: { graphRequestId: 'g59' },
    });
    expect((await spool.list({ states: ['done'] })).map((e) => e.id)).toEqual(ids.slice(-3).reverse());
    expect(readFileSync(spool.layout.doneLog, 'utf8').split('\n').length).toBeLessThanOrEqual(201);
    await spool.close();
    open.length = 0;
    // a reader outside the listener (the CLI) and a restart see the same kept records
    expect([...(await readDoneLog(spool.layout.doneLog)).keys()].slice(-3)).toEqual(ids.slice(-3));
    const { spool: again } = await openSpool(dataDir, { keepDone: 3 });
    expect(again.stats().depth.done).toBe(3);
  });

  it('belongs to one process at a time', async () => {
    const { spool, dataDir } = await openSpool();
    await expect(Spool.open(options(dataDir))).rejects.toMatchObject({ code: 'SPOOL_IN_USE' });
    await spool.close();
    open.length = 0;
    await openSpool(dataDir);
  });
});
