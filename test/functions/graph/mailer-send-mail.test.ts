import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import { memoryLogger } from '../../../core/log';
import { createCredentialProvider } from '../../../functions/graph/credential';
import { createGraphMailer, type GraphMailer } from '../../../functions/graph/mailer';
import { freePort } from '../../../scripts/stack/readiness';
import { startFakeGraph, type GraphSandbox } from '../../helpers/fake-graph';
import { attachment, jsonPlan, mimeMessage, pdfLike, sha256 } from './plans';

const TENANT = '11111111-1111-1111-1111-111111111111';
const APP = '22222222-2222-2222-2222-222222222222';
const SECRET = 'sandbox-client-secret-value';
const MAILBOX = 'scanner@contoso.example';

let fake: GraphSandbox;
const lines: Array<Record<string, unknown>> = [];

function mailer(
  over: { secret?: string; graphEndpoint?: string; requestTimeoutMs?: number } = {},
): GraphMailer {
  const credential = createCredentialProvider({
    tenantId: TENANT,
    clientId: APP,
    clientSecret: over.secret ?? SECRET,
    authorityHost: fake.authorityHost,
  }).credentialFor();
  return createGraphMailer({
    graphEndpoint: over.graphEndpoint ?? fake.url,
    credential,
    logger: memoryLogger(lines),
    ...(over.requestTimeoutMs ? { requestTimeoutMs: over.requestTimeoutMs } : {}),
  });
}

async function rejection(p: Promise<unknown>): Promise<BridgeError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BridgeError);
  return e as BridgeError;
}

const sendMailRequests = () => fake.requests().filter((r) => r.route === 'sendMail');

beforeAll(async () => {
  fake = await startFakeGraph({
    tenants: [TENANT],
    clients: [{ clientId: APP, secret: SECRET }],
    mailboxes: [
      MAILBOX,
      { address: 'nolicence@contoso.example', licensed: false },
      'outside@contoso.example',
    ],
    mailboxScope: [MAILBOX, 'nolicence@contoso.example'],
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.clear();
  lines.length = 0;
});

describe('createGraphMailer: one sendMail request', () => {
  it('sends a small JSON message in one sendMail call carrying the app token, with Bcc and attachment intact', async () => {
    const scan = Buffer.from('%PDF-1.4 tiny scan');
    const report = await mailer().send(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('scan.pdf', scan)] }),
    );

    expect(report.path).toBe('sendMail');
    expect(report.graphCalls).toBe(1);
    const [request] = sendMailRequests();
    expect(request?.authorization).toBe(true);
    expect(request?.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.bytesSent).toBe(request?.bytes);
    expect(report.requestId).toBe(request?.requestId);

    const [kept] = fake.messages();
    expect(kept?.mailbox).toBe(MAILBOX);
    expect(kept?.to).toEqual(['alice@example.org']);
    expect(kept?.bcc).toEqual(['hidden@example.org']);
    expect(kept?.attachments.map((a) => [a.name, a.sha256])).toEqual([['scan.pdf', sha256(scan)]]);
    expect(fake.tokenRequests()).toMatchObject([
      { tenantId: TENANT, clientId: APP, auth: 'client_secret', status: 200 },
    ]);
  });

  it('sends a scan just under the one-request budget in one sendMail, byte for byte, with its exact length', async () => {
    const scan = pdfLike(2_900_000);
    const report = await mailer().send(
      jsonPlan({ mailbox: MAILBOX, attachments: [attachment('scan.pdf', scan)] }),
    );
    expect(report.path).toBe('sendMail');
    const [request] = sendMailRequests();
    expect(request?.status).toBe(202);
    expect(request?.bytes).toBeGreaterThan((scan.length * 4) / 3);
    expect(report.bytesSent).toBe(request?.bytes);
    expect(fake.messages()[0]?.attachments.map((a) => a.sha256)).toEqual([sha256(scan)]);
  });

  it('asks Entra for one token and reuses it for many sends', async () => {
    const m = mailer();
    for (let i = 0; i < 5; i++) await m.send(jsonPlan({ mailbox: MAILBOX }));
    expect(fake.messages()).toHaveLength(5);
    expect(fake.tokenRequests()).toHaveLength(1);
    // The token itself never reaches a log line.
    expect(JSON.stringify(lines)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(lines.filter((l) => l.event === 'TOKEN_ACQUIRED')).toHaveLength(1);
  });

  it('sends a MIME plan as base64 text/plain, byte for byte', async () => {
    const mime = mimeMessage(MAILBOX, 'bob@example.org');
    const report = await mailer().send({
      ...jsonPlan({ mailbox: MAILBOX }),
      kind: 'mime',
      mime,
      message: undefined,
    });
    expect(report).toMatchObject({ path: 'sendMail', graphCalls: 1 });
    expect(sendMailRequests()[0]?.contentType).toBe('text/plain');
    const [kept] = fake.messages();
    expect(kept?.format).toBe('mime');
    expect(kept?.mime?.equals(mime)).toBe(true);
    expect(kept?.to).toEqual(['bob@example.org']);
  });

  it('refuses S/MIME over the one-request budget with GRAPH_PAYLOAD_TOO_LARGE before calling Graph', async () => {
    const mime = Buffer.concat([mimeMessage(MAILBOX, 'bob@example.org'), Buffer.alloc(3_100_000, 'A')]);
    const e = await rejection(
      mailer().send({ ...jsonPlan({ mailbox: MAILBOX }), kind: 'mime', mime, message: undefined }),
    );
    expect(e.code).toBe('GRAPH_PAYLOAD_TOO_LARGE');
    expect(e.detail).toMatch(/S\/MIME/);
    expect(fake.requests().filter((r) => r.route !== 'openid' && r.route !== 'token')).toHaveLength(0);
  });
});

describe('createGraphMailer: failures come back classified, never retried underneath', () => {
  it('returns a 429 as GRAPH_THROTTLED with Retry-After and sends nothing twice', async () => {
    fake.inject({
      route: 'sendMail',
      status: 429,
      code: 'ApplicationThrottled',
      message: 'Application is over its MailboxConcurrency limit.',
      retryAfterSec: 7,
    });
    const m = mailer();
    const e = await rejection(m.send(jsonPlan({ mailbox: MAILBOX })));
    expect(e.code).toBe('GRAPH_THROTTLED');
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(7000);
    expect(e.graph).toMatchObject({ status: 429, code: 'ApplicationThrottled' });
    expect(e.graph?.requestId).toBe(sendMailRequests()[0]?.requestId);
    expect(sendMailRequests()).toHaveLength(1);
    expect(fake.messages()).toHaveLength(0);

    await m.send(jsonPlan({ mailbox: MAILBOX }));
    expect(sendMailRequests()).toHaveLength(2);
    expect(fake.messages()).toHaveLength(1);
  });

  it('reports GRAPH_OUTCOME_UNKNOWN when the connection drops after Graph read the sendMail body', async () => {
    fake.inject({ route: 'sendMail', action: 'drop', processFirst: true });
    const e = await rejection(mailer().send(jsonPlan({ mailbox: MAILBOX })));
    expect(e.code).toBe('GRAPH_OUTCOME_UNKNOWN');
    expect(e.retryable).toBe(false);
    // The nasty case is real: the sandbox did accept it.
    expect(fake.messages()).toHaveLength(1);
    expect(sendMailRequests()).toHaveLength(1);
  });

  it('reports GRAPH_OUTCOME_UNKNOWN when sendMail times out without an answer', async () => {
    fake.inject({ route: 'sendMail', action: 'hang' });
    const e = await rejection(mailer({ requestTimeoutMs: 500 }).send(jsonPlan({ mailbox: MAILBOX })));
    expect(e.code).toBe('GRAPH_OUTCOME_UNKNOWN');
    expect(sendMailRequests()).toHaveLength(1);
  });

  it('reports GRAPH_OUTCOME_UNKNOWN for a 504 to sendMail but GRAPH_UNAVAILABLE for a 503', async () => {
    fake.inject({ route: 'sendMail', status: 504 });
    expect((await rejection(mailer().send(jsonPlan({ mailbox: MAILBOX })))).code).toBe(
      'GRAPH_OUTCOME_UNKNOWN',
    );
    fake.inject({ route: 'sendMail', status: 503 });
    expect((await rejection(mailer().send(jsonPlan({ mailbox: MAILBOX })))).code).toBe('GRAPH_UNAVAILABLE');
    // The SDK's RetryHandler would have repeated both (it retries 503 and 504); ours is not in the chain.
    expect(sendMailRequests()).toHaveLength(2);
  });

  it('treats a refused connection as GRAPH_UNAVAILABLE: nothing left, so a retry is safe', async () => {
    const closed = `https://127.0.0.1:${await freePort()}`;
    const e = await rejection(mailer({ graphEndpoint: closed }).send(jsonPlan({ mailbox: MAILBOX })));
    expect(e.code).toBe('GRAPH_UNAVAILABLE');
    expect(e.detail).toMatch(/ECONNREFUSED/);
  });

  it('turns a wrong client secret into GRAPH_TOKEN_FAILED naming the AADSTS code, without calling Graph', async () => {
    const e = await rejection(mailer({ secret: 'wrong' }).send(jsonPlan({ mailbox: MAILBOX })));
    expect(e.code).toBe('GRAPH_TOKEN_FAILED');
    expect(e.detail).toMatch(/AADSTS7000215/);
    expect(e.detail).not.toMatch(/wrong/);
    expect(sendMailRequests()).toHaveLength(0);
  });

  it.each([
    [
      'a mailbox outside the RBAC scope',
      'outside@contoso.example',
      {},
      'GRAPH_ACCESS_DENIED',
      'ErrorAccessDenied',
      /RBAC/,
    ],
    [
      'a mailbox without Exchange licence',
      'nolicence@contoso.example',
      {},
      'GRAPH_MAILBOX_NOT_FOUND',
      'MailboxNotEnabledForRESTAPI',
      /unlicensed/,
    ],
    [
      'an unknown mailbox',
      'ghost@contoso.example',
      {},
      'GRAPH_MAILBOX_NOT_FOUND',
      'ErrorInvalidUser',
      /no such user/,
    ],
    [
      'a From address without Send As',
      MAILBOX,
      { from: 'boss@contoso.example' },
      'GRAPH_SEND_AS_DENIED',
      'ErrorSendAsDenied',
      /Send As/,
    ],
  ])('maps %s to %s', async (_what, mailbox, over, code, graphCode, detail) => {
    const plan = jsonPlan({ mailbox });
    if ('from' in over) plan.message = { ...plan.message, from: { emailAddress: { address: over.from } } };
    const e = await rejection(mailer().send(plan));
    expect(e.code).toBe(code);
    expect(e.graph?.code).toBe(graphCode);
    expect(e.graph?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.detail).toMatch(detail);
    expect(fake.messages()).toHaveLength(0);
  });
});

describe('createGraphMailer: health checks', () => {
  it('tokenInfo names the roles, tenant and app in the token', async () => {
    const info = await mailer().tokenInfo();
    expect(info.roles).toEqual(expect.arrayContaining(['Mail.Send', 'Mail.ReadWrite']));
    expect(info.tenantId).toBe(TENANT);
    expect(info.appId).toBe(APP);
    expect(Date.parse(info.expiresOn)).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it('checkMailbox says which mailboxes exist', async () => {
    const m = mailer();
    expect(await m.checkMailbox(MAILBOX)).toEqual({ exists: true });
    const missing = await m.checkMailbox('ghost@contoso.example');
    expect(missing.exists).toBe(false);
    expect(missing.error?.code).toBe('GRAPH_MAILBOX_NOT_FOUND');
  });
});
