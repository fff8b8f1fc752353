import { randomBytes } from 'node:crypto';

/**
 * Spool ids are the idempotency key the function dedupes on, so they must never repeat: not after a restart
 * (no counter to lose), not between two listeners of one site (the instance name is part of the id), not
 * within one millisecond (80 random bits). They sort by receive time, which keeps directory listings and the
 * status page in order:
 *
 *   <10 chars: ms since epoch, base32>-<instance>-<16 chars: 80 random bits, base32>
 *
 * Lower-case Crockford base32 (no i, l, o, u) keeps them case-insensitive-safe for Windows file names and
 * inside core/envelope.ts MESSAGE_ID_PATTERN.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10; // 50 bits: enough for ms timestamps until the year 37000
const RANDOM_CHARS = 16; // 80 bits

export const SPOOL_ID_PATTERN =
  /^[0-9a-hjkmnp-tv-z]{10}-[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?-[0-9a-hjkmnp-tv-z]{16}$/;

function encodeTime(ms: number): string {
  let out = '';
  let n = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** Random bytes drawn from the CSPRNG a few thousand at a time: one call per message showed in profiles. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function takeRandom(n: number): Buffer {
  if (randomOffset + n > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + n);
  randomOffset += n;
  return bytes;
}

/** 80 random bits as 16 base32 characters: two 40-bit halves, each exact in a double. */
function encodeRandom(): string {
  const bytes = takeRandom(10);
  let out = '';
  for (const half of [0, 5]) {
    let n = 0;
    for (let i = half; i < half + 5; i++) n = n * 256 + bytes[i]!;
    let chars = '';
    for (let i = 0; i < RANDOM_CHARS / 2; i++) {
      chars = ALPHABET[n % 32]! + chars;
      n = Math.floor(n / 32);
    }
    out += chars;
  }
  return out;
}

export function newSpoolId(instanceId: string, nowMs: number = Date.now()): string {
  return `${encodeTime(nowMs)}-${instanceId}-${encodeRandom()}`;
}

/** The receive time encoded in an id, or undefined for something that is not a spool id. */
export function spoolIdTimeMs(id: string): number | undefined {
  if (!SPOOL_ID_PATTERN.test(id)) return undefined;
  let ms = 0;
  for (const ch of id.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}

export function isSpoolId(id: string): boolean {
  return SPOOL_ID_PATTERN.test(id);
}
