import { join } from 'node:path';

import { defineConfig } from 'vitest/config';

import { ensureSelfSignedCert } from './core/self-signed-cert';

/**
 * The fake Entra and Graph servers must be https (the SDKs refuse http: docs/design/platform-facts.md, "Identity"), so the run
 * makes a self-signed certificate and trusts it through NODE_EXTRA_CA_CERTS. Node reads that variable once at
 * process start, so it is set here, before the worker processes (the default `forks` pool) are spawned.
 */
export default defineConfig(async () => {
  const tlsDir = join(import.meta.dirname, '.test-data', 'tls');
  const { certPath, keyPath } = await ensureSelfSignedCert(tlsDir, { commonName: 'smtp-graph-bridge test' });
  process.env.NODE_EXTRA_CA_CERTS = certPath;
  process.env.BRIDGE_TEST_TLS_CERT = certPath;
  process.env.BRIDGE_TEST_TLS_KEY = keyPath;
  return {
    test: {
      include: ['test/**/*.test.ts'],
      pool: 'forks',
      globalSetup: ['test/global-setup.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // Vitest already fails the run on any unhandled rejection or uncaught error (mox counts panics).
      // The second reporter writes vitest's JSON report, which lets .ci/run print one plain
      // `N passed, N failed` line per Node version, then the closing line naming the test groups whose
      // tools are missing (README.md, "Tests").
      reporters: [
        'default',
        ['./test/reporters/not-run-groups.mts', { outputFile: '.test-data/vitest-results.json' }],
      ],
    },
  };
});
