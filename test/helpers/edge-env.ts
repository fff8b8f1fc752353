/**
 * The one builder of a test listener's settings. Every test that runs an edge listener — in this process
 * (edge-harness.ts, e2e-edge.ts) or as a child process (the CLI and crash tests) — starts from these, and
 * passes what its case is about as `extra`.
 */

/** What the edge needs to know about the function it forwards to (a FakeFunction or an e2e FunctionStack). */
export interface FunctionTarget {
  url: string;
  siteId: string;
  siteSecret: string;
  functionKey: string;
}

/**
 * Loopback ports chosen by the OS, the run's TLS certificate, short retry waits, no free-space floor. A
 * setting given as undefined in `extra` is left out (the listener's default applies).
 */
export function edgeEnv(
  target: FunctionTarget,
  dataDir: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    BRIDGE_SITE_ID: target.siteId,
    BRIDGE_SITE_SECRET: target.siteSecret,
    BRIDGE_FUNCTION_KEY: target.functionKey,
    BRIDGE_FUNCTION_URL: target.url,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_INSTANCE_ID: 'test-edge',
    BRIDGE_SMTP_HOST: '127.0.0.1',
    BRIDGE_SMTP_PORT: '0',
    BRIDGE_HTTP_PORT: '0',
    BRIDGE_SPOOL_MIN_FREE_BYTES: '0',
    BRIDGE_FORWARD_BUDGET_MS: '2000',
    // Tests assert what the function answered in each SMTP reply ("sent as", its 5xx), so every reply waits
    // for it; the shipped default (adaptive: proven routes answered at commit) is tested in
    // test/edge-listener/forward/reply-hold.test.ts.
    BRIDGE_REPLY_HOLD: 'always',
    BRIDGE_RETRY_SCHEDULE: '200ms,400ms',
    BRIDGE_RETRY_JITTER: '0',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2s',
    // The run's test certificate (vitest.config.mts) saves generating a key per listener; one test covers
    // the generated self-signed certificate by setting these to ''.
    BRIDGE_TLS_CERT_FILE: process.env.BRIDGE_TEST_TLS_CERT ?? '',
    BRIDGE_TLS_KEY_FILE: process.env.BRIDGE_TEST_TLS_KEY ?? '',
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * The environment of a listener run as a child process: its settings plus PATH and the run's test CA
 * (NODE_EXTRA_CA_CERTS, read by Node at process start), so it trusts the https FakeFunction like this one.
 */
export function childProcessEnv(settings: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
    ...settings,
  };
}
