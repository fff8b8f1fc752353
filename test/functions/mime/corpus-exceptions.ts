import type { BridgeErrorCode } from '../../../core/errors';

/**
 * Corpus files where the plan legitimately differs from the reference reading (CPython's `email`), one entry
 * per file with the reason and the exact value the plan must have instead. Every other check still runs on
 * these files; only the named field is replaced. Everything not listed here must match the reference.
 */
export interface CorpusException {
  why: string;
  /** The file is refused with this code instead of planned. */
  rejected?: BridgeErrorCode;
  /** The subject the plan carries (the reference cannot decode it). */
  subject?: string;
  /** Attachment names by position (0-based, MIME order) where the two parsers decode the name differently. */
  names?: Record<number, string>;
  /** The complete attachment list the plan carries, where the reference sees a different part structure. */
  attachments?: Array<{ name: string; contentType: string; content: string }>;
}

const BOUNDARY_NEVER_OPENS =
  'The boundary parameter never opens a part, so every parser sees no parts and the content would be lost ' +
  'silently; the bridge refuses it instead (multipart-check.ts).';

export const CORPUS_EXCEPTIONS: Readonly<Record<string, CorpusException>> = {
  '8bit-garbage-hdr.eml': {
    why: `${BOUNDARY_NEVER_OPENS} Here boundary="--faf__fawf" but the part starts at "----fa**f__fawf".`,
    rejected: 'MIME_UNPARSEABLE',
  },
  'missing-boundary.eml': {
    why: `${BOUNDARY_NEVER_OPENS} Here the body "AAA" has no delimiter line at all.`,
    rejected: 'MIME_UNPARSEABLE',
  },
  'nul-malformed.eml': {
    why: `${BOUNDARY_NEVER_OPENS} Here boundary="--=_HsWzsKVZkho" while the parts use "----=_GlSzQZUbRbpVOpy".`,
    rejected: 'MIME_UNPARSEABLE',
  },
  'att-binary-cte.eml': {
    why:
      'The boundary parameter is unquoted although it contains "=" (RFC 2045 §5.1 requires quotes). The stdlib ' +
      'then finds no boundary and sees no parts; mailparser (like mail clients) reads the token and finds the JPEG.',
    attachments: [
      { name: '2013-08-13_19-08-28-1.jpg', contentType: 'image/jpeg', content: 'BINARY_CONTENT_GOES_HERE' },
    ],
  },
  'missing-subtype.eml': {
    why:
      'Content-Type "application-x-gzip" has no subtype. The stdlib falls back to text/plain (RFC 2045 §5.2) and ' +
      'shows the part as body text; mailparser keeps it as the named attachment, which loses nothing, and the ' +
      'bridge sends the invalid type as application/octet-stream.',
    attachments: [
      { name: 'document.xml.gz', contentType: 'application/octet-stream', content: 'blah blah blah\n' },
    ],
  },
  'hebrew-8859-8-i.eml': {
    why: 'The stdlib has no codec for iso-8859-8-i (logical-order Hebrew) and leaves U+FFFD; iconv-lite decodes it.',
    subject: "מענה 'אני לא נמצא': Invoice 02722027",
  },
  'jp-iso2022-qp.eml': {
    why:
      'The encoded word uses "№", which is in the Microsoft ISO-2022-JP extension (CP50220) but not in strict ' +
      'ISO-2022-JP; the stdlib codec refuses it and leaves the encoded word as is, iconv-lite decodes it.',
    subject: 'ЖД№41 от 28.09.2016',
  },
  'obsolete-syntax.eml': {
    why:
      'RFC 5322 §4.5 obsolete syntax "Subject :" (space before the colon): the stdlib reads a field named ' +
      '"Subject " and finds no subject; mailparser accepts the obsolete form, as RFC 5322 §4 asks readers to.',
    subject: 'The obsolete syntax allow spaces before the colon and also empty lines in folding.',
  },
  'subj-8bit-cp1252.eml': {
    why:
      'Raw 8-bit Windows-1252 bytes in Subject (no encoded word). The stdlib keeps them as undecodable bytes; the ' +
      'bridge repairs them as Windows-1252 (eight-bit-headers.ts).',
    subject: 'Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro',
  },
  'fn-evil-path.eml': {
    why:
      'The quoted filename contains RFC 2047 encoded words, which RFC 2047 §5 forbids inside quoted strings: the ' +
      'stdlib keeps them literally, mailparser decodes them (as most clients do). The path is then cut to its ' +
      'last segment and ":" made safe either way.',
    names: { 0: 'because_ofpath3d-compress.gif' },
  },
  'att-rfc2231-iso2022jp.eml': {
    why:
      'The RFC 2231 name holds the byte 0x8A, invalid in ISO-2022-JP: the stdlib turns it into U+FFFD, ' +
      'iconv-lite drops it.',
    names: { 0: '01 Quien Te Dijat. Pitbull.mp3' },
  },
  'outlook-express-octet.eml': {
    why:
      'The raw 8-bit name already holds U+FFFD replacement characters (it was broken before it reached the ' +
      'corpus); mailsplit then reads the name as Latin-1, the stdlib as UTF-8. Both are garbage; bytes and ' +
      'type still match.',
    names: { 0: 'ï¿½Â½ï¿½ ï¿½Ä±ï¿½ï¿½Äµï¿½.txt' },
  },
  'russian-koi8.eml': {
    why:
      'The name= parameter is an RFC 2047 encoded word, which RFC 2047 §5 does not allow in parameters: the ' +
      'stdlib ignores it (no name), mailparser decodes it like Outlook and Thunderbird do.',
    names: { 0: 'Список.doc' },
  },
  'att-2047-in-filename.eml': {
    why: 'Unquoted RFC 2047 encoded words in name=/filename= (see russian-koi8.eml): only mailparser decodes them.',
    names: { 0: 'This is a test.pdf' },
  },
};
