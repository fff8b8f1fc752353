import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  DEEP_HEALTH_INTERVAL_MS,
  DEEP_HEALTH_PATH,
  DIAGNOSTICS_PATH,
  type DiagnosticsReport,
} from '../../core/diagnostics';
import {
  EMPTY_SHA256,
  signedHeaders,
  sha256Hex,
  signV1,
  WIRE_CONTENT_TYPE,
  WIRE_HEADERS,
  WIRE_PATH,
  type WireResult,
} from '../../core/wire';
import { makeDiagnosticsHandler } from '../../functions/http/diagnostics-handler';
import { makeSendMessageHandler } from '../../functions/http/post-message-handler';
import type { FunctionServices } from '../../functions/services';
import {
  callDeepHealth,
  envelopeFor,
  frame,
  invocation,
  mimeMessage,
  newMessageId,
  OTHER_SECRET,
  OTHER_SITE,
  SENDER,
  signedGetRequest,
  SITE,
  SITE_SECRET,
  startKit,
  type Kit,
} from './function-test-kit';

/**
 * Attacks on the function's read routes by a party that holds the function key (every site has it) but not
 * the victim site's secret, or that holds its own site's secret and asks about another site's mailboxes
 * (docs/security-model.md, "Function routes and cloud resources").
 *
 * Site hq sends as scanner@contoso.com (default sender) and *@contoso.com; site branch, in another tenant,
 * sends as ceo@fabrikam.com only. ceo@contoso.com exists in hq's tenant but hq's policy would allow it; the
 * payroll mailbox of fabrikam is outside both policies of hq.
 */
const BRANCH_SENDER = 'ceo@fabrikam.com';
const BRANCH_TENANT = 'tenant-fabrikam';
const HIDDEN = 'payroll@fabrikam.com';

let kit: Kit;
beforeAll(async () => {
  kit = await startKit('routeaccess', {
    settings: {
      BRIDGE_ALLOWED_SENDERS: '*@contoso.com',
      BRIDGE_DEFAULT_SENDER: SENDER,
      BRIDGE_SITES: JSON.stringify([
        {
          id: OTHER_SITE,
          tenantId: BRANCH_TENANT,
          allowedSenders: [BRANCH_SENDER],
          defaultSender: BRANCH_SENDER,
        },
      ]),
    },
    sandbox: { mailboxes: [SENDER, 'ceo@contoso.com', BRANCH_SENDER, HIDDEN] },
  });
});
afterAll(() => kit.close());
beforeEach(() => kit.graph.clear());

/** Services with a clock the test moves; one object, so the route's per-instance probe cache sticks to it. */
function withClock(start: number): { services: FunctionServices; advance(ms: number): void } {
  let now = start;
  const services: FunctionServices = { ...kit.services, now: () => new Date(now) };
  return { services, advance: (ms) => (now += ms) };
}

const graphProbes = () => kit.graph.requests().filter((r) => r.route === 'sendMail').length;

describe('GET /api/health/deep', () => {
  it('refuses a caller that has only the function key: no site signature, no tenant data, no Graph probe', async () => {
    const { services } = withClock(Date.now());
    // What `curl -H "x-functions-key: …" /api/health/deep` sent before: the host let it through.
    const request = new HttpRequest({
      method: 'GET',
      url: `https://bridge.example${DEEP_HEALTH_PATH}`,
      headers: { [WIRE_HEADERS.functionKey]: 'shared-function-key' },
    });
    const { status, res } = await callDeepHealth(() => services, { request });
    expect(status).toBe(401);
    expect((res.jsonBody as WireResult).error?.code).toBe('SITE_UNKNOWN');
    const text = JSON.stringify(res.jsonBody);
    for (const secret of [BRANCH_TENANT, 'tenant-home', SENDER, BRANCH_SENDER, 'app-client-id'])
      expect(text).not.toContain(secret);
    expect(kit.graph.tokenRequests()).toHaveLength(0);
    expect(graphProbes()).toBe(0);
  });

  it("refuses a site that signs with another site's id (wrong secret)", async () => {
    const { services } = withClock(Date.now());
    const { status, res } = await callDeepHealth(() => services, { site: OTHER_SITE, secret: SITE_SECRET });
    expect(status).toBe(401);
    expect((res.jsonBody as WireResult).error?.code).toBe('SITE_SIGNATURE_INVALID');
    expect(kit.graph.tokenRequests()).toHaveLength(0);
  });

  it('refuses a signature made for another route (a status read replayed here)', async () => {
    const { services } = withClock(Date.now());
    const headers = signedHeaders({
      siteId: SITE,
      messageId: 'doctor-0123456789abcdef',
      bodySha256: EMPTY_SHA256,
      secret: SITE_SECRET,
      method: 'GET',
      path: `${WIRE_PATH}/doctor-0123456789abcdef`,
    });
    const request = new HttpRequest({
      method: 'GET',
      url: `https://bridge.example${DEEP_HEALTH_PATH}`,
      headers,
    });
    const { status } = await callDeepHealth(() => services, { request });
    expect(status).toBe(401);
  });

  it("answers a site about itself only: its tenant and mailboxes, never another site's", async () => {
    const { services } = withClock(Date.now());
    const hq = await callDeepHealth(() => services);
    expect(hq.status).toBe(200);
    expect(hq.body.site).toBe(SITE);
    expect(hq.body.graph.map((g) => g.tenantId)).toEqual(['tenant-home']);
    const hqText = JSON.stringify(hq.body);
    expect(hqText).toContain(SENDER);
    expect(hqText).not.toContain(BRANCH_TENANT);
    expect(hqText).not.toContain(BRANCH_SENDER);
    expect(kit.graph.tokenRequests().map((t) => t.tenantId)).toEqual(['tenant-home']);

    const branch = await callDeepHealth(() => services, { site: OTHER_SITE, secret: OTHER_SECRET });
    expect(branch.body.site).toBe(OTHER_SITE);
    expect(branch.body.graph.map((g) => g.tenantId)).toEqual([BRANCH_TENANT]);
    expect(JSON.stringify(branch.body)).not.toContain(SENDER);
  });

  it('probes Graph at most once a minute per site; in between it repeats the last answer', async () => {
    const start = Date.now();
    const clock = withClock(start);
    const first = await callDeepHealth(() => clock.services);
    expect(first.body).toMatchObject({ status: 'ok', reused: false });
    const probesAfterFirst = graphProbes();
    expect(probesAfterFirst).toBeGreaterThan(0);

    // A burst: ten concurrent calls and a few sequential ones within the minute fire no Graph request.
    clock.advance(DEEP_HEALTH_INTERVAL_MS - 1_000);
    const burst = await Promise.all(Array.from({ length: 10 }, () => callDeepHealth(() => clock.services)));
    for (const b of burst) {
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ reused: true, time: first.body.time });
      expect(b.res.headers).toMatchObject({ age: String((DEEP_HEALTH_INTERVAL_MS - 1_000) / 1000) });
    }
    expect(graphProbes()).toBe(probesAfterFirst);
    expect(first.body.nextProbeAt).toBe(new Date(start + DEEP_HEALTH_INTERVAL_MS).toISOString());

    // Another site is not starved by hq's cache: it gets its own probe.
    const branch = await callDeepHealth(() => clock.services, { site: OTHER_SITE, secret: OTHER_SECRET });
    expect(branch.body).toMatchObject({ site: OTHER_SITE, reused: false });
    const probesAfterBranch = graphProbes();
    expect(probesAfterBranch).toBeGreaterThan(probesAfterFirst);

    // After the minute the next call probes again.
    clock.advance(1_000);
    const later = await callDeepHealth(() => clock.services);
    expect(later.body.reused).toBe(false);
    expect(graphProbes()).toBeGreaterThan(probesAfterBranch);
  });

  it('concurrent first calls share one probe (single flight)', async () => {
    const clock = withClock(Date.now());
    const answers = await Promise.all(Array.from({ length: 5 }, () => callDeepHealth(() => clock.services)));
    expect(answers.filter((a) => a.body.reused === false)).toHaveLength(1);
    expect(kit.graph.tokenRequests().length).toBeLessThanOrEqual(1);
    expect(new Set(answers.map((a) => a.body.time)).size).toBe(1);
  });
});

async function diagnose(
  query: string,
  opts: { site?: string; secret?: string } = {},
): Promise<{ status: number | undefined; report: DiagnosticsReport }> {
  const res = await makeDiagnosticsHandler(() => kit.services)(
    signedGetRequest(DIAGNOSTICS_PATH, { ...opts, query }),
    invocation('diagnostics').context,
  );
  return { status: res.status, report: res.jsonBody as DiagnosticsReport };
}

const probedMailboxes = () =>
  kit.graph
    .requests()
    .filter((r) => r.route === 'sendMail')
    .map((r) => r.mailbox);

describe('GET /api/v1/diagnostics?mailbox=', () => {
  it("does not probe a mailbox outside the calling site's senders (no existence or RBAC-scope oracle)", async () => {
    const { status, report } = await diagnose(
      new URLSearchParams([
        ['mailbox', HIDDEN],
        ['mailbox', BRANCH_SENDER],
      ]).toString(),
    );
    expect(status).toBe(200);
    expect(report.refused).toEqual([HIDDEN, BRANCH_SENDER]);
    expect(report.mailboxes.map((m) => m.address)).toEqual([SENDER]);
    expect(probedMailboxes()).toEqual([SENDER]);
  });

  it("probes a requested mailbox the site's policy allows (*@contoso.com), and its default sender", async () => {
    const { report } = await diagnose('mailbox=CEO%40Contoso.com');
    expect(report.refused).toBeUndefined();
    expect(report.mailboxes.map((m) => [m.address, m.role, m.send.ok])).toEqual([
      [SENDER, 'default-sender', true],
      ['CEO@contoso.com', 'requested', true],
    ]);
  });

  it("a site limited to one mailbox may not probe its tenant's others", async () => {
    const { report } = await diagnose(`mailbox=${encodeURIComponent(HIDDEN)}`, {
      site: OTHER_SITE,
      secret: OTHER_SECRET,
    });
    expect(report.refused).toEqual([HIDDEN]);
    expect(probedMailboxes()).toEqual([BRANCH_SENDER]);
  });
});

describe('signature over the query string (SGB/2)', () => {
  function v1Request(path: string, search: string, signedAt = new Date()): HttpRequest {
    const timestamp = String(Math.floor(signedAt.getTime() / 1000));
    const messageId = 'doctor-00112233aabbccdd';
    const signature = signV1(
      { method: 'GET', path, timestamp, messageId, bodySha256: EMPTY_SHA256 },
      SITE_SECRET,
    );
    return new HttpRequest({
      method: 'GET',
      url: `https://bridge.example${path}${search}`,
      headers: {
        [WIRE_HEADERS.site]: SITE,
        [WIRE_HEADERS.messageId]: messageId,
        [WIRE_HEADERS.timestamp]: timestamp,
        [WIRE_HEADERS.bodySha256]: EMPTY_SHA256,
        [WIRE_HEADERS.signature]: signature,
      },
    });
  }

  it('refuses an SGB/2 request whose query was changed after signing', async () => {
    const signed = signedGetRequest(DIAGNOSTICS_PATH, { query: `mailbox=${SENDER}` });
    const tampered = new HttpRequest({
      method: 'GET',
      url: `https://bridge.example${DIAGNOSTICS_PATH}?mailbox=${encodeURIComponent('ceo@contoso.com')}`,
      headers: Object.fromEntries(signed.headers.entries()),
    });
    const res = await makeDiagnosticsHandler(() => kit.services)(tampered, invocation('diagnostics').context);
    expect(res.status).toBe(401);
    expect((res.jsonBody as WireResult).error?.code).toBe('SITE_SIGNATURE_INVALID');
    expect(probedMailboxes()).toEqual([]);
  });

  it('accepts an SGB/2 request whose query a proxy re-encoded or reordered', async () => {
    const signed = signedGetRequest(DIAGNOSTICS_PATH, {
      query: 'mailbox=ceo%40contoso.com&mailbox=x%40contoso.com',
    });
    const reencoded = new HttpRequest({
      method: 'GET',
      url: `https://bridge.example${DIAGNOSTICS_PATH}?mailbox=x@contoso.com&mailbox=ceo%40contoso.com`,
      headers: Object.fromEntries(signed.headers.entries()),
    });
    const res = await makeDiagnosticsHandler(() => kit.services)(
      reencoded,
      invocation('diagnostics').context,
    );
    expect(res.status).toBe(200);
  });

  it('refuses an SGB/1 (v1) signature on a request with a query: it never covered the query', async () => {
    // The replay this closes: a v1-signed doctor request captured with one mailbox, replayed with another.
    const res = await makeDiagnosticsHandler(() => kit.services)(
      v1Request(DIAGNOSTICS_PATH, `?mailbox=${encodeURIComponent(HIDDEN)}`),
      invocation('diagnostics').context,
    );
    expect(res.status).toBe(401);
    expect((res.jsonBody as WireResult).error).toMatchObject({
      code: 'SITE_SIGNATURE_INVALID',
      detail: expect.stringMatching(/SGB\/1 signature does not cover the query/),
    });
    expect(probedMailboxes()).toEqual([]);
  });

  it("still accepts an older edge's SGB/1-signed message POST (one release)", async () => {
    const id = newMessageId();
    const body = frame(envelopeFor(id), mimeMessage({ subject: 'From an SGB/1 edge' }));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const bodySha256 = sha256Hex(body);
    const request = new HttpRequest({
      method: 'POST',
      url: `https://bridge.example${WIRE_PATH}`,
      headers: {
        'content-type': WIRE_CONTENT_TYPE,
        [WIRE_HEADERS.site]: SITE,
        [WIRE_HEADERS.messageId]: id,
        [WIRE_HEADERS.timestamp]: timestamp,
        [WIRE_HEADERS.bodySha256]: bodySha256,
        [WIRE_HEADERS.signature]: signV1(
          { method: 'POST', path: WIRE_PATH, timestamp, messageId: id, bodySha256 },
          SITE_SECRET,
        ),
      },
      body: { bytes: body },
    });
    const inv = invocation('sendMessage');
    const res = await makeSendMessageHandler(() => kit.services)(request, inv.context);
    expect(res.status).toBe(200);
    // The admin learns which edges still sign the old way (once per site and instance).
    expect(inv.events().filter((e) => e.event === 'SIGNATURE_OUTDATED')).toEqual([
      expect.objectContaining({ site: SITE }),
    ]);
    expect(res.jsonBody).toMatchObject({ id, state: 'sent', sender: SENDER });
    expect(kit.graph.messages().map((m) => m.subject)).toEqual(['From an SGB/1 edge']);
  });

  it('still accepts an SGB/1 (v1) signature on a request without a query (older edges, one release)', async () => {
    const diag = await makeDiagnosticsHandler(() => kit.services)(
      v1Request(DIAGNOSTICS_PATH, ''),
      invocation('diagnostics').context,
    );
    expect(diag.status).toBe(200);
    const { status, body } = await callDeepHealth(() => withClock(Date.now()).services, {
      request: v1Request(DEEP_HEALTH_PATH, ''),
    });
    expect(status).toBe(200);
    expect(body.site).toBe(SITE);
    // An empty `?` is no query.
    const bare = await makeDiagnosticsHandler(() => kit.services)(
      v1Request(DIAGNOSTICS_PATH, '?'),
      invocation('diagnostics').context,
    );
    expect(bare.status).toBe(200);
  });
});
