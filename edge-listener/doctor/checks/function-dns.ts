import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import { type CheckResult, fail, pass } from '../check-result';

const ID = 'function-dns';

/** The host name of BRIDGE_FUNCTION_URL resolves from this machine (the forwarder uses the same resolver). */
export async function functionDnsCheck(functionUrl: string): Promise<CheckResult> {
  const host = new URL(functionUrl).hostname.replace(/^\[|\]$/g, '');
  const title = `Function host name ${host} resolves`;
  if (isIP(host) !== 0) return pass(ID, title, `${host} is an IP address; nothing to resolve.`, { host });
  try {
    const addresses = (await lookup(host, { all: true })).map((a) => a.address);
    return pass(ID, title, `${host} resolves to ${addresses.join(', ')}.`, { host, addresses });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'ERROR';
    return fail(
      ID,
      title,
      `${host} does not resolve (${code}).`,
      `Check BRIDGE_FUNCTION_URL for typos (the function app's URL is on its Overview page, e.g. https://<name>.azurewebsites.net) and this machine's DNS server; behind a private endpoint the name must resolve to its private address.`,
      { host, code },
    );
  }
}
