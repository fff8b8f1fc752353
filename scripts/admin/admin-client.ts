import { readFileSync } from 'node:fs';

/**
 * The admin API's client for the CLI: base URL and keys from the environment (never from flags, which other
 * users of the machine can read in the process list), one JSON call per command.
 */
export interface AdminConnection {
  /** Function app base URL, e.g. https://bridge-func.azurewebsites.net */
  url: string;
  adminKey: string;
  functionKey?: string;
}

export class AdminCliError extends Error {}

function secret(env: Record<string, string | undefined>, name: string): string | undefined {
  const direct = env[name]?.trim();
  if (direct) return direct;
  const file = env[`${name}_FILE`]?.trim();
  return file ? readFileSync(file, 'utf8').trim() : undefined;
}

export function connectionFromEnv(env: Record<string, string | undefined>): AdminConnection {
  const url = env.BRIDGE_ADMIN_URL?.trim().replace(/\/+$/, '');
  const adminKey = secret(env, 'BRIDGE_ADMIN_KEY');
  if (!url)
    throw new AdminCliError(
      'BRIDGE_ADMIN_URL is not set (the function app URL, https://<app>.azurewebsites.net)',
    );
  if (!/^https:\/\//i.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(url))
    throw new AdminCliError(
      'BRIDGE_ADMIN_URL must be https:// (http:// only for a function host on this machine)',
    );
  if (!adminKey) throw new AdminCliError('BRIDGE_ADMIN_KEY (or BRIDGE_ADMIN_KEY_FILE) is not set');
  const functionKey = secret(env, 'BRIDGE_FUNCTION_KEY');
  return { url, adminKey, ...(functionKey ? { functionKey } : {}) };
}

export async function adminCall(
  conn: AdminConnection,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${conn.adminKey}` };
  if (conn.functionKey) headers['x-functions-key'] = conn.functionKey;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${conn.url}/api/v1/admin/${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    throw new AdminCliError(`cannot reach ${conn.url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new AdminCliError(`HTTP ${res.status} without JSON from ${conn.url} (is it the function app?)`);
  }
  if (!res.ok) {
    const e = json.error as { code?: string; message?: string; hint?: string } | undefined;
    if (res.status === 401 && !e)
      throw new AdminCliError(
        'HTTP 401 from the host: the function key is missing or wrong (BRIDGE_FUNCTION_KEY)',
      );
    throw new AdminCliError(
      e ? `${e.code}: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}` : `HTTP ${res.status} from the admin API`,
    );
  }
  return json;
}
