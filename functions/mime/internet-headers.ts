import type { Importance, InternetMessageHeader } from '@microsoft/microsoft-graph-types';
import type { HeaderLines, Headers } from 'mailparser';

import { stripControlCharacters, truncateText } from './address';

/**
 * Graph refuses more than five internetMessageHeaders on one message (400 InvalidInternetMessageHeaderCollection,
 * "should be less or equal to 5": microsoftgraph/msgraph-sdk-dotnet#2208, tombruton87/freescout-mail365#7),
 * and an empty collection too — so at most five are sent, and the property is left out when there are none.
 */
export const MAX_INTERNET_MESSAGE_HEADERS = 5;
/** RFC 5322 §2.1.1 line limit, less room for the name: a value longer than this is cut, not folded by us. */
export const MAX_INTERNET_HEADER_VALUE_LENGTH = 900;

/** Graph accepts only names starting with x-/X- (400 InvalidInternetMessageHeader otherwise, docs/design/platform-facts.md §A1). */
const X_HEADER_NAME = /^x-[\x21-\x39\x3b-\x7e]+$/i;

/**
 * X- headers not copied, because with only five slots the device's own headers (X-Mailer, job ids) matter more:
 * priority headers become Graph `importance` instead; trace, spam-filter and Exchange-internal headers describe
 * earlier hops, not this submission, and Exchange treats incoming X-MS-Exchange-* as untrusted anyway.
 */
const SKIPPED_X_HEADER =
  /^x-(priority|msmail-priority|ms-|microsoft-|forefront-|originating-ip|received|spam|virus|google-|gm-)/i;

/** The first five distinct X- headers of the message, in message order, unfolded and cleaned. */
export function internetMessageHeaders(headerLines: HeaderLines): InternetMessageHeader[] {
  const out: InternetMessageHeader[] = [];
  const seen = new Set<string>();
  for (const { line } of headerLines) {
    if (out.length >= MAX_INTERNET_MESSAGE_HEADERS) break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!X_HEADER_NAME.test(name) || SKIPPED_X_HEADER.test(name) || seen.has(name.toLowerCase())) continue;
    const value = stripControlCharacters(line.slice(colon + 1))
      .replace(/\s+/g, ' ')
      .trim();
    if (value.length === 0) continue;
    seen.add(name.toLowerCase());
    out.push({ name, value: truncateText(value, MAX_INTERNET_HEADER_VALUE_LENGTH) });
  }
  return out;
}

/**
 * Graph importance from Importance / Priority / X-Priority / X-MSMail-Priority, which mailparser folds into
 * one `priority` of high|normal|low. Undefined when the message states none (Graph's default is normal).
 */
export function importanceOf(headers: Headers): Importance | undefined {
  const priority = headers.get('priority');
  return priority === 'high' || priority === 'low' || priority === 'normal' ? priority : undefined;
}
