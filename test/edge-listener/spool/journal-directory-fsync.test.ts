import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import { describeWithTool, toolPath } from '../../helpers/tool-groups';

/**
 * The durability rule of durable-fs.ts, checked on the real system calls: a name created in a directory
 * survives a power cut only after that directory is fsync'd. strace records what the spool actually asks the
 * kernel for; the test then requires, before the message counts as acknowledged, an fsync of the journal
 * directory after its segment file was created, and of each parent that received a newly created directory.
 *
 * What this proves: the calls are made, on the right directories, in the right order. What it cannot prove:
 * that the disk honours them (that would need a power cut); durable-fs.ts cites the rule.
 */
// strace is a system tool: its group is skipped when it is missing, and fails under BRIDGE_TEST_ALL=1.
const ROOT = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'journal-fsync-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function traced(dataDir: string, traceFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('strace'),
      [
        '-f',
        '-qq',
        '-e',
        'trace=openat,mkdir,mkdirat,fsync,fdatasync,write',
        '-e',
        'signal=none',
        '-o',
        traceFile,
        process.execPath,
        '--import',
        'tsx',
        join(__dirname, 'journal-fsync-child.ts'),
        dataDir,
      ],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

interface Call {
  line: number;
  text: string;
}

describeWithTool('strace', 'spool journal: directory fsync', () => {
  it('fsyncs the journal directory after creating a segment, and every parent of a new directory, before the 2xx', async () => {
    const dataDir = join(work, 'data');
    const traceFile = join(work, 'trace.txt');
    expect(await traced(dataDir, traceFile)).toContain('ACKNOWLEDGED');
    const calls = readTrace(traceFile);
    const ack = calls.find((c) => c.text.includes('write(1, "ACKNOWLEDGED'));
    expect(ack, 'marker in the trace').toBeDefined();
    const before = calls.filter((c) => c.line < ack!.line);

    // fd → path of every openat that succeeded before the marker (an fd number is reused after close, so
    // each fsync is matched to the latest open of its number before it).
    const opened = (fd: string, at: number): string | undefined => {
      for (let i = at - 1; i >= 0; i--) {
        const m = /openat\(AT_FDCWD, "([^"]+)", ([^)]*)\)\s+= (\d+)$/.exec(
          calls[i]!.text.replace(/^\d+\s+/, ''),
        );
        if (m && m[3] === fd) return m[1];
      }
      return undefined;
    };

    const journal = join(dataDir, 'spool', 'journal');
    const segmentOpen = before.find((c) => c.text.includes(`"${journal}/`) && c.text.includes('O_CREAT'));
    expect(segmentOpen, 'a journal segment was created before the acknowledgement').toBeDefined();
    const syncsAfterSegment = fsyncs(before, segmentOpen!.line, opened);
    expect(syncsAfterSegment, 'fsync of the journal directory after its new segment').toContain(journal);

    // Every directory the spool created (mkdir of data/, spool/, journal/, …) has its parent fsync'd.
    const made = before
      .map((c) => /mkdir(?:at)?\((?:AT_FDCWD, )?"([^"]+)", \d+\)\s+= 0/.exec(c.text))
      .flatMap((m) => (m ? [m[1]!] : []));
    expect(made).toContain(journal);
    const allSyncs = fsyncs(before, -1, opened);
    for (const dir of made) expect(allSyncs, `parent of ${dir}`).toContain(join(dir, '..'));
  });
});

/** Paths whose fsync returned 0 after line `after` (and before the marker). */
function fsyncs(
  before: Call[],
  after: number,
  opened: (fd: string, at: number) => string | undefined,
): string[] {
  const out: string[] = [];
  for (const c of before) {
    if (c.line <= after) continue;
    const m = /\bfsync\((\d+)\)\s+= 0/.exec(c.text);
    const path = m ? opened(m[1]!, c.line) : undefined;
    if (path) out.push(path);
  }
  return out;
}

/**
 * strace -f lines in completion order; a call that another thread interrupted is written as
 * `pid call(… <unfinished ...>` and later `pid <... call resumed>…`: joined into one line at the resumed spot.
 */
function readTrace(file: string): Call[] {
  const pending = new Map<string, string>();
  const out: Call[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const pid = /^(\d+)\s+/.exec(raw)?.[1] ?? '';
    const rest = raw.replace(/^\d+\s+/, '');
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    const text = resumed ? `${pending.get(pid) ?? ''}${resumed[1]}` : rest;
    if (resumed) pending.delete(pid);
    out.push({ line: out.length, text });
  }
  return out;
}
