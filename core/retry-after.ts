/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `nowMs`: the one reading of the field on both sides (the
 * edge reads it on the function's answers, the function on Graph's).
 *
 * The field is `HTTP-date / delay-seconds` with delay-seconds = 1*DIGIT. Anything else — "1.5", "-5", "1e3",
 * an empty or unreadable value, a delay too large to count in milliseconds — is not a Retry-After and gives
 * undefined, so the caller's own backoff applies. An HTTP-date is IMF-fixdate or one of the two obsolete forms a
 * recipient must still accept (RFC 9110 §5.6.7), always in GMT; a date in the past gives 0 (retry now).
 * Date.parse is not used alone because it reads "1.5" and "-5" as days in 2001 and asctime as local time.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const ms = Number(v) * 1000;
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const at = parseHttpDate(v, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** Sun, 06 Nov 1994 08:49:37 GMT */
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Sunday, 06-Nov-94 08:49:37 GMT */
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
/** Sun Nov  6 08:49:37 1994 */
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** An HTTP-date (RFC 9110 §5.6.7) as epoch ms, or undefined. The day name is not checked against the date. */
export function parseHttpDate(value: string, nowMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(value);
  if (m) return utc(fullYear(Number(m[3]), nowMs), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(Number(m[6]), m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
  return undefined;
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the latest past year with those digits. */
function fullYear(twoDigits: number, nowMs: number): number {
  const thisYear = new Date(nowMs).getUTCFullYear();
  let year = thisYear - (thisYear % 100) + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function utc(
  year: number,
  month: string,
  day: string,
  h: string,
  min: string,
  s: string,
): number | undefined {
  const [d, hh, mm, ss] = [Number(day), Number(h), Number(min), Number(s)];
  // second 60 is a leap second (RFC 5322 §3.3): counted as the first second of the next minute.
  if (hh > 23 || mm > 59 || ss > 60) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, MONTHS.indexOf(month), d); // not Date.UTC: it reads years 0–99 as 1900–1999
  if (date.getUTCDate() !== d) return undefined; // 31 Feb would roll into March: no such day
  return date.getTime() + ((hh * 60 + mm) * 60 + ss) * 1000;
}
