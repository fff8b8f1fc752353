import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

let sandbox: GraphSandbox;
let dataDir: string;
let token: string;

const auth = (t = token) => ({ Authorization: `Bearer ${t}` });
const json = (body: unknown) => ({ 'Content-Type': 'application/json', body: JSON.stringify(body) });

async function call(
  method: string,
  path: string,
  opts: {
    headers?: Record<string, string>;
    body?: string | Buffer;
    base?: string;
    signal?: AbortSignal;
  } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${opts.base ?? sandbox.url}${path}`, {
    method,
    headers: opts.headers ?? {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function sendMail(mailbox: string, message: Record<string, unknown>, t = token, signal?: AbortSignal) {
  const { body, ...ct } = json({ message, saveToSentItems: false });
  return call('POST', `/v1.0/users/${encodeURIComponent(mailbox)}/sendMail`, {
    headers: { ...auth(t), ...ct },
    body,
    ...(signal ? { signal } : {}),
  });
}

const simple = {
  subject: 'hi',
  body: { contentType: 'text', content: 'x' },
  toRecipients: [{ emailAddress: { address: 'a@example.org' } }],
};
const errorCode = (b: Record<string, unknown>) => (b.error as { code?: string } | undefined)?.code;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'graph-sandbox-'));
  sandbox = await startFakeGraph({ dataDir, maxMessageBytes: 150 * MiB });
  token = sandbox.issueToken();
});
afterAll(async () => {
  await sandbox.close();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => sandbox.clear());

describe('graph sandbox: Entra side', () => {
  it('publishes OpenID metadata with the four endpoints MSAL requires, on the origin the client used', async () => {
    const { status, body } = await call('GET', '/tenant-a/v2.0/.well-known/openid-configuration');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      token_endpoint: `${sandbox.url}/tenant-a/oauth2/v2.0/token`,
      authorization_endpoint: `${sandbox.url}/tenant-a/oauth2/v2.0/authorize`,
      issuer: `${sandbox.url}/tenant-a/v2.0`,
      jwks_uri: `${sandbox.url}/tenant-a/discovery/v2.0/keys`,
    });
  });

  it('issues JWT-shaped client-credential tokens with roles, tid, appid and exp', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 's',
      scope: 'https://graph.microsoft.com/.default',
    });
    const { status, body } = await call('POST', '/tenant-a/oauth2/v2.0/token', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const claims = JSON.parse(
      Buffer.from(String(body.access_token).split('.')[1] as string, 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      tid: 'tenant-a',
      appid: 'app-1',
      roles: ['Mail.Send', 'Mail.ReadWrite', 'User.Read.All'],
      aud: 'https://graph.microsoft.com',
    });
    expect(Number(claims.exp)).toBeGreaterThan(Date.now() / 1000 + 3000);
  });

  it('refuses a wrong secret, an unknown app and an unknown tenant the way Entra does', async () => {
    const strict = await startFakeGraph({
      tenants: ['t1'],
      clients: [{ clientId: 'app-1', secret: 'right' }],
    });
    try {
      const tokenCall = (tenant: string, clientId: string, secret: string) =>
        call('POST', `/${tenant}/oauth2/v2.0/token`, {
          base: strict.url,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: clientId,
            client_secret: secret,
            scope: 'https://graph.microsoft.com/.default',
          }).toString(),
        });
      expect(await tokenCall('t1', 'app-1', 'wrong')).toMatchObject({
        status: 401,
        body: { error: 'invalid_client', error_codes: [7000215] },
      });
      expect(await tokenCall('t1', 'app-2', 'right')).toMatchObject({
        status: 400,
        body: { error: 'unauthorized_client', error_codes: [700016] },
      });
      expect(await tokenCall('t2', 'app-1', 'right')).toMatchObject({
        status: 400,
        body: { error: 'invalid_request', error_codes: [90002] },
      });
      expect((await tokenCall('t1', 'app-1', 'right')).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('graph sandbox: Graph side', () => {
  it('answers every request with a request-id header and errors in Graph shape', async () => {
    const { status, headers, body } = await call('GET', '/v1.0/nowhere');
    expect(status).toBe(400);
    const inner = (body.error as { innerError: Record<string, string> }).innerError;
    expect(headers.get('request-id')).toBe(inner['request-id']);
    expect(inner.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call('GET', '/t/v2.0/.well-known/openid-configuration')).headers.get('request-id')).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it('refuses missing, expired and foreign bearer tokens with 401 InvalidAuthenticationToken', async () => {
    const other = await startFakeGraph();
    const foreign = other.issueToken();
    await other.close();
    const expired = sandbox.issueToken({ exp: Math.floor(Date.now() / 1000) - 60 });
    const { body: b, ...ct } = json({ message: simple });
    const missing = await call('POST', '/v1.0/users/u@contoso.example/sendMail', { headers: ct, body: b });
    expect(missing).toMatchObject({
      status: 401,
      body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' } },
    });
    expect(await sendMail('u@contoso.example', simple, expired)).toMatchObject({
      status: 401,
      body: { error: { message: expect.stringMatching(/expired/) } },
    });
    expect(await sendMail('u@contoso.example', simple, foreign)).toMatchObject({
      status: 401,
      body: { error: { message: 'Invalid signature.' } },
    });
    expect((await sendMail('u@contoso.example', simple)).status).toBe(202);
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('refuses a request body over 4 MiB with 413', async () => {
    const big = { ...simple, body: { contentType: 'text', content: 'x'.repeat(4 * MiB) } };
    const r = await sendMail('u@contoso.example', big);
    expect(r.status).toBe(413);
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('checks permissions, recipients, X- headers and MIME the way Graph does', async () => {
    const noSend = sandbox.issueToken({ roles: ['Mail.ReadWrite'] });
    expect(await sendMail('u@contoso.example', simple, noSend)).toMatchObject({
      status: 403,
      body: { error: { code: 'ErrorAccessDenied' } },
    });
    expect(await call('GET', '/v1.0/users/u@contoso.example', { headers: auth(noSend) })).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied' } },
    });
    expect(errorCode((await sendMail('u@contoso.example', { ...simple, toRecipients: [] })).body)).toBe(
      'ErrorInvalidRecipients',
    );
    expect(
      errorCode(
        (
          await sendMail('u@contoso.example', {
            ...simple,
            internetMessageHeaders: [{ name: 'List-Unsubscribe', value: '<x>' }],
          })
        ).body,
      ),
    ).toBe('InvalidInternetMessageHeader');
    const mime = await call('POST', '/v1.0/users/u@contoso.example/sendMail', {
      headers: { ...auth(), 'Content-Type': 'text/plain' },
      body: 'not base64 at all!',
    });
    expect(mime).toMatchObject({
      status: 400,
      body: { error: { code: 'ErrorMimeContentInvalidBase64String' } },
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('answers a fifth concurrent request for one mailbox with 429 and Retry-After', async () => {
    sandbox.inject({
      route: 'sendMail',
      mailbox: 'busy@contoso.example',
      action: 'hang',
      processFirst: true,
      times: 4,
    });
    const abort = new AbortController();
    const hanging = Array.from({ length: 4 }, () =>
      sendMail('busy@contoso.example', simple, token, abort.signal).catch(() => undefined),
    );
    await expect.poll(() => sandbox.requests().filter((r) => r.fault === 'hang').length).toBe(4);

    const fifth = await sendMail('busy@contoso.example', simple);
    expect(fifth).toMatchObject({ status: 429, body: { error: { code: 'ApplicationThrottled' } } });
    expect(fifth.headers.get('retry-after')).toBe('1');
    expect((await sendMail('calm@contoso.example', simple)).status).toBe(202);

    abort.abort();
    await Promise.all(hanging);
    await expect.poll(async () => (await sendMail('busy@contoso.example', simple)).status).toBe(202);
  });

  it('uses up an injected fault on the next matching requests, then behaves normally', async () => {
    sandbox.inject({
      route: 'sendMail',
      mailbox: 'a@contoso.example',
      status: 503,
      retryAfterSec: 3,
      times: 2,
    });
    expect((await sendMail('b@contoso.example', simple)).status).toBe(202);
    const first = await sendMail('a@contoso.example', simple);
    expect(first).toMatchObject({ status: 503, body: { error: { code: 'ServiceUnavailable' } } });
    expect(first.headers.get('retry-after')).toBe('3');
    expect((await sendMail('a@contoso.example', simple)).status).toBe(503);
    expect((await sendMail('a@contoso.example', simple)).status).toBe(202);
    expect(sandbox.messages().map((m) => m.mailbox)).toEqual(['b@contoso.example', 'a@contoso.example']);
  });
});

describe('graph sandbox: upload sessions', () => {
  async function draft(): Promise<string> {
    const { body, ...ct } = json(simple);
    const r = await call('POST', '/v1.0/users/u@contoso.example/messages', {
      headers: { ...auth(), ...ct },
      body,
    });
    expect(r.status).toBe(201);
    return String(r.body.id);
  }
  const session = async (id: string, size: number) => {
    const { body, ...ct } = json({ AttachmentItem: { attachmentType: 'file', name: 'scan.pdf', size } });
    return call('POST', `/v1.0/users/u@contoso.example/messages/${id}/attachments/createUploadSession`, {
      headers: { ...auth(), ...ct },
      body,
    });
  };
  const put = (url: string, bytes: Buffer, range: string, extra: Record<string, string> = {}) =>
    fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': range, ...extra },
      body: bytes,
    });

  it('refuses sessions under 3 MB and enforces order, range, size and no Authorization on chunk PUTs', async () => {
    const id = await draft();
    expect(await session(id, 1_000_000)).toMatchObject({
      status: 400,
      body: { error: { code: 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize' } },
    });

    const file = Buffer.alloc(5 * MiB, 7);
    const s = await session(id, file.length);
    expect(s.status).toBe(201);
    expect(s.body.nextExpectedRanges).toEqual(['0-']);
    const uploadUrl = String(s.body.uploadUrl);
    expect(new URL(uploadUrl).hostname).toBe('localhost'); // not the Graph host: clients send no token there

    const first = file.subarray(0, 4 * MiB);
    expect((await put(uploadUrl, first, `bytes 0-${4 * MiB - 1}/${file.length}`, auth())).status).toBe(400);
    expect((await put(uploadUrl, first.subarray(0, 100), `bytes 100-199/${file.length}`)).status).toBe(416);
    expect((await put(uploadUrl, first.subarray(0, 100), `bytes 0-199/${file.length}`)).status).toBe(400);
    expect(
      (await put(uploadUrl, Buffer.alloc(4 * MiB + 1), `bytes 0-${4 * MiB}/${file.length}`)).status,
    ).toBe(413);
    expect(
      (
        await put(
          `${uploadUrl.split('?')[0]}?authtoken=forged`,
          first,
          `bytes 0-${4 * MiB - 1}/${file.length}`,
        )
      ).status,
    ).toBe(401);

    const ok1 = await put(uploadUrl, first, `bytes 0-${4 * MiB - 1}/${file.length}`);
    expect(ok1.status).toBe(200);
    expect(await ok1.json()).toMatchObject({ NextExpectedRanges: [`${4 * MiB}-`] });
    const ok2 = await put(
      uploadUrl,
      file.subarray(4 * MiB),
      `bytes ${4 * MiB}-${file.length - 1}/${file.length}`,
    );
    expect(ok2.status).toBe(201);
    expect(ok2.headers.get('location')).toMatch(/\/attachments\('/);

    expect(
      (await call('POST', `/v1.0/users/u@contoso.example/messages/${id}/send`, { headers: auth() })).status,
    ).toBe(202);
    expect(sandbox.messages()[0]?.attachments.map((a) => a.sha256)).toEqual([sha256(file)]);
  });
});

describe('graph sandbox: kept messages', () => {
  it('bounds the messages kept in memory, dropping the oldest', async () => {
    const small = await startFakeGraph({ maxKeptMessages: 2 });
    try {
      for (const subject of ['one', 'two', 'three']) {
        const r = await fetch(`${small.url}/v1.0/users/u@contoso.example/sendMail`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${small.issueToken()}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ message: { ...simple, subject } }),
        });
        expect(r.status).toBe(202);
      }
      expect(small.messages().map((m) => m.subject)).toEqual(['two', 'three']);
    } finally {
      await small.close();
    }
  });

  it('writes each message to its own folder: summary.json, request.json, message.eml and the attachment bytes', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const pdf = Buffer.from('%PDF-1.4 scanned page\n%%EOF\n');
    const message = {
      subject: 'Scan to email ✓',
      body: { contentType: 'html', content: '<p>Your scan</p><img src="cid:logo@x">' },
      from: { emailAddress: { address: 'scanner@contoso.example', name: 'Copier' } },
      toRecipients: [{ emailAddress: { address: 'alice@example.org', name: 'Alice' } }],
      bccRecipients: [{ emailAddress: { address: 'hidden@example.org' } }],
      replyTo: [{ emailAddress: { address: 'desk@example.org' } }],
      internetMessageHeaders: [{ name: 'X-Bridge-Site', value: 'hq' }],
      attachments: [
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'logo.png',
          contentType: 'image/png',
          isInline: true,
          contentId: 'logo@x',
          contentBytes: png.toString('base64'),
        },
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'scan 1.pdf',
          contentType: 'application/pdf',
          contentBytes: pdf.toString('base64'),
        },
      ],
    };
    expect((await sendMail('scanner@contoso.example', message)).status).toBe(202);

    const [kept] = sandbox.messages();
    expect(kept?.saveToSentItems).toBe(false);
    const dir = kept?.dir as string;
    expect((await readdir(dataDir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect((await readdir(join(dir, 'attachments'))).sort()).toEqual(['1-logo.png', '2-scan_1.pdf']);
    expect((await readFile(join(dir, 'attachments', '2-scan_1.pdf'))).equals(pdf)).toBe(true);

    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({
      subject: 'Scan to email ✓',
      to: ['alice@example.org'],
      bcc: ['hidden@example.org'],
      via: 'sendMail',
      format: 'json',
    });
    const requestJson = await readFile(join(dir, 'request.json'), 'utf8');
    expect(requestJson).toContain('X-Bridge-Site');
    expect(requestJson).not.toContain(pdf.toString('base64'));

    const eml = await simpleParser(await readFile(join(dir, 'message.eml')));
    expect(eml.subject).toBe('Scan to email ✓');
    expect(eml.headers.get('x-bridge-site')).toBe('hq');
    expect((eml.bcc as { text: string } | undefined)?.text).toBe('hidden@example.org');
    expect((eml.replyTo as { text: string } | undefined)?.text).toBe('desk@example.org');
    expect(eml.attachments.map((a) => [a.filename, sha256(a.content), a.cid ?? null])).toEqual([
      ['logo.png', sha256(png), 'logo@x'],
      ['scan 1.pdf', sha256(pdf), null],
    ]);

    const listed = await call('GET', '/_sandbox/messages');
    expect(listed.body).toMatchObject([
      {
        id: kept?.id,
        subject: 'Scan to email ✓',
        attachments: [{ name: 'logo.png' }, { name: 'scan 1.pdf' }],
      },
    ]);
    const download = await fetch(`${sandbox.url}/_sandbox/messages/${kept?.id}/attachments/2`);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
  });
});
