import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashFile, sendFile } from '../../../edge-listener/forward/spool-file-body';

/**
 * The spool file read back for a POST through two reused buffers: over a real HTTP connection the receiver must
 * get exactly the head and the recorded bytes, in order, however many times the buffers were refilled.
 */
const dir = mkdtempSync(join(tmpdir(), 'spool-file-body-'));
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function post(head: Buffer, path: string, bytes: number): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as { bytes: number; sha256: string }));
    });
    req.on('error', reject);
    sendFile(req, head, path, bytes).catch(reject);
  });
}

describe('spool file body', () => {
  const content = randomBytes(3 * 256 * 1024 + 12_345); // more than two refills of each buffer
  const path = join(dir, 'message.eml');
  beforeAll(() => writeFileSync(path, content));
  const sha = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

  it('hashes exactly the recorded bytes', async () => {
    const hash = createHash('sha256').update('head');
    await hashFile(hash, path, content.length);
    expect(hash.digest('hex')).toBe(sha(Buffer.from('head'), content));
    const part = createHash('sha256');
    await hashFile(part, path, 1000);
    expect(part.digest('hex')).toBe(sha(content.subarray(0, 1000)));
  });

  it('sends the head and the file in order, through reused buffers', async () => {
    const head = Buffer.from('{"frame":"head"}\r\n');
    const got = await post(head, path, content.length);
    expect(got).toEqual({ bytes: head.length + content.length, sha256: sha(head, content) });
  });

  it('sends no more than the recorded size, and an empty body as the head alone', async () => {
    const head = Buffer.from('h');
    expect(await post(head, path, 300_000)).toEqual({
      bytes: 300_001,
      sha256: sha(head, content.subarray(0, 300_000)),
    });
    expect(await post(head, path, 0)).toEqual({ bytes: 1, sha256: sha(head) });
  });

  it('fails when the file is shorter than its record', async () => {
    const hash = createHash('sha256');
    await expect(hashFile(hash, path, content.length + 1)).rejects.toThrow(/spool file ended at/);
  });
});
