import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../../../scripts/stack/readiness';
import { datedCertFiles } from './dated-cert';
import { check, doctor, type DoctorStack, startDoctorStack } from './doctor-stack';

let stack: DoctorStack;
beforeAll(async () => {
  stack = await startDoctorStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('doctor on the hops between the device and the function', () => {
  it('lists every configuration problem at once, skips the rest and exits 1', async () => {
    const { BRIDGE_SITE_SECRET: _secret, ...env } = stack.env;
    const run = await doctor(
      { ...env, BRIDGE_FUNCTION_URL: 'ftp://bridge.example', BRIDGE_SMTP_PORT: 'many' },
      ['--json'],
    );
    expect(run.code).toBe(1);
    const config = check(run, 'config');
    expect(config.status).toBe('fail');
    expect(config.summary).toMatch(/BRIDGE_SITE_SECRET: required/);
    expect(config.summary).toMatch(/BRIDGE_FUNCTION_URL/);
    expect(config.summary).toMatch(/BRIDGE_SMTP_PORT/);
    expect(run.report!.checks.filter((c) => c.id !== 'config').every((c) => c.status === 'skip')).toBe(true);
  });

  it('says nothing listens when the listener is not running, and still checks its certificate file', async () => {
    const run = await doctor({ ...stack.env, BRIDGE_SMTP_PORT: String(await freePort()) }, [
      '--json',
      '--send-to',
      'alice@fabrikam.com',
    ]);
    expect(run.code).toBe(1);
    const smtp = check(run, 'smtp-listening');
    expect(smtp).toMatchObject({ status: 'fail' });
    expect(smtp.summary).toMatch(
      /Nothing answers on 127\.0\.0\.1:\d+ \(ECONNREFUSED\): the edge listener is not running/,
    );
    expect(smtp.fix).toMatch(/Start the edge listener/);
    expect(check(run, 'smtp-tls-certificate')).toMatchObject({ status: 'pass', details: { source: 'file' } });
    expect(check(run, 'test-message').status).toBe('skip');
    // The cloud side is still checked: the hops are independent.
    expect(check(run, 'graph-token').status).toBe('pass');
  });

  it('checks the SMTPS port with implicit TLS and reads the certificate served there', async () => {
    const env = await stack.startEdge({ BRIDGE_SMTPS_PORT: '0', BRIDGE_SMTP_STARTTLS: 'false' });
    const run = await doctor(env, ['--json']);
    expect(check(run, 'smtps-listening').summary).toMatch(/answers "220 /);
    expect(check(run, 'smtp-listening').summary).not.toMatch(/STARTTLS/);
    expect(check(run, 'smtp-tls-certificate')).toMatchObject({
      status: 'pass',
      details: { source: 'listener' },
    });
    expect(run.code).toBe(0);
  });

  it('reports a listener that refuses this machine as listening, and explains the refused test message', async () => {
    const env = await stack.startEdge({ BRIDGE_ALLOWED_CLIENTS: '10.0.0.0/8' });
    const run = await doctor(env, ['--json', '--send-to', 'alice@fabrikam.com']);
    const smtp = check(run, 'smtp-listening');
    expect(smtp.status).toBe('pass');
    expect(smtp.summary).toMatch(/554 .*this machine is not in BRIDGE_ALLOWED_CLIENTS/);
    expect(check(run, 'smtp-tls-certificate').details).toMatchObject({ source: 'file' });
    const test = check(run, 'test-message');
    expect(test).toMatchObject({ status: 'fail', details: { code: 'CLIENT_NOT_ALLOWED' } });
    expect(test.fix).toMatch(/BRIDGE_ALLOWED_CLIENTS/);
  });

  it('fails an expired listener certificate and names the fix', async () => {
    const files = await datedCertFiles({ notBeforeDaysAgo: 400, notAfterInDays: -3 });
    const env = await stack.startEdge({
      BRIDGE_TLS_CERT_FILE: files.certFile,
      BRIDGE_TLS_KEY_FILE: files.keyFile,
    });
    const run = await doctor(env, ['--json']);
    expect(run.code).toBe(1);
    const cert = check(run, 'smtp-tls-certificate');
    expect(cert).toMatchObject({
      status: 'fail',
      details: { source: 'listener', subject: 'CN=doctor-dated-cert' },
    });
    expect(cert.summary).toMatch(/expired on \d{4}-\d{2}-\d{2}/);
    expect(cert.fix).toMatch(/replace the files named by BRIDGE_TLS_CERT_FILE/);
  });

  it('fails a certificate that expires within --cert-min-days, and passes it with a smaller margin', async () => {
    const files = await datedCertFiles({ notBeforeDaysAgo: 80, notAfterInDays: 5.5 });
    const env = await stack.startEdge({
      BRIDGE_TLS_CERT_FILE: files.certFile,
      BRIDGE_TLS_KEY_FILE: files.keyFile,
    });
    const soon = await doctor(env, ['--json']);
    expect(check(soon, 'smtp-tls-certificate').summary).toMatch(/expires in 5 days/);
    expect(soon.code).toBe(1);
    const relaxed = await doctor(env, ['--json', '--cert-min-days', '3']);
    expect(check(relaxed, 'smtp-tls-certificate').status).toBe('pass');
  });

  it('fails an unreachable function URL and skips every check behind it', async () => {
    const run = await doctor({ ...stack.env, BRIDGE_FUNCTION_URL: `http://127.0.0.1:${await freePort()}` }, [
      '--json',
    ]);
    expect(run.code).toBe(1);
    const answers = check(run, 'function-answers');
    expect(answers.status).toBe('fail');
    expect(answers.summary).toMatch(
      /Nothing answers at http:\/\/127\.0\.0\.1:\d+\/api\/health \(the connection was refused\)/,
    );
    expect(answers.fix).toMatch(/BRIDGE_FUNCTION_URL/);
    expect(check(run, 'site-signature').status).toBe('skip');
    expect(check(run, 'graph-token').status).toBe('skip');
  });

  it('fails a function URL whose certificate this machine does not trust (TLS inspection)', async () => {
    const files = await datedCertFiles({ notBeforeDaysAgo: 1, notAfterInDays: 30 });
    const server: Server = createServer(
      { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const run = await doctor({ ...stack.env, BRIDGE_FUNCTION_URL: `https://127.0.0.1:${port}` }, [
        '--json',
      ]);
      const tls = check(run, 'function-tls');
      expect(tls).toMatchObject({ status: 'fail', details: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
      expect(tls.summary).toMatch(/does not trust the certificate/);
      expect(tls.fix).toMatch(/NODE_EXTRA_CA_CERTS/);
      expect(check(run, 'function-answers').status).toBe('skip');
    } finally {
      server.close();
    }
  });

  it('says the site secret differs when the function refuses the signature', async () => {
    const run = await doctor({ ...stack.env, BRIDGE_SITE_SECRET: 'not-the-hq-secret-0123456789' }, [
      '--json',
    ]);
    expect(run.code).toBe(1);
    const sig = check(run, 'site-signature');
    expect(sig).toMatchObject({ status: 'fail', details: { status: 401, code: 'SITE_SIGNATURE_INVALID' } });
    expect(sig.summary).toMatch(/site secret on this machine differs/);
    expect(sig.fix).toMatch(/BRIDGE_SITE_SECRETS .*BRIDGE_SITE_SECRET/);
    expect(check(run, 'graph-token').status).toBe('skip');
  });

  it('tells a wrong function key apart from a wrong site', async () => {
    const key = await doctor({ ...stack.env, BRIDGE_FUNCTION_KEY: 'not-a-key-of-this-app-0123' }, ['--json']);
    expect(check(key, 'site-signature').summary).toMatch(
      /Azure Functions host refused the request with HTTP 401 .*not a key of this function app/,
    );
    expect(check(key, 'site-signature').fix).toMatch(/App keys/);
    const site = await doctor({ ...stack.env, BRIDGE_SITE_ID: 'annex' }, ['--json']);
    expect(check(site, 'site-signature').summary).toBe('The function does not know site "annex".');
    expect(check(site, 'site-signature').fix).toMatch(/Add "annex" and its secret to BRIDGE_SITE_SECRETS/);
  });
});
