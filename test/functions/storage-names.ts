import { randomBytes } from 'node:crypto';

/** Table, container and queue names no other test file uses (one Azurite serves the whole run). */
export function uniqueStorageNames(prefix: string): { table: string; container: string; queue: string } {
  const tag = `${prefix.replace(/[^a-z0-9]/g, '').slice(0, 12)}${randomBytes(5).toString('hex')}`;
  return { table: `t${tag}`, container: `c-${tag}`, queue: `q-${tag}` };
}
