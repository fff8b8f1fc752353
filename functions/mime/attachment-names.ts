import { stripControlCharacters, truncateText } from './address';

/** Windows refuses these in file names, and recipients mostly save attachments on Windows. */
const UNSAFE_FILE_NAME_CHARACTERS = /[<>:"/\\|?*]/g;
/** NTFS and most file systems stop at 255 characters per name. */
export const MAX_ATTACHMENT_NAME_LENGTH = 255;

/** Extensions for generated names, by content type: what a recipient's system needs to open the file. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/tiff': 'tif',
  'image/bmp': 'bmp',
  'image/webp': 'webp',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/csv': 'csv',
  'text/xml': 'xml',
  'text/calendar': 'ics',
  'application/xml': 'xml',
  'application/json': 'json',
  'application/zip': 'zip',
  'application/gzip': 'gz',
  'application/x-gzip': 'gz',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/pkcs7-signature': 'p7s',
  'application/x-pkcs7-signature': 'p7s',
  'application/pkcs7-mime': 'p7m',
  'application/x-pkcs7-mime': 'p7m',
  'application/ms-tnef': 'dat',
  'audio/mpeg': 'mp3',
  'message/rfc822': 'eml',
  'message/global': 'eml',
  'message/disposition-notification': 'txt',
  'message/delivery-status': 'txt',
  'message/external-body': 'txt',
};

/** Content types that are a whole e-mail message: sent as an .eml file attachment. */
export function isEmbeddedMessage(contentType: string): boolean {
  return contentType === 'message/rfc822' || contentType === 'message/global';
}

/**
 * The name a recipient sees and saves. A name from the message is kept but made safe: only its last path
 * segment (names like `1234/../../1234.txt` or `C:\scans\a.pdf` exist in the wild), no control characters
 * (an encoded word can decode to a newline), no characters Windows refuses, at most 255 characters with the
 * extension kept. A part without a usable name gets `attachment-3.pdf`, `image-2.png` or `message-1.eml`
 * from its position and type. Embedded messages always end in `.eml` so that mail clients open them.
 */
export function attachmentName(filename: string | undefined, contentType: string, position: number): string {
  const extension = EXTENSIONS[contentType] ?? (contentType.startsWith('text/') ? 'txt' : 'bin');
  let name = cleanFileName(filename ?? '');
  if (name.length === 0) {
    const stem = isEmbeddedMessage(contentType)
      ? 'message'
      : contentType.startsWith('image/')
        ? 'image'
        : 'attachment';
    name = `${stem}-${position}.${extension}`;
  } else if (isEmbeddedMessage(contentType) && !name.toLowerCase().endsWith('.eml')) {
    name = `${name}.eml`;
  }
  return limitLength(name);
}

function cleanFileName(raw: string): string {
  const segments = stripControlCharacters(raw).split(/[/\\]/);
  return (segments[segments.length - 1] ?? '')
    .replace(UNSAFE_FILE_NAME_CHARACTERS, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+$/, ''); // "." and ".." are not names
}

/** Shortens the stem, never the extension, so the file still opens with the right program. */
function limitLength(name: string): string {
  const codePoints = Array.from(name);
  if (codePoints.length <= MAX_ATTACHMENT_NAME_LENGTH) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const stem = extension.length > 0 ? name.slice(0, dot) : name;
  return truncateText(stem, MAX_ATTACHMENT_NAME_LENGTH - Array.from(extension).length) + extension;
}
