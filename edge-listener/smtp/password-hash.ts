import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * SMTP AUTH passwords are stored as scrypt hashes (RFC 7914), never in clear:
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 * The format has no ':' or ',' so a user list can be written `name:hash,name2:hash2` in one variable.
 * `hashPassword` is what an admin tool uses to make an entry; the listener only verifies.
 */
const PREFIX = 'scrypt';
const DEFAULT_LOG_N = 14; // N = 16384: ~50 ms and 16 MiB per check on a small machine
const R = 8;
const P = 1;
const KEY_BYTES = 32;
export const PASSWORD_HASH_PATTERN =
  /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export function parsePasswordHash(text: string): ParsedHash | undefined {
  const m = PASSWORD_HASH_PATTERN.exec(text);
  if (!m) return undefined;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a typo in the config from making every AUTH take seconds or gigabytes.
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { logN, r, p, salt: Buffer.from(m[4]!, 'base64url'), hash: Buffer.from(m[5]!, 'base64url') };
}

function derive(password: string, h: Omit<ParsedHash, 'hash'>, keyBytes: number): Promise<Buffer> {
  const N = 2 ** h.logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      h.salt,
      keyBytes,
      { N, r: h.r, p: h.p, maxmem: 256 * N * h.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string, logN = DEFAULT_LOG_N): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, { logN, r: R, p: P, salt }, KEY_BYTES);
  return [PREFIX, logN, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parsePasswordHash(stored);
  if (!h) return false;
  const key = await derive(password, h, h.hash.length);
  return key.length === h.hash.length && timingSafeEqual(key, h.hash);
}

/** A hash of a random password: checked for unknown user names so their answer takes as long as a real one. */
export const DUMMY_PASSWORD_HASH = `scrypt$${DEFAULT_LOG_N}$${R}$${P}$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`;
