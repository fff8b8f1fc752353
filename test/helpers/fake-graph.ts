import { readFileSync } from 'node:fs';

import { startGraphSandbox } from '../../dev/graph-sandbox/sandbox';
import type { GraphSandbox, SandboxOptions } from '../../dev/graph-sandbox/options';

export type { GraphSandbox, SandboxOptions };

/**
 * The fake Entra ID + Graph for tests: the product's graph sandbox on the run's test certificate
 * (vitest.config.mts trusts it through NODE_EXTRA_CA_CERTS). Use `fake.url` as the Graph endpoint and
 * `fake.authorityHost` as the authority; close it in afterAll.
 */
export async function startFakeGraph(
  options: Omit<SandboxOptions, 'cert' | 'key'> = {},
): Promise<GraphSandbox> {
  const certPath = process.env.BRIDGE_TEST_TLS_CERT;
  const keyPath = process.env.BRIDGE_TEST_TLS_KEY;
  if (!certPath || !keyPath)
    throw new Error(
      'BRIDGE_TEST_TLS_CERT/KEY are not set: run the tests through vitest (vitest.config.mts makes them)',
    );
  return startGraphSandbox({
    ...options,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
  });
}
