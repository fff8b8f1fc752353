import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import { memoryLogger } from '../../../core/log';
import { createCredentialProvider } from '../../../functions/graph/credential';
import { MAX_UPLOAD_CHUNK_BYTES } from '../../../functions/graph/graph-limits';
import { createGraphMailer, type GraphMailer } from '../../../functions/graph/mailer';
import type { SandboxRequestLog } from '../../../dev/graph-sandbox/options';
import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';
import { attachment, jsonPlan, pdfLike, sha256 } from './plans';

const TENANT = '11111111-1111-1111-1111-111111111111';
const APP = '22222222-2222-2222-2222-222222222222';
const MAILBOX = 'scanner@contoso.example';
const MiB = 1024 * 1024;

let fake: GraphSandbox;
const lines: Array<Record<string, unknown>> = [];

function mailer(): GraphMailer {
  const credential = createCredentialProvider({
    tenantId: TENANT,
    clientId: APP,
    clientSecret: 'x',
    authorityHost: fake.authorityHost,
  }).credentialFor();
  return createGraphMailer({
    graphEndpoint: fake.url,
    credential,
    logger: memoryLogger(lines),
    chunkRetry: { baseDelayMs: 20 },
  });
}

const byRoute = (route: SandboxRequestLog['route']) => fake.requests().filter((r) => r.route === route);

/** Every chunk PUT: no bearer token, at most 4 MiB, contiguous and in order. */
function expectCleanChunks(size: number): void {
  const chunks = byRoute('uploadChunk').filter((r) => r.status === 200 || r.status === 201);
  let next = 0;
  for (const c of chunks) {
    const [, start, end, total] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(c.contentRange ?? '') ?? [];
    expect(Number(start)).toBe(next);
    expect(Number(total)).toBe(size);
    expect(c.bytes).toBe(Number(end) - Number(start) + 1);
    expect(c.bytes).toBeLessThanOrEqual(MAX_UPLOAD_CHUNK_BYTES);
    next = Number(end) + 1;
  }
  expect(next).toBe(size);
  expect(byRoute('uploadChunk').every((r) => !r.authorization)).toBe(true);
}

beforeAll(async () => {
  fake = await startFakeGraph({ maxMessageBytes: 150 * MiB });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.clear();
  lines.length = 0;
});

describe('createGraphMailer: messages over the one-request limit', () => {
  it('sends a 30 MB scan byte-exact as draft + upload session in chunks of at most 4 MiB, without the bearer on the upload URL', async () => {
    const scan = pdfLike(30 * MiB);
    const report = await mailer().send(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('scan-0001.pdf', scan)] }),
    );

    expect(report.path).toBe('draft');
    const [kept] = fake.messages();
    expect(kept?.via).toBe('draft');
    expect(kept?.attachments).toHaveLength(1);
    expect(kept?.attachments[0]?.sha256).toBe(sha256(scan));
    expect(kept?.bcc).toEqual(['hidden@example.org']);
    expectCleanChunks(scan.length);
    for (const route of ['createMessage', 'createUploadSession', 'send'] as const)
      expect(byRoute(route).map((r) => r.authorization)).toEqual([true]);
    // draft + session + 8 chunks + send; every byte of the scan went up once.
    expect(report.graphCalls).toBe(3 + Math.ceil(scan.length / MAX_UPLOAD_CHUNK_BYTES));
    expect(report.bytesSent).toBe(
      fake
        .requests()
        .filter((r) => !['openid', 'token'].includes(r.route))
        .reduce((n, r) => n + r.bytes, 0),
    );
    expect(report.requestId).toBe(byRoute('send')[0]?.requestId);
  });

  it('retries a chunk that fails with 503 on its own and completes the upload', async () => {
    const file = pdfLike(12 * MiB);
    fake.inject({ route: 'uploadChunk', after: 1, status: 503, retryAfterSec: 0 });
    await mailer().send(jsonPlan({ mailbox: MAILBOX, attachments: [attachment('big.pdf', file)] }));

    const chunks = byRoute('uploadChunk');
    expect(chunks.map((c) => c.status)).toEqual([200, 503, 200, 201]);
    expect(chunks[2]?.contentRange).toBe(chunks[1]?.contentRange); // the failed range, and only it, again
    expect(byRoute('createUploadSession')).toHaveLength(1);
    expect(fake.messages()[0]?.attachments[0]?.sha256).toBe(sha256(file));
    expect(lines.filter((l) => l.event === 'GRAPH_UPLOAD_CHUNK_RETRY')).toHaveLength(1);
  });

  it('resumes from nextExpectedRanges when a chunk arrived but its answer was lost', async () => {
    const file = pdfLike(9 * MiB);
    fake.inject({ route: 'uploadChunk', after: 1, action: 'drop', processFirst: true });
    await mailer().send(jsonPlan({ mailbox: MAILBOX, attachments: [attachment('big.pdf', file)] }));

    const chunks = byRoute('uploadChunk');
    // The dropped second range is not sent again: the session said it already had it.
    expect(new Set(chunks.map((c) => c.contentRange)).size).toBe(chunks.length);
    expect(byRoute('uploadStatus')).toHaveLength(1);
    expect(fake.messages()[0]?.attachments[0]?.sha256).toBe(sha256(file));
  });

  it('posts small attachments whole and streams large ones, keeping inline content ids', async () => {
    const logo = pdfLike(200_000);
    const medium = pdfLike(2_500_000);
    const large = pdfLike(3_500_000);
    const plan = jsonPlan({
      mailbox: MAILBOX,
      attachments: [
        attachment('logo.png', logo, { contentType: 'image/png', isInline: true, contentId: 'logo@bridge' }),
        attachment('medium.pdf', medium),
        attachment('large.pdf', large),
      ],
    });
    plan.message = {
      ...plan.message,
      body: { contentType: 'html', content: '<p>Scan</p><img src="cid:logo@bridge">' },
    };
    const report = await mailer().send(plan);

    expect(report.path).toBe('draft');
    expect(byRoute('addAttachment')).toHaveLength(2);
    expect(byRoute('createUploadSession')).toHaveLength(1);
    const kept = fake.messages()[0];
    expect(kept?.attachments.map((a) => [a.name, a.sha256, a.isInline, a.contentId])).toEqual([
      ['logo.png', sha256(logo), true, 'logo@bridge'],
      ['medium.pdf', sha256(medium), false, undefined],
      ['large.pdf', sha256(large), false, undefined],
    ]);
    expect(kept?.body.contentType).toBe('html');
  });

  it('retries a throttled draft step after Retry-After', async () => {
    fake.inject({ route: 'createMessage', status: 429, retryAfterSec: 0 });
    await mailer().send(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('big.pdf', pdfLike(5 * MiB))] }),
    );
    expect(byRoute('createMessage').map((r) => r.status)).toEqual([429, 201]);
    expect(fake.messages()).toHaveLength(1);
  });

  it('posts a throttled attachment again, whole, after Retry-After', async () => {
    const medium = pdfLike(2_500_000);
    fake.inject({ route: 'addAttachment', status: 429, retryAfterSec: 0 });
    await mailer().send(
      jsonPlan({
        mailbox: MAILBOX,
        attachments: [attachment('medium.pdf', medium), attachment('big.pdf', pdfLike(5 * MiB))],
      }),
    );
    const posts = byRoute('addAttachment');
    expect(posts.map((r) => r.status)).toEqual([429, 201]);
    expect(posts[1]?.bytes).toBe(posts[0]?.bytes);
    expect(fake.messages()[0]?.attachments[0]?.sha256).toBe(sha256(medium));
  });

  it('deletes the draft and reports the error when an upload fails for good', async () => {
    fake.inject({ route: 'uploadChunk', status: 400, code: 'ErrorInvalidRequest', message: 'bad chunk' });
    const e = (await mailer()
      .send(jsonPlan({ mailbox: MAILBOX, attachments: [attachment('big.pdf', pdfLike(5 * MiB))] }))
      .catch((err: unknown) => err)) as BridgeError;
    expect(e).toBeInstanceOf(BridgeError);
    expect(e.code).toBe('GRAPH_REJECTED');
    expect(byRoute('deleteMessage').map((r) => r.status)).toEqual([204]);
    expect(byRoute('send')).toHaveLength(0);
    expect(fake.messages()).toHaveLength(0);
  });

  it('sends a 100 MB message byte-exact', async () => {
    const big = pdfLike(100_000_000);
    const report = await mailer().send(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('archive.pdf', big)] }),
    );
    expect(report.path).toBe('draft');
    expect(fake.messages()[0]?.attachments[0]?.sha256).toBe(sha256(big));
    expectCleanChunks(big.length);
  });
});
