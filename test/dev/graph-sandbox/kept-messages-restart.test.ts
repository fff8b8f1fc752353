import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { memoryLogger } from '../../../core/log';
import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';

let dataDir: string;
const open: GraphSandbox[] = [];

async function start(options: Parameters<typeof startFakeGraph>[0] = {}): Promise<GraphSandbox> {
  const sandbox = await startFakeGraph({ dataDir, ...options });
  open.push(sandbox);
  return sandbox;
}

async function stop(sandbox: GraphSandbox): Promise<void> {
  await sandbox.close();
  open.splice(open.indexOf(sandbox), 1);
}

async function sendMail(sandbox: GraphSandbox, body: string, contentType: string): Promise<void> {
  const r = await fetch(`${sandbox.url}/v1.0/users/scanner%40contoso.example/sendMail`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${sandbox.issueToken()}`, 'Content-Type': contentType },
    body,
  });
  expect(r.status).toBe(202);
  // Folder names carry the millisecond: two messages of the same millisecond have no order on disk.
  await new Promise((resolve) => setTimeout(resolve, 5));
}

const pdf = Buffer.from('%PDF-1.4 scanned page\n%%EOF\n');
function sendJson(sandbox: GraphSandbox, subject: string): Promise<void> {
  const message = {
    subject,
    body: { contentType: 'text', content: 'scan attached' },
    toRecipients: [{ emailAddress: { address: 'alice@example.org' } }],
    bccRecipients: [{ emailAddress: { address: 'hidden@example.org' } }],
    attachments: [
      {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'scan.pdf',
        contentType: 'application/pdf',
        contentBytes: pdf.toString('base64'),
      },
    ],
  };
  return sendMail(sandbox, JSON.stringify({ message, saveToSentItems: false }), 'application/json');
}
const mime = Buffer.from(
  'From: scanner@contoso.example\r\nTo: bob@example.org\r\nSubject: signed report\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n',
);
const sendMime = (sandbox: GraphSandbox) => sendMail(sandbox, mime.toString('base64'), 'text/plain');

async function listing(sandbox: GraphSandbox): Promise<unknown> {
  return (await fetch(`${sandbox.url}/_sandbox/messages`)).json();
}

/** What a kept message says about itself, without the eml() function. */
const described = (sandbox: GraphSandbox) => sandbox.messages().map(({ eml: _e, ...m }) => m);

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'graph-sandbox-restart-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await rm(dataDir, { recursive: true, force: true });
});

describe('graph sandbox: kept messages survive a restart', () => {
  it('lists the messages of its data directory again after a restart, with the same ids, summary and bytes', async () => {
    const first = await start();
    await sendJson(first, 'Scan one ✓');
    await sendMime(first);
    const before = described(first);
    const listedBefore = await listing(first);
    expect(before.map((m) => m.subject)).toEqual(['Scan one ✓', 'signed report']);
    await stop(first);

    const second = await start();
    expect(described(second)).toEqual(before);
    expect(await listing(second)).toEqual(listedBefore);
    // The .eml served is the copy on disk (a JSON message's rebuilt MIME has a fresh boundary each build).
    for (const m of second.messages()) {
      expect((await m.eml()).equals(await readFile(join(m.dir as string, 'message.eml')))).toBe(true);
    }
    expect((await second.messages()[1]?.eml())?.equals(mime)).toBe(true);
    const [json] = second.messages();
    const download = await fetch(`${second.url}/_sandbox/messages/${json?.id}/attachments/1`);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);

    // New messages join the loaded ones, newest last, as before the restart.
    await sendJson(second, 'Scan three');
    expect(second.messages().map((m) => m.subject)).toEqual(['Scan one ✓', 'signed report', 'Scan three']);
  });

  it('loads only the newest messages that fit maxKeptMessages', async () => {
    const first = await start();
    for (const subject of ['one', 'two', 'three']) await sendJson(first, subject);
    await stop(first);

    const second = await start({ maxKeptMessages: 2 });
    expect(second.messages().map((m) => m.subject)).toEqual(['two', 'three']);
  });

  it('loads only the newest messages that fit maxKeptBytes, but always the newest one', async () => {
    const first = await start();
    for (const subject of ['one', 'two', 'three']) await sendJson(first, subject);
    await stop(first);

    const fitsTwo = await start({ maxKeptBytes: 2 * pdf.length });
    expect(fitsTwo.messages().map((m) => m.subject)).toEqual(['two', 'three']);
    await stop(fitsTwo);
    const fitsNone = await start({ maxKeptBytes: 1 });
    expect(fitsNone.messages().map((m) => m.subject)).toEqual(['three']);
  });

  it('skips and logs incomplete or corrupt folders, leaves them on disk and ignores folders that are not messages', async () => {
    const first = await start();
    for (const subject of ['good', 'bad json', 'bad attachment', 'no eml']) await sendJson(first, subject);
    const [good, badJson, badAttachment, noEml] = first.messages().map((m) => m.dir as string);
    await stop(first);

    await writeFile(join(badJson as string, 'summary.json'), '{"id": "cut off');
    await writeFile(join(badAttachment as string, 'attachments', '1-scan.pdf'), 'not the scan');
    await rm(join(noEml as string, 'message.eml'));
    const interrupted = join(dataDir, `.tmp-${(good as string).split(/[\\/]/).pop() ?? ''}`);
    await cp(good as string, interrupted, { recursive: true });
    await mkdir(join(dataDir, 'tls'));
    const foldersBefore = (await readdir(dataDir)).sort();

    const lines: Array<Record<string, unknown>> = [];
    const second = await start({ logger: memoryLogger(lines) });
    expect(second.messages().map((m) => m.subject)).toEqual(['good']);
    const skipped = lines.filter((l) => l.event === 'SANDBOX_MESSAGE_SKIPPED');
    expect(skipped.map((l) => [l.folder, l.level]).sort()).toEqual(
      [badJson, badAttachment, noEml, interrupted]
        .map((d) => [(d as string).split(/[\\/]/).pop(), 'warn'])
        .sort(),
    );
    expect(skipped.find((l) => String(l.folder).startsWith('.tmp-'))?.reason).toMatch(/interrupted/);
    expect(lines.find((l) => l.event === 'SANDBOX_MESSAGES_LOADED')).toMatchObject({ loaded: 1, folders: 4 });
    // Nothing was deleted or changed: the folders are the user's copies.
    expect((await readdir(dataDir)).sort()).toEqual(foldersBefore);
    expect(await readFile(join(badJson as string, 'summary.json'), 'utf8')).toBe('{"id": "cut off');
  });

  it('starts empty on a data directory that does not exist yet, and creates it on the first message', async () => {
    const fresh = join(dataDir, 'not-yet');
    const sandbox = await start({ dataDir: fresh });
    expect(sandbox.messages()).toEqual([]);
    await sendMime(sandbox);
    expect(await readdir(fresh)).toHaveLength(1);
  });
});
