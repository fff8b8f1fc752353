import { isIP } from 'node:net';
import { connect } from 'node:tls';

import { type CheckResult, fail, pass } from '../check-result';

const ID = 'function-tls';

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);

/**
 * A TLS handshake with the function host, verified like the forwarder's (Node's CA store plus
 * NODE_EXTRA_CA_CERTS). The usual failure on a site is a firewall that inspects TLS with its own CA.
 */
export async function functionTlsCheck(functionUrl: string, timeoutMs: number): Promise<CheckResult> {
  const url = new URL(functionUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const title = `TLS to ${url.host} verifies`;
  if (url.protocol === 'http:')
    return pass(
      ID,
      title,
      `Plain http to a function host on this machine (allowed for loopback only); no TLS to verify.`,
      { protocol: 'http' },
    );
  const port = Number(url.port || 443);
  const outcome = await new Promise<{ validTo?: string; subject?: string; code?: string; message?: string }>(
    (resolve) => {
      const socket = connect(
        { host, port, rejectUnauthorized: true, ...(isIP(host) === 0 ? { servername: host } : {}) },
        () => {
          const cert = socket.getPeerX509Certificate();
          socket.end();
          resolve({
            ...(cert
              ? { validTo: new Date(cert.validTo).toISOString(), subject: cert.subject.replace(/\n/g, ', ') }
              : {}),
          });
        },
      );
      socket.setTimeout(timeoutMs, () =>
        socket.destroy(
          Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      socket.once('error', (e: NodeJS.ErrnoException) =>
        resolve({ code: e.code ?? 'ERROR', message: e.message }),
      );
    },
  );
  if (!outcome.code)
    return pass(
      ID,
      title,
      `The certificate (${outcome.subject ?? '?'}) is trusted and valid until ${outcome.validTo?.slice(0, 10) ?? '?'}.`,
      outcome,
    );
  const code = outcome.code;
  if (UNTRUSTED.has(code)) {
    return fail(
      ID,
      title,
      `This machine does not trust the certificate ${url.host} presents (${code}). A firewall or proxy that inspects TLS with its own certificate authority is the usual cause.`,
      "Exempt the function host name from TLS inspection, or give Node that authority's certificate: NODE_EXTRA_CA_CERTS=/path/to/ca.pem in the environment of the listener service (and of doctor).",
      { code },
    );
  }
  if (code === 'CERT_HAS_EXPIRED')
    return fail(
      ID,
      title,
      `The certificate ${url.host} presents has expired.`,
      'If BRIDGE_FUNCTION_URL uses a custom domain, renew its certificate in the function app (TLS/SSL settings); a TLS-inspecting proxy may also present stale certificates.',
      { code },
    );
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return fail(
      ID,
      title,
      `The certificate ${url.host} presents is for another name (${outcome.message ?? code}).`,
      "Use the function app's own host name (https://<name>.azurewebsites.net) or a custom domain bound to it in BRIDGE_FUNCTION_URL.",
      { code },
    );
  return fail(
    ID,
    title,
    `No TLS connection to ${host}:${port} (${code}).`,
    `Allow outbound HTTPS (TCP ${port}) from this machine to ${host} in the firewall or proxy, and check that the function app is running.`,
    { code },
  );
}
