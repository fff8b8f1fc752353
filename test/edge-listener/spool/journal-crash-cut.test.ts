import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';

import { afterEach, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { DoneLog, readDoneLog } from '../../../edge-listener/spool/done-log';
import type { DoneRecord, SpoolMeta } from '../../../edge-listener/spool/entry';
import { HeldMessage } from '../../../edge-listener/spool/held-message';
import { CommitJournal } from '../../../edge-listener/spool/journal';
import { restoreFromJournal } from '../../../edge-listener/spool/journal-recovery';
import { emlName, metaName, spoolLayout, type SpoolLayout } from '../../../edge-listener/spool/layout';
import { Spool, type SpoolOptions } from '../../../edge-listener/spool/spool';
import { newSpoolId } from '../../../edge-listener/spool/spool-id';
import { spoolOptions, storeMessage } from './spool-fixture';

/**
 * A power cut in the middle of a journal append leaves a segment that ends inside a record: in its 13-byte
 * header ('SGJ1', type, payload length, crc32), in the metadata or in the body. These tests make such files
 * from segments the real journal wrote — copied and cut at every byte of the record being written, or with
 * one bit flipped — and recover from them with the real code (CommitJournal.replay, restoreFromJournal,
 * Spool.open): every record written whole is kept, the torn one is dropped, the segments after it still
 * count, and a message whose done mark reached the journal or the done log does not come back.
 */
const HEADER_BYTES = 13; // journal.ts: 'SGJ1' | type | u32 length | u32 crc32

const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  copies.clear();
  for (const close of closers.splice(0).reverse()) await close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix = 'journal-cut-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function metaFor(id: string, body: Buffer): SpoolMeta {
  return {
    version: 1,
    envelope: {
      messageId: id,
      siteId: 'hq',
      mailFrom: 'scan@example.com',
      rcptTo: ['a@example.org'],
      clientAddress: '192.0.2.7',
      helo: 'mfp',
      receivedAt: new Date().toISOString(),
    },
    mimeBytes: body.length,
    state: 'queued',
    attempts: 1,
    nextAttemptAt: new Date(Date.now() + 60_000).toISOString(),
  };
}

interface Written {
  id: string;
  meta: SpoolMeta;
  body: Buffer;
}

/** A message as the intake hands it to the journal: in two chunks, so the record is a real writev. */
function message(tag: string): Written {
  const id = newSpoolId('unit');
  const body = Buffer.from(`Subject: ${tag}\r\n\r\nbody of ${tag}, ${'x'.repeat(40)}\r\n`);
  return { id, meta: metaFor(id, body), body };
}

async function commit(journal: CommitJournal, m: Written): Promise<void> {
  const half = m.body.length >> 1;
  await journal.commit(m.meta, new HeldMessage([m.body.subarray(0, half), m.body.subarray(half)]));
}

/** The bytes a commit record of `m` takes in a segment (journal.ts framing). */
function commitRecordBytes(m: Written): number {
  return HEADER_BYTES + 4 + Buffer.byteLength(JSON.stringify(m.meta)) + m.body.length;
}

const segments = (dir: string) => readdirSync(dir).filter((n) => /^\d{10}\.log$/.test(n));

/** Replays a journal directory the way a restart does, on a fresh CommitJournal. */
async function replay(dir: string) {
  const journal = await CommitJournal.open(dir);
  try {
    return await journal.replay();
  } finally {
    await journal.close();
  }
}

/**
 * A copy of `dir` (made once per journal directory, then reused) whose segment `name` is cut after `length`
 * bytes: the disk as a power cut left it.
 */
const copies = new Map<string, string>();
function cutCopy(dir: string, name: string, length: number): string {
  let copy = copies.get(dir);
  if (!copy) {
    copy = tempDir('journal-copy-');
    copies.set(dir, copy);
  }
  for (const n of segments(copy)) rmSync(join(copy, n));
  cpSync(dir, copy, { recursive: true });
  truncateSync(join(copy, name), length);
  return copy;
}

function expectReplayed(
  replayed: Map<string, { meta: SpoolMeta; body: Buffer }>,
  expected: Written[],
  where: string,
): void {
  expect([...replayed.keys()], where).toEqual(expected.map((m) => m.id));
  for (const m of expected) {
    expect(replayed.get(m.id)?.body.equals(m.body), `${where}: body of ${m.id}`).toBe(true);
    expect(replayed.get(m.id)?.meta, `${where}: metadata of ${m.id}`).toEqual(m.meta);
  }
}

/** One segment: commit(a), commit(b), done(b); where b's done record starts. */
async function doneMarkLast() {
  const dir = tempDir();
  const a = message('a');
  const b = message('b');
  const journal = await CommitJournal.open(dir, 60_000);
  await commit(journal, a);
  await commit(journal, b);
  await journal.done(b.id);
  await journal.close();
  const seg = segments(dir)[0]!;
  const size = readFileSync(join(dir, seg)).length;
  return { dir, a, b, seg: seg, size, doneStart: size - (HEADER_BYTES + b.id.length) };
}

describe('commit journal replay after a cut write', () => {
  /** Segment 1: commit(kept1), commit(done1), done(done1), commit(last). Segment 2, the next run's: commit(kept2). */
  async function twoSegments() {
    const dir = tempDir();
    const kept1 = message('kept1');
    const done1 = message('done1');
    const last = message('last');
    const kept2 = message('kept2');
    const first = await CommitJournal.open(dir, 60_000);
    await commit(first, kept1);
    await commit(first, done1);
    await first.done(done1.id);
    await commit(first, last);
    await first.close();
    const [seg1] = segments(dir);
    // The next run writes its own segment (a number after the last), as it does after any restart.
    const second = await CommitJournal.open(dir, 60_000);
    await commit(second, kept2);
    await second.close();
    expect(segments(dir)).toHaveLength(2);
    const size = readFileSync(join(dir, seg1!)).length;
    return { dir, seg1: seg1!, size, lastStart: size - commitRecordBytes(last), kept1, done1, last, kept2 };
  }

  it('keeps every whole record and drops the torn one, cut at every byte of the last record of a segment', async () => {
    const s = await twoSegments();
    // the framing the test relies on: the last record starts right after done1's done record
    expect(
      readFileSync(join(s.dir, s.seg1))
        .subarray(s.lastStart, s.lastStart + 5)
        .toString(),
    ).toBe('SGJ1C');

    // uncut, the last record is there: what the cuts below remove could be seen
    expectReplayed(await replay(s.dir), [s.kept1, s.last, s.kept2], 'uncut');

    for (let cut = s.lastStart; cut < s.size; cut++) {
      const part =
        cut - s.lastStart < HEADER_BYTES
          ? 'header'
          : cut - s.lastStart < HEADER_BYTES + 4
            ? 'meta length'
            : 'payload';
      const copy = cutCopy(s.dir, s.seg1, cut);
      // kept1 whole, done1 stays done, last torn away, kept2 in the later segment untouched
      expectReplayed(await replay(copy), [s.kept1, s.kept2], `cut at ${cut - s.lastStart} (${part})`);
    }
  });

  it('brings a message back when the cut tore its done record (the done mark was not on disk yet)', async () => {
    const { dir, a, b, seg, size, doneStart } = await doneMarkLast();
    expect(
      readFileSync(join(dir, seg))
        .subarray(doneStart, doneStart + 5)
        .toString(),
    ).toBe('SGJ1D');

    expectReplayed(await replay(dir), [a], 'uncut');
    for (let cut = doneStart; cut < size; cut++)
      expectReplayed(await replay(cutCopy(dir, seg, cut)), [a, b], `done record cut at ${cut - doneStart}`);
  });

  it('never returns a record with a flipped bit, and keeps the records before it and the later segments', async () => {
    const dir = tempDir();
    const [k0, hit, k2, later] = [message('k0'), message('hit'), message('k2'), message('later')];
    const first = await CommitJournal.open(dir, 60_000);
    for (const m of [k0, hit, k2]) await commit(first, m);
    await first.close();
    const [seg1] = segments(dir);
    const second = await CommitJournal.open(dir, 60_000);
    await commit(second, later);
    await second.close();

    const hitStart = commitRecordBytes(k0);
    const original = readFileSync(join(dir, seg1!));
    // one bit each: in the length, in the crc, in the metadata, in the body of the middle record
    for (const at of [6, 10, HEADER_BYTES + 20, commitRecordBytes(hit) - 3]) {
      const copy = tempDir('journal-copy-');
      cpSync(dir, copy, { recursive: true });
      const flipped = Buffer.from(original);
      flipped[hitStart + at]! ^= 0x10;
      writeFileSync(join(copy, seg1!), flipped);
      const replayed = await replay(copy);
      expect(replayed.has(hit.id), `bit ${at} of the record`).toBe(false);
      expectReplayed(
        new Map([...replayed].filter(([id]) => id !== k2.id)),
        [k0, later],
        `bit ${at} of the record`,
      );
    }
  });

  // Replay stops at the first record that fails its check (journal.ts readRecords), so a record written whole
  // AFTER a corrupted one in the same segment is not returned either. A cut only ever tears the tail, so this
  // matters for media corruption, not for power cuts. Expected to fail until replay resynchronises on the next
  // 'SGJ1' header whose length and crc check out; then turn it into a plain `it`.
  it.fails('keeps a whole record that follows a corrupted one in the same segment (not yet)', async () => {
    const dir = tempDir();
    const [k0, hit, k2] = [message('k0'), message('hit'), message('k2')];
    const journal = await CommitJournal.open(dir, 60_000);
    for (const m of [k0, hit, k2]) await commit(journal, m);
    await journal.close();
    const seg = segments(dir)[0]!;
    const bytes = readFileSync(join(dir, seg));
    bytes[commitRecordBytes(k0) + commitRecordBytes(hit) - 3]! ^= 0x10;
    writeFileSync(join(dir, seg), bytes);
    expectReplayed(await replay(dir), [k0, k2], 'after a flipped bit');
  });
});

describe('a crash while the journal rotates to a new segment', () => {
  const AGE_MS = 300;

  /**
   * One run that rotated: segment 1 holds a and c; segment 2, opened because segment 1 had aged, holds b and
   * then the done mark of a (c keeps segment 1 alive). Under heavy load a and c may already land in two
   * segments; that run is discarded and made again.
   */
  async function rotated() {
    for (;;) {
      const dir = tempDir();
      const [a, c, b] = [message('a'), message('c'), message('b')];
      const journal = await CommitJournal.open(dir, AGE_MS);
      await commit(journal, a);
      await commit(journal, c);
      await sleep(AGE_MS + 50);
      await commit(journal, b);
      await journal.done(a.id);
      await journal.close();
      const [seg1, seg2, ...more] = segments(dir);
      if (
        seg2 !== undefined &&
        more.length === 0 &&
        readFileSync(join(dir, seg1!)).length === commitRecordBytes(a) + commitRecordBytes(c)
      )
        return { dir, seg1: seg1!, seg2, a, b, c };
    }
  }

  it('keeps the old segment whole when the new one is empty or ends inside its first record', async () => {
    const r = await rotated();
    expectReplayed(await replay(r.dir), [r.c, r.b], 'uncut');
    // 0: the crash came after the new file was created, before anything was written to it
    for (let cut = 0; cut < commitRecordBytes(r.b); cut++)
      expectReplayed(await replay(cutCopy(r.dir, r.seg2, cut)), [r.a, r.c], `new segment cut at ${cut}`);
  });

  it("keeps the new segment's record and lets its done mark for an old-segment message count only when whole", async () => {
    const r = await rotated();
    const bRecord = commitRecordBytes(r.b);
    const size = readFileSync(join(r.dir, r.seg2)).length;
    expect(size).toBe(bRecord + HEADER_BYTES + r.a.id.length);
    for (let cut = bRecord; cut < size; cut++)
      expectReplayed(
        await replay(cutCopy(r.dir, r.seg2, cut)),
        [r.a, r.c, r.b],
        `done mark cut at ${cut - bRecord}`,
      );
  });

  it('writes the next run to a segment of its own, never after a torn tail', async () => {
    const r = await rotated();
    const copy = cutCopy(r.dir, r.seg2, 7); // a torn header is all the newest segment holds
    const layout = await emptyLayout();
    const journal = await CommitJournal.open(copy, 60_000);
    closers.push(() => journal.close());
    expect(await restoreFromJournal(layout, journal, () => false)).toMatchObject({ pending: 2, restored: 2 });
    for (const m of [r.a, r.c])
      expect(readFileSync(join(layout.messages, emlName(m.id))).equals(m.body), m.id).toBe(true);
    // both old segments were replayed into files and removed; the next commit opens a fresh number
    expect(segments(copy)).toEqual([]);
    const d = message('d');
    await commit(journal, d);
    expect(segments(copy)).toHaveLength(1);
    expect(segments(copy)[0]! > r.seg2).toBe(true);
    expectReplayed(await replay(copy), [d], 'after the restart');
  });
});

async function emptyLayout(): Promise<SpoolLayout> {
  const layout = spoolLayout(tempDir('spool-layout-'));
  for (const d of [layout.tmp, layout.messages, layout.quarantine, layout.journal])
    mkdirSync(d, { recursive: true });
  return layout;
}

const doneRecord = (m: Written): DoneRecord => ({
  version: 1,
  envelope: m.meta.envelope,
  mimeBytes: m.body.length,
  attempts: 1,
  outcome: 'sent',
  completedAt: new Date().toISOString(),
  result: { id: m.id, state: 'sent' },
});

describe('recovery from a cut journal onto message files (restoreFromJournal)', () => {
  it('writes every whole pending message to messages/ and never one the done log has, at every cut of the done mark', async () => {
    const { dir, a, b, seg, size, doneStart } = await doneMarkLast();

    for (let cut = doneStart; cut <= size; cut++) {
      const layout = await emptyLayout();
      cpSync(dir, layout.journal, { recursive: true });
      truncateSync(join(layout.journal, seg), cut);
      // the done log got b's record before the journal got its done mark (Spool.complete)
      const doneLog = await DoneLog.open(layout.doneLog, 100, 86_400_000, memoryLogger());
      await doneLog.add(b.id, doneRecord(b));
      const reopened = await CommitJournal.open(layout.journal, 60_000);
      const r = await restoreFromJournal(layout, reopened, (id) => doneLog.has(id));
      await reopened.close();
      await doneLog.close();
      const where = `done mark cut at ${cut - doneStart}`;
      expect(r.restored, where).toBe(1);
      expect(readdirSync(layout.messages).sort(), where).toEqual([emlName(a.id), metaName(a.id)].sort());
      expect(readFileSync(join(layout.messages, emlName(a.id))).equals(a.body), where).toBe(true);
      expect(JSON.parse(readFileSync(join(layout.messages, metaName(a.id)), 'utf8')), where).toEqual(a.meta);
      expect(segments(layout.journal), where).toEqual([]);
      expect(readdirSync(layout.tmp), where).toEqual([]);
    }
  });

  it('repairs a message file the crash left half written from the journal copy', async () => {
    const layout = await emptyLayout();
    const a = message('a');
    const journal = await CommitJournal.open(layout.journal, 60_000);
    await commit(journal, a);
    await journal.close();
    writeFileSync(join(layout.messages, emlName(a.id)), a.body.subarray(0, 10));
    writeFileSync(join(layout.messages, metaName(a.id)), JSON.stringify(a.meta).slice(0, 30));
    const reopened = await CommitJournal.open(layout.journal, 60_000);
    closers.push(() => reopened.close());
    expect(await restoreFromJournal(layout, reopened, () => false)).toMatchObject({
      pending: 1,
      restored: 1,
    });
    expect(readFileSync(join(layout.messages, emlName(a.id))).equals(a.body)).toBe(true);
    expect(JSON.parse(readFileSync(join(layout.messages, metaName(a.id)), 'utf8'))).toEqual(a.meta);
  });
});

describe('done log after a cut write', () => {
  it('keeps every whole line and drops the torn last one, at every byte of it', async () => {
    const layout = await emptyLayout();
    const [x, y, z] = [message('x'), message('y'), message('z')];
    const log = await DoneLog.open(layout.doneLog, 100, 86_400_000, memoryLogger());
    for (const m of [x, y, z]) await log.add(m.id, doneRecord(m));
    await log.close();
    const whole = readFileSync(layout.doneLog);
    const lastStart = whole.subarray(0, whole.length - 1).lastIndexOf(0x0a) + 1;
    expect([...(await readDoneLog(layout.doneLog)).keys()]).toEqual([x.id, y.id, z.id]);
    for (let cut = lastStart; cut < whole.length - 1; cut++) {
      writeFileSync(layout.doneLog, whole.subarray(0, cut));
      expect([...(await readDoneLog(layout.doneLog)).keys()], `cut at ${cut - lastStart}`).toEqual([
        x.id,
        y.id,
      ]);
      const reopened = await DoneLog.open(layout.doneLog, 100, 86_400_000, memoryLogger());
      expect(reopened.has(y.id) && !reopened.has(z.id), `cut at ${cut - lastStart}`).toBe(true);
      await reopened.close();
    }
  });
});

describe('the spool restarted on a copy of its disk cut inside the journal', () => {
  // no checkpoint during the test: the journal is the only copy of the small messages
  const options = (dataDir: string): SpoolOptions =>
    spoolOptions(dataDir, { journalSegmentMaxAgeMs: 600_000, checkpointIntervalMs: 600_000 });
  const store = (spool: Spool, body: string) => storeMessage(spool, body);

  it('comes back with every acknowledged message byte for byte, the done one done, the torn one gone', async () => {
    const dataDir = tempDir('spool-live-');
    const spool = await Spool.open(options(dataDir));
    closers.push(() => spool.close());
    const bodies = { k1: 'Subject: k1\r\n\r\nfirst\r\n', k2: 'Subject: k2\r\n\r\nsecond\r\n' };
    const k1 = await store(spool, bodies.k1);
    const k2 = await store(spool, bodies.k2);
    const done = await store(spool, 'Subject: done\r\n\r\nsent before the crash\r\n');
    await spool.complete(done.envelope.messageId, done, 'sent', {
      id: done.envelope.messageId,
      state: 'sent',
    });
    const journalDir = spool.layout.journal;
    const seg = segments(journalDir)[0]!;
    const before = readFileSync(join(journalDir, seg)).length;
    const last = await store(spool, 'Subject: last\r\n\r\nthe crash came while this was appended\r\n');
    const size = readFileSync(join(journalDir, seg)).length;
    expect(size).toBeGreaterThan(before + HEADER_BYTES);
    expect(existsSync(spool.messagePath(k1.envelope.messageId))).toBe(false); // journal-only

    const recordBytes = size - before;
    const samples = [0, 3, 4, 5, 8, 9, 12, 13, 15, 17, 40, recordBytes - 20, recordBytes - 1];
    for (const offset of samples) {
      const crashed = tempDir('spool-crashed-');
      cpSync(dataDir, crashed, { recursive: true });
      truncateSync(join(crashed, 'spool', 'journal', seg), before + offset);
      const again = await Spool.open({ ...options(crashed), logger: memoryLogger() });
      try {
        const where = `cut ${offset} bytes into the last record`;
        const waiting = (await again.list({ states: ['queued', 'deferred'] })).map((e) => e.id).sort();
        expect(waiting, where).toEqual([k1.envelope.messageId, k2.envelope.messageId].sort());
        expect(await text(again.openMessage(k1.envelope.messageId)!), where).toBe(bodies.k1);
        expect(await text(again.openMessage(k2.envelope.messageId)!), where).toBe(bodies.k2);
        expect(await again.get(done.envelope.messageId), where).toMatchObject({
          state: 'done',
          outcome: 'sent',
        });
        expect(existsSync(again.messagePath(done.envelope.messageId)), where).toBe(false);
        expect(await again.get(last.envelope.messageId), where).toBeUndefined();
        expect(readdirSync(again.layout.quarantine), where).toEqual([]);
      } finally {
        await again.close();
      }
    }
  });
});
