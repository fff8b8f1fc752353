import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startLocalFunctionHost, type LocalFunctionHost } from '../../../dev/function-host/host';
import { SITE, SITE_SECRET, startKit, type Kit } from '../../functions/function-test-kit';
import { opsEdgeEnv, runCli, tempDataDir } from './edge-process';

/**
 * `health --deep` against the real function handlers on the local function host: the deep health needs the
 * site's signature besides the function key (docs/security-model.md), so the CLI signs as the site.
 */
const FUNCTION_KEY = 'local-function-key-0123456789';
let kit: Kit;
let host: LocalFunctionHost;

beforeAll(async () => {
  kit = await startKit('clideep');
  host = await startLocalFunctionHost(kit.config, { functionKey: FUNCTION_KEY, queueTrigger: false });
});
afterAll(async () => {
  await host?.close();
  await kit?.close();
});

const env = (secret: string) =>
  opsEdgeEnv({ url: host.url, siteId: SITE, siteSecret: secret, functionKey: FUNCTION_KEY }, tempDataDir());

describe('health --deep', () => {
  it("signs as the site and prints the function's answer about this site", async () => {
    const r = await runCli(['health', '--deep'], env(SITE_SECRET));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [status, ...rest] = r.stdout.trim().split(' ');
    expect(status).toBe('200');
    expect(JSON.parse(rest.join(' '))).toMatchObject({ status: 'ok', site: SITE, reused: false });
  });

  it('fails with the refusal when the site secret is wrong', async () => {
    const r = await runCli(['health', '--deep'], env('not-the-site-secret-0123456789'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^401 .*SITE_SIGNATURE_INVALID/);
  });
});
