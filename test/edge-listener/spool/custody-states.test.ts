import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';

import { afterEach, describe, expect, it } from 'vitest';

import { bridgeError } from '../../../core/errors';
import { memoryLogger } from '../../../core/log';
import { classifyCloudAnswer } from '../../../edge-listener/forward/cloud-custody';
import type { EnvelopeParts } from '../../../edge-listener/spool/intake-writer';
import { Spool } from '../../../edge-listener/spool/spool';

/**
 * The spool's side of custody (docs/design/custody-edge.md): an entry queued in the cloud keeps its body and
 * survives a restart as `cloud`; a resubmission of an unknown outcome needs `force`; retention removes a failed
 * body only after BRIDGE_RETENTION_MS. And what a state read of the cloud means.
 */
const dirs: string[] = [];
const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openSpool(dataDir = mkdtempSync(join(tmpdir(), 'custody-')), retentionMs?: number) {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const logger = memoryLogger();
  const spool = await Spool.open({
    dataDir,
    instanceId: 'custody',
    maxBytes: 10_000_000,
    minFreeBytes: 0,
    keepDone: 100,
    keepDoneMs: 86_400_000,
    ...(retentionMs !== undefined ? { retentionMs } : {}),
    logger,
  });
  open.push(spool);
  return { spool, dataDir, logger };
}

const parts: EnvelopeParts = {
  siteId: 'hq',
  mailFrom: 'scan@example.com',
  rcptTo: ['a@example.org'],
  clientAddress: '192.0.2.7',
  helo: 'mfp',
};

async function store(spool: Spool, body: string) {
  const w = await spool.beginMessage();
  await w.write(Buffer.from(body));
  return w.commit(parts, Date.now() + 60_000);
}

describe('spool custody states', () => {
  it('a cloud entry keeps its body and stays "cloud" across a restart; a retry reads its state now', async () => {
    const { spool, dataDir } = await openSpool();
    const meta = await store(spool, 'Subject: c\r\n\r\nin the cloud\r\n');
    const id = meta.envelope.messageId;
    await spool.saveMeta(id, {
      ...meta,
      state: 'cloud',
      cloud: { queuedAt: new Date().toISOString(), checks: 0 },
    });
    expect(spool.stats().depth.cloud).toBe(1);
    await spool.close();
    open.splice(0);
    const again = (await openSpool(dataDir)).spool;
    expect(await again.get(id)).toMatchObject({ state: 'cloud', cloud: { checks: 0 } });
    expect(await text(again.openMessage(id)!)).toContain('in the cloud');
    expect(await again.retry(id)).toMatchObject({ state: 'cloud', submissionId: id });
  });

  it('refuses to resubmit an unknown outcome without force, resubmits with it; retry-all skips it', async () => {
    const { spool } = await openSpool();
    const meta = await store(spool, 'Subject: u\r\n\r\nmaybe sent\r\n');
    const id = meta.envelope.messageId;
    const failed = {
      ...meta,
      state: 'failed' as const,
      failedBy: 'function' as const,
      failedAt: new Date().toISOString(),
      lastError: bridgeError('GRAPH_OUTCOME_UNKNOWN').toJSON(),
    };
    await spool.saveMeta(id, failed);
    await expect(spool.retry(id)).rejects.toMatchObject({ code: 'RESUBMIT_MAY_DUPLICATE' });
    const skipped: string[] = [];
    expect(await spool.retryAllFailed({ skipped })).toEqual([]);
    expect(skipped).toEqual([id]);
    expect((await spool.get(id))?.state).toBe('failed');
    expect(await spool.retry(id, { force: true })).toMatchObject({ submissionId: `${id}.r1` });
  });

  it('removes a failed body only after its retention, and logs it', async () => {
    const { spool, logger } = await openSpool(undefined, 60_000);
    const meta = await store(spool, 'Subject: f\r\n\r\nfailed\r\n');
    const id = meta.envelope.messageId;
    const failedAt = Date.now();
    await spool.saveMeta(id, {
      ...meta,
      state: 'failed',
      failedBy: 'function',
      failedAt: new Date(failedAt).toISOString(),
      lastError: bridgeError('GRAPH_INVALID_RECIPIENTS').toJSON(),
    });
    expect(await spool.sweepRetention(failedAt + 59_000)).toEqual([]);
    expect(await spool.get(id)).toMatchObject({ state: 'failed' });
    expect(await spool.sweepRetention(failedAt + 61_000)).toEqual([id]);
    expect(await spool.get(id)).toBeUndefined();
    expect(logger.lines.filter((l) => l.event === 'SPOOL_RETENTION_EXPIRED')).toHaveLength(1);
  });
});

describe('what a read of the cloud state means', () => {
  const answer = (status: number, json: unknown) => ({
    status,
    contentType: 'application/json',
    json,
    text: '',
  });
  it('sent, failed (with the cloud reason), waiting, no record, unreadable', () => {
    expect(classifyCloudAnswer(answer(200, { id: 'a', state: 'sent' }), 'a').kind).toBe('sent');
    const failed = classifyCloudAnswer(
      answer(200, { id: 'a', state: 'failed', error: bridgeError('GRAPH_ACCESS_DENIED').toJSON() }),
      'a',
    );
    expect(failed).toMatchObject({ kind: 'failed', error: { code: 'GRAPH_ACCESS_DENIED' } });
    expect(classifyCloudAnswer(answer(200, { id: 'a', state: 'queued' }), 'a').kind).toBe('waiting');
    expect(classifyCloudAnswer(answer(200, { id: 'a', state: 'received' }), 'a').kind).toBe('waiting');
    expect(
      classifyCloudAnswer(
        answer(404, { id: 'a', state: 'failed', error: { code: 'MESSAGE_NOT_FOUND' } }),
        'a',
      ).kind,
    ).toBe('no-record');
    // another id, a proxy page, a 503: never final
    expect(classifyCloudAnswer(answer(200, { id: 'b', state: 'sent' }), 'a').kind).toBe('unreadable');
    expect(classifyCloudAnswer(answer(200, undefined), 'a').kind).toBe('unreadable');
    expect(classifyCloudAnswer(answer(503, { error: 'busy' }), 'a').kind).toBe('unreadable');
  });
});
